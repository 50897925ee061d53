"""Operator accounts of the console: names and argon2id hashes in a Postgres table.

The table lives in a schema of its own (``console_schema``), not in the projections: a
projections schema is rebuilt from the log and swapped in whole, and accounts are not
facts of the log (a password hash has no business in an event topic either). The table
is created here with ``CREATE TABLE IF NOT EXISTS``: one table, no history to migrate.
Hashing follows RFC 9106 through argon2-cffi's defaults (argon2id).
"""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg import Connection, sql
from psycopg_pool import AsyncConnectionPool

_CREATE = """
    CREATE SCHEMA IF NOT EXISTS {s};
    CREATE TABLE IF NOT EXISTS {s}.operators (
        name text PRIMARY KEY,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )
"""
_UPSERT = """
    INSERT INTO {s}.operators (name, password_hash) VALUES (%s, %s)
    ON CONFLICT (name) DO UPDATE SET password_hash = EXCLUDED.password_hash
"""
_HASH_OF = "SELECT password_hash FROM {s}.operators WHERE name = %s"

_HASHER = PasswordHasher()
# Verified when the name is unknown, so that a wrong name costs as long as a wrong password.
_DECOY_HASH = _HASHER.hash("not a password of anyone")


def create_accounts_table(conn: Connection[object], schema: str) -> None:
    """Create the schema and its ``operators`` table when absent."""
    with conn.transaction():
        conn.execute(sql.SQL(_CREATE).format(s=sql.Identifier(schema)))


def add_operator(conn: Connection[object], schema: str, name: str, password: str) -> None:
    """Create the account ``name``, or set its password when it exists."""
    create_accounts_table(conn, schema)
    with conn.transaction():
        query = sql.SQL(_UPSERT).format(s=sql.Identifier(schema))
        conn.execute(query, (name, _HASHER.hash(password)))


class OperatorAccounts:
    """Password checks against the accounts table of one schema."""

    def __init__(self, pool: AsyncConnectionPool, schema: str) -> None:
        self._pool = pool
        self._hash_of = sql.SQL(_HASH_OF).format(s=sql.Identifier(schema))

    async def verify(self, name: str, password: str) -> bool:
        """True when ``name`` exists and ``password`` is its password."""
        async with self._pool.connection() as conn:
            row = await (await conn.execute(self._hash_of, (name,))).fetchone()
        stored = str(row[0]) if row is not None else _DECOY_HASH
        try:
            return _HASHER.verify(stored, password) and row is not None
        except (VerificationError, InvalidHashError):
            return False
