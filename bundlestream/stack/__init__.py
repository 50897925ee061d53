"""The local stack: real Kafka, Postgres, Redis, S3 server, arlocal, run as detached processes.

Every service keeps its data, log and pid file under ``Settings.stack.dir`` and listens on
the ports the settings name, so two stacks with different settings can run side by side.
"""
