"""The overview's set-based questions answer what the data_items view answers.

The overview counts items by state and finds the oldest waiting one without the view's
per-item subquery (``adapters.console_queries``); on a projected story with failures,
drops, repacks and items still waiting, both ways must agree row for row.
"""

from pathlib import Path

import psycopg
import pytest
from console_harness import console_settings, drop_schemas, project_all
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from bench.event_story import b64id, produce, story
from bundlestream.adapters.console_queries import ConsoleQueries
from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.wiring import kafka_connection, topic_layout

pytestmark = pytest.mark.stack

BUNDLES, ITEMS = 12, 10


def view_answers(dsn: str, schema: str) -> tuple[dict[str, int], list[tuple[object, ...]]]:
    view = sql.Identifier(schema, "data_items")
    with psycopg.connect(dsn) as conn:
        counts = conn.execute(
            sql.SQL("SELECT state, count(*) FROM {} GROUP BY state").format(view)
        ).fetchall()
        oldest = conn.execute(
            sql.SQL(
                "SELECT data_item_id, owner_address, uploaded_at FROM {} "
                "WHERE state = 'new' ORDER BY uploaded_at LIMIT 1"
            ).format(view)
        ).fetchall()
    return {state: n for state, n in counts}, oldest


async def test_counts_by_state_and_the_oldest_waiting_item_agree_with_the_view(
    tmp_path: Path,
) -> None:
    settings = console_settings(tmp_path)
    create_topics(kafka_connection(settings), topic_layout(settings))
    # The last bundle is never planned, and the dropped one (the 10th: story's
    # drop_every) never replanned: the items of both wait (state "new"), the dropped
    # bundle's in a plan that no longer counts.
    unplanned = {b64id("plan", BUNDLES - 1), b64id("replan", 9)}
    events = [
        e for e in story(BUNDLES, ITEMS) if getattr(e.event, "plan_id", None) not in unplanned
    ]
    produce(settings, events)
    project_all(settings)
    dsn, schema = settings.postgres.dsn.get_secret_value(), settings.postgres.projections_schema
    try:
        counts, oldest = view_answers(dsn, schema)
        async with AsyncConnectionPool(dsn, open=False, kwargs={"prepare_threshold": None}) as pool:
            queries = ConsoleQueries(pool, schema)
            assert await queries.counts("items_by_state") == counts
            found = await queries.rows("oldest_waiting")
        assert [tuple(row.values()) for row in found] == oldest
        assert counts["new"] == 2 * ITEMS - 1 and counts["failed"] == 1 and counts["permanent"] > 0
    finally:
        drop_schemas(settings)
