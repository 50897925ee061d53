"""Read adapter of the projections for the API: an item's status and its offsets.

Async, on a psycopg pool opened in the API's lifespan. Statements are not prepared
server-side, so after a rebuild is swapped in the next query reads the new schema.
Postgres errors become ProjectionsUnavailable: the API then falls back to its
fresh-receipt view instead of failing.
"""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

_POOL_TIMEOUT_S = 2.0


class ProjectionsUnavailable(Exception):
    """Postgres did not answer."""


@dataclass(frozen=True)
class ItemStatus:
    """An item as the ``data_items`` view has it."""

    state: str  # new, planned, permanent, failed
    bundle_id: str | None
    winc: str
    failed_reason: str | None
    byte_count: int
    payload_start: int
    content_type: str | None


@dataclass(frozen=True)
class ItemOffsets:
    """Where an item lies in the root bundle that carries it now (not a dropped one)."""

    root_bundle_id: str
    start_offset_in_root_bundle: int
    raw_content_length: int
    payload_data_start: int
    payload_content_type: str | None
    parent_data_item_id: str | None
    start_offset_in_parent_payload: int | None


_STATUS = """
    SELECT state, bundle_id, winc::text, failed_reason, byte_count, payload_start, content_type
    FROM {}.data_items WHERE data_item_id = %s
"""
_OFFSETS = """
    SELECT o.root_bundle_id, o.start_offset_in_root_bundle, o.raw_content_length,
           o.payload_data_start, o.payload_content_type, o.parent_data_item_id,
           o.start_offset_in_parent_payload
    FROM {s}.item_offsets o
    WHERE o.data_item_id = %s
      AND NOT EXISTS (SELECT 1 FROM {s}.bundle_drops d WHERE d.plan_id = o.plan_id)
    ORDER BY o.recorded_at DESC
    LIMIT 1
"""


class ProjectionQueries:
    """The API's questions to the read models of one schema."""

    def __init__(self, pool: AsyncConnectionPool, schema: str) -> None:
        self._pool = pool
        self._status = sql.SQL(_STATUS).format(sql.Identifier(schema))
        self._offsets = sql.SQL(_OFFSETS).format(s=sql.Identifier(schema))

    async def item_status(self, item_id: str) -> ItemStatus | None:
        """The item's state and facts, or None when no projection has it (yet)."""
        row = await self._one(self._status, item_id)
        return None if row is None else ItemStatus(*row)

    async def item_offsets(self, item_id: str) -> ItemOffsets | None:
        """Offsets of the item (nested items too), or None when none are recorded."""
        row = await self._one(self._offsets, item_id)
        return None if row is None else ItemOffsets(*row)

    async def _one(self, query: sql.Composed, item_id: str) -> tuple[Any, ...] | None:
        try:
            async with self._pool.connection(timeout=_POOL_TIMEOUT_S) as conn:
                cursor = await conn.execute(query, (item_id,))
                return await cursor.fetchone()
        except (psycopg.Error, TimeoutError) as exc:
            raise ProjectionsUnavailable(str(exc)) from exc


@contextlib.asynccontextmanager
async def lazy_pool(dsn: str, max_size: int) -> AsyncIterator[AsyncConnectionPool]:
    """A pool for the lifespan of the API that connects lazily (Postgres may be down);
    statements are not prepared server-side, so a swapped-in rebuild is read at once."""
    pool = AsyncConnectionPool(
        dsn,
        min_size=1,
        max_size=max_size,
        open=False,
        kwargs={"prepare_threshold": None, "autocommit": True},
    )
    await pool.open(wait=False)
    try:
        yield pool
    finally:
        await pool.close()


@contextlib.asynccontextmanager
async def open_projection_queries(dsn: str, schema: str) -> AsyncIterator[ProjectionQueries]:
    """The status and offsets reads, on their own pool."""
    async with lazy_pool(dsn, max_size=8) as pool:
        yield ProjectionQueries(pool, schema)
