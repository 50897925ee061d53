"""Read adapter of the ledger projections for the API: one account's balance and approvals.

Async, on a psycopg pool opened in the API's lifespan, statements not prepared
server-side (a swapped-in rebuild is read at once). Errors become LedgerUnavailable.
"""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from bundlestream.adapters.projection_queries import lazy_pool

_POOL_TIMEOUT_S = 2.0
_BALANCE = "SELECT winc::text FROM {}.ledger_balances WHERE address = %s"
_APPROVALS = """
    SELECT approval_id, paying_address, approved_address, approved_winc::text,
           used_winc::text, created_at, expires_at
    FROM {}.approvals
    WHERE status = 'active' AND (expires_at IS NULL OR expires_at > now())
      AND (paying_address = %s OR approved_address = %s)
    ORDER BY created_at, approval_id
"""


class LedgerUnavailable(Exception):
    """Postgres did not answer."""


@dataclass(frozen=True)
class ApprovalRow:
    approval_id: str
    paying_address: str
    approved_address: str
    approved_winc: str
    used_winc: str
    created_at: object
    expires_at: object


class LedgerQueries:
    """The balance questions of one projections schema."""

    def __init__(self, pool: AsyncConnectionPool, schema: str) -> None:
        self._pool = pool
        self._balance = sql.SQL(_BALANCE).format(sql.Identifier(schema))
        self._approvals = sql.SQL(_APPROVALS).format(sql.Identifier(schema))

    async def balance(self, address: str) -> int | None:
        """The projected balance, None for an address the journal never mentions."""
        try:
            async with self._pool.connection(timeout=_POOL_TIMEOUT_S) as conn:
                row = await (await conn.execute(self._balance, (address,))).fetchone()
        except (psycopg.Error, TimeoutError) as exc:
            raise LedgerUnavailable(str(exc)) from exc
        return None if row is None else int(row[0])

    async def approvals(self, address: str) -> list[ApprovalRow]:
        """Live approvals given or received by ``address``, oldest first."""
        try:
            async with self._pool.connection(timeout=_POOL_TIMEOUT_S) as conn:
                cursor = await conn.execute(self._approvals, (address, address))
                rows = await cursor.fetchall()
        except (psycopg.Error, TimeoutError) as exc:
            raise LedgerUnavailable(str(exc)) from exc
        return [ApprovalRow(*row) for row in rows]


@contextlib.asynccontextmanager
async def open_ledger_queries(dsn: str, schema: str) -> AsyncIterator[LedgerQueries]:
    """The ledger's reads, on their own pool."""
    async with lazy_pool(dsn, max_size=4) as pool:
        yield LedgerQueries(pool, schema)
