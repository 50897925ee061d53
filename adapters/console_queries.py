"""Read queries of the operator console on the projections (Postgres read models).

Rows come back by column name (``dict_row``). Time windows take ``now`` from the caller.
Statements are not prepared server-side (the pool's ``prepare_threshold=None``), so a
rebuilt schema swapped in is read by the next query.
"""

from datetime import datetime, timedelta
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

Row = dict[str, Any]

_LIST_LIMIT = 50
_QUERIES = {
    "items_by_state": "SELECT state, count(*) AS n FROM {s}.data_items GROUP BY state",
    "bundles_by_state": "SELECT state, count(*) AS n FROM {s}.bundles GROUP BY state",
    "received_total": "SELECT count(*) AS n FROM {s}.received_items",
    "received_per_minute": """
        SELECT date_trunc('minute', received_at) AS minute, count(*) AS n
        FROM {s}.received_items WHERE received_at >= %s GROUP BY 1 ORDER BY 1""",
    "oldest_waiting": """
        SELECT data_item_id, owner_address, uploaded_at FROM {s}.data_items
        WHERE state = 'new' ORDER BY uploaded_at LIMIT 1""",
    "failed_items": f"""
        SELECT data_item_id, owner_address, reason, failed_bundles, last_plan_id, failed_at
        FROM {{s}}.failed_items ORDER BY failed_at DESC LIMIT {_LIST_LIMIT}""",
    "dropped_bundles": f"""
        SELECT plan_id, bundle_id, reason, last_checked_height, dropped_at
        FROM {{s}}.bundle_drops ORDER BY dropped_at DESC LIMIT {_LIST_LIMIT}""",
    "repacked_items": f"""
        SELECT plan_id, data_item_id, owner_address, failed_bundles, repacked_at
        FROM {{s}}.repacked_items ORDER BY repacked_at DESC LIMIT {_LIST_LIMIT}""",
    "item": "SELECT * FROM {s}.data_items WHERE data_item_id = %s",
    "item_offsets": """
        SELECT * FROM {s}.item_offsets WHERE data_item_id = %s ORDER BY recorded_at""",
    "item_plans": "SELECT plan_id FROM {s}.planned_items WHERE data_item_id = %s",
    "bundle": "SELECT * FROM {s}.bundles WHERE bundle_id = %s OR plan_id = %s",
    "owner_items": f"""
        SELECT data_item_id, state, bundle_id, byte_count, uploaded_at FROM {{s}}.data_items
        WHERE owner_address = %s ORDER BY uploaded_at DESC LIMIT {_LIST_LIMIT}""",
}


class ConsoleQueries:
    """The console's questions to the read models of one schema."""

    def __init__(self, pool: AsyncConnectionPool, schema: str) -> None:
        self._pool = pool
        self._sql = {
            name: sql.SQL(text).format(s=sql.Identifier(schema)) for name, text in _QUERIES.items()
        }

    async def rows(self, name: str, *params: object) -> list[Row]:
        """The rows of the named query of ``_QUERIES``."""
        async with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute(self._sql[name], params)
            return await cursor.fetchall()

    async def counts(self, name: str) -> dict[str, int]:
        """A ``state, n`` query as state → count."""
        return {row["state"]: int(row["n"]) for row in await self.rows(name)}

    async def received_per_minute(self, now: datetime) -> list[tuple[datetime, int]]:
        """Uploads received in each minute of the hour before ``now`` (empty minutes: 0)."""
        start = (now - timedelta(hours=1)).replace(second=0, microsecond=0)
        found = {
            row["minute"]: int(row["n"]) for row in await self.rows("received_per_minute", start)
        }
        minutes = [start + timedelta(minutes=i) for i in range(61)]
        return [(minute, found.get(minute, 0)) for minute in minutes]

    async def bundle(self, bundle_or_plan_id: str) -> list[Row]:
        """The bundle whose transaction id or plan id this is."""
        return await self.rows("bundle", bundle_or_plan_id, bundle_or_plan_id)
