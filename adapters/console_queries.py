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
# Every received item's state, as the data_items view derives it (failed, permanent,
# planned in its newest plan not dropped, else new), for every item at once. The view
# finds an item's plan with a lateral subquery, right for one item's status; a count
# over all items then runs that subquery once per row (EXPLAIN: a nested loop of 3,000
# sorts, 310 ms for 3,000 items). Here one hash join serves every item. OFFSET 0 keeps
# the outer filter and LIMIT out of it: planned under the LIMIT of the oldest waiting
# item, on tables not analysed yet (a fresh rebuild), the planner chose a nested-loop
# anti-join over the live plans, 4.5 million comparisons for 3,000 items (3.3 s).
_ITEM_STATES = """(
    WITH live AS (
        SELECT DISTINCT ON (pi.data_item_id) pi.data_item_id, b.permanent_at
        FROM {s}.planned_items pi JOIN {s}.bundles b ON b.plan_id = pi.plan_id
        WHERE b.state <> 'dropped'
        ORDER BY pi.data_item_id, b.planned_at DESC, b.plan_id DESC
    )
    SELECT r.data_item_id, r.owner_address, r.received_at,
        CASE
            WHEN f.data_item_id IS NOT NULL THEN 'failed'
            WHEN l.permanent_at IS NOT NULL THEN 'permanent'
            WHEN l.data_item_id IS NOT NULL THEN 'planned'
            ELSE 'new'
        END AS state
    FROM {s}.received_items r
    LEFT JOIN live l ON l.data_item_id = r.data_item_id
    LEFT JOIN {s}.failed_items f ON f.data_item_id = r.data_item_id
    OFFSET 0
) item_states"""
ITEMS_BY_STATE = f"SELECT state, count(*) AS n FROM {_ITEM_STATES} GROUP BY state"
# The oldest received item in no live bundle and not failed (state "new").
OLDEST_NEW_ITEM = f"""
    SELECT data_item_id, owner_address, received_at AS uploaded_at FROM {_ITEM_STATES}
    WHERE state = 'new' ORDER BY received_at LIMIT 1"""
_QUERIES = {
    "items_by_state": ITEMS_BY_STATE,
    "bundles_by_state": "SELECT state, count(*) AS n FROM {s}.bundles GROUP BY state",
    "received_total": "SELECT count(*) AS n FROM {s}.received_items",
    "received_per_minute": """
        SELECT date_trunc('minute', received_at) AS minute, count(*) AS n
        FROM {s}.received_items WHERE received_at >= %s GROUP BY 1 ORDER BY 1""",
    "oldest_waiting": OLDEST_NEW_ITEM,
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
