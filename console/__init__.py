"""The operator console: a small Starlette app on its own port, behind a login.

Built from the projections (Postgres read models) and the log (read by explicit
assignment), never from worker internals. docs/console.md describes it.
"""
