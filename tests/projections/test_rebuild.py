"""A rebuild from offset 0 gives the same tables as the live projection (real Kafka, Postgres)."""

import logging
import time
from collections import Counter

import pytest

from bench.event_story import keyed, produce, story
from bench.ledger_story import ledger_story
from bundlestream.core.ledger import fold
from bundlestream.projections import postgres
from bundlestream.projections.check import compare_schemas
from bundlestream.projections.migrator import migrate
from bundlestream.projections.projector import Projector, projected_topics
from bundlestream.projections.rebuild import Progress, rebuild, remaining, replay_into
from bundlestream.projections.tables import FACT_TABLES
from bundlestream.settings import Settings
from tests.bounds import CONDITION_S

pytestmark = pytest.mark.stack

DEADLINE_S = CONDITION_S


def project_to_end(projector: Projector) -> None:
    """Run ``projector`` until it has consumed everything in the log now."""
    targets = projector.end_offsets()
    positions: postgres.Offsets = {}
    deadline = time.monotonic() + DEADLINE_S
    while remaining(targets, positions) > 0:
        assert time.monotonic() < deadline, f"projector stuck at {positions} of {targets}"
        batch = projector.project_batch()
        if batch is not None:
            positions = batch.positions


def live_projector(settings: Settings) -> Projector:
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        migrate(conn, settings.postgres.projections_schema)
    projector = Projector(
        settings, settings.postgres.projections_schema, settings.postgres.projector_group_id
    )
    projector.start()
    return projector


def differences(settings: Settings, left: str, right: str) -> list[str]:
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        return [
            f"{c.relation}: {c.left} != {c.right}"
            for c in compare_schemas(conn, left, right)
            if not c.equal
        ]


def states(settings: Settings, schema: str, view: str) -> dict[str, int]:
    column = "status" if view == "approvals" else "state"
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        query = f'SELECT {column}, count(*) FROM "{schema}".{view} GROUP BY {column}'
        return {state: count for state, count in conn.execute(query).fetchall()}


def balances(settings: Settings, schema: str) -> dict[str, int]:
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        rows = conn.execute(
            f'SELECT address, winc FROM "{schema}".ledger_balances WHERE winc <> 0'
        ).fetchall()
    return {address: int(winc) for address, winc in rows}


def indexes(settings: Settings, schema: str) -> list[tuple[str, str]]:
    """(index name, definition without the schema name) of every index of ``schema``."""
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        rows = conn.execute(
            "SELECT indexname, replace(indexdef, schemaname || '.', '') FROM pg_indexes"
            " WHERE schemaname = %s ORDER BY indexname",
            (schema,),
        ).fetchall()
    assert len(rows) > len(FACT_TABLES)  # keys and the secondary indexes
    return [(name, definition) for name, definition in rows]


def ignore(progress: Progress) -> None:
    pass


def test_a_rebuild_swapped_in_equals_the_live_projection_and_the_projector_carries_on(
    own: Settings,
) -> None:
    produce(own, story(bundles=20, items_per_bundle=30))
    ledger_log = list(ledger_story(accounts=9, rounds=12))
    produce(own, map(keyed, ledger_log))
    projector = live_projector(own)
    try:
        project_to_end(projector)
        swapped = rebuild(own, ignore, processes=2)
        assert swapped.retired is not None
        assert differences(own, own.postgres.projections_schema, swapped.retired) == []
        # The bulk load restored every key and index the migrations create.
        assert indexes(own, own.postgres.projections_schema) == indexes(own, swapped.retired)

        # The swapped-in schema is live: the running projector goes on writing there.
        produce(own, story(bundles=30, items_per_bundle=30))  # 10 more bundles, same ids first
        project_to_end(projector)
    finally:
        projector.close()
    # Every event of the first 20 bundles is in the log twice, across batches: the bulk
    # load's first-row-wins deduplication must agree with the live ON CONFLICT DO NOTHING.
    replay = f"{own.postgres.projections_schema}_replay"
    replay_into(own, replay, ignore, bulk=True)
    assert differences(own, own.postgres.projections_schema, replay) == []
    # 30 bundles of 30 items; bundles 9, 19, 29 dropped, their first items failed.
    assert states(own, own.postgres.projections_schema, "data_items") == {
        "permanent": 897,
        "failed": 3,
    }
    assert states(own, own.postgres.projections_schema, "bundles") == {
        "permanent": 30,
        "dropped": 3,
    }
    # The ledger's views are the core's fold of the same log.
    assert balances(own, own.postgres.projections_schema) == {
        a: w for a, w in fold(ledger_log).balances.items() if w
    }
    assert set(states(own, own.postgres.projections_schema, "approvals").items()) <= {
        (status, n)
        for status, n in Counter(a.status for a in fold(ledger_log).approvals.values()).items()
    }


def test_check_reports_a_schema_that_lost_a_row(own: Settings) -> None:
    produce(own, story(bundles=3, items_per_bundle=10))
    replay_into(own, own.postgres.projections_schema, ignore)
    other = f"{own.postgres.projections_schema}_other"
    replay_into(own, other, ignore)
    assert differences(own, own.postgres.projections_schema, other) == []
    with postgres.connect(own.postgres.dsn.get_secret_value()) as conn:
        conn.execute(f'DELETE FROM "{other}".item_offsets WHERE parent_data_item_id IS NOT NULL')
    assert [d.split(":")[0] for d in differences(own, own.postgres.projections_schema, other)] == [
        "item_offsets"
    ]


def test_two_projectors_on_one_schema_follow_the_tracking_rows_not_their_consumers(
    own: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Each batch checks the offsets in Postgres: a writer that fell behind another (or a
    schema swapped in under it) writes nothing and seeks to them; no row is lost."""
    caplog.set_level(logging.INFO, logger="bundlestream.projections.projector")
    produce(own, story(bundles=10, items_per_bundle=30))
    with postgres.connect(own.postgres.dsn.get_secret_value()) as conn:
        migrate(conn, own.postgres.projections_schema)
    # Both take their positions from Postgres before either writes. Subscribed, each
    # would take them only when its group assigns it partitions, and a second writer
    # assigned after the first's batch would start from there and never fall behind.
    first = Projector(own, own.postgres.projections_schema, own.postgres.projector_group_id)
    second = Projector(
        own, own.postgres.projections_schema, f"{own.postgres.projector_group_id}-second"
    )
    first.assign(projected_topics(own))
    second.assign(projected_topics(own))
    try:
        targets = first.end_offsets()
        deadline = time.monotonic() + DEADLINE_S
        tracked: postgres.Offsets = {}
        while remaining(targets, tracked) > 0:
            assert time.monotonic() < deadline, "projectors did not finish"
            first.project_batch()
            second.project_batch()
            with postgres.connect(own.postgres.dsn.get_secret_value()) as conn:
                tracked = postgres.tracked_offsets(conn, own.postgres.projections_schema)
    finally:
        first.close()
        second.close()
    replay = f"{own.postgres.projections_schema}_replay"
    replay_into(own, replay, ignore)
    assert differences(own, own.postgres.projections_schema, replay) == []
    assert states(own, own.postgres.projections_schema, "data_items") == {
        "permanent": 299,
        "failed": 1,
    }
    assert any("rewinding" in r.getMessage() for r in caplog.records), "no writer fell behind"
