"""``bundlestream ledger credit|balance|history`` against the real broker and Postgres."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.projections import postgres
from bundlestream.projections.migrator import migrate
from bundlestream.projections.projector import Projector
from bundlestream.projections.rebuild import remaining
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout

pytestmark = pytest.mark.stack
ADDRESS = "8wgRDgvYOrtzaNhQIt8zbbeUAGhAyw6R5LRqCTaKzFk"


@pytest.fixture
def own(
    settings: Settings, kafka_bootstrap: str, postgres_dsn: str, unique_name: str
) -> Iterator[Settings]:
    stem = unique_name.replace("-", "_")
    mine = settings.updated(
        kafka__topic_prefix=f"{unique_name}.",
        postgres__projections_schema=stem,
        postgres__projector_group_id=unique_name,
    )
    create_topics(kafka_connection(mine), topic_layout(mine))
    with postgres.connect(postgres_dsn) as conn:
        migrate(conn, stem)
    yield mine
    with postgres.connect(postgres_dsn) as conn:
        postgres.drop_schema(conn, stem)


def ledger(settings: Settings, *argv: str) -> tuple[int, list[dict[str, object]]]:
    """Run the real console entry point in its own process, settings from the environment."""
    env = {
        **os.environ,
        "BUNDLESTREAM_TOPIC_PREFIX": settings.kafka.topic_prefix,
        "BUNDLESTREAM_PROJECTIONS_SCHEMA": settings.postgres.projections_schema,
        "BUNDLESTREAM_KAFKA_BOOTSTRAP": settings.kafka.bootstrap,
        "BUNDLESTREAM_POSTGRES_DSN": settings.postgres.dsn.get_secret_value(),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bundlestream.cli", "ledger", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def project_all(settings: Settings) -> None:
    projector = Projector(
        settings, settings.postgres.projections_schema, settings.postgres.projector_group_id
    )
    try:
        projector.start()
        targets, positions = projector.end_offsets(), {}
        deadline = time.monotonic() + 120
        while remaining(targets, positions) > 0:
            assert time.monotonic() < deadline, "projector stuck"
            batch = projector.project_batch()
            if batch is not None:
                positions = batch.positions
    finally:
        projector.close()


def test_a_credit_is_an_event_that_the_balance_and_history_then_show(own: Settings) -> None:
    assert ledger(own, "balance", ADDRESS) == (
        1,
        [{"address": ADDRESS, "error": "unknown address"}],
    )
    status, [first] = ledger(own, "credit", ADDRESS, "1500", "--reason", "goodwill")
    assert status == 0 and first["winc"] == "1500"
    assert (
        ledger(own, "credit", ADDRESS, "250", "--reason", "again", "--credit-id", "operator:k1")[0]
        == 0
    )
    # The same idempotency key again: written to the log, applied once.
    assert (
        ledger(own, "credit", ADDRESS, "250", "--reason", "again", "--credit-id", "operator:k1")[0]
        == 0
    )
    project_all(own)
    status, [balance] = ledger(own, "balance", ADDRESS)
    assert (status, balance["winc"], balance["changes"]) == (0, "1750", 2)
    status, history = ledger(own, "history", ADDRESS)
    assert [(h["winc"], h["reason"], h["cause"]) for h in history] == [
        ("1500", "operator", "BalanceCredited"),
        ("250", "operator", "BalanceCredited"),
    ]
    assert history[0]["causeId"] == first["creditId"]


def test_a_credit_of_nothing_is_refused_before_anything_is_written(own: Settings) -> None:
    assert ledger(own, "credit", ADDRESS, "0", "--reason", "x") == (
        2,
        [{"error": "a credit must be > 0 winc, not 0", "rule": "non-positive-credit"}],
    )
    status, _ = ledger(own, "credit", ADDRESS, "12.5", "--reason", "x")
    assert status == 2  # argparse: not a whole number
