"""Each projection test owns its topics (a prefix) and its Postgres schemas (a stem)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.projections import postgres
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout


@pytest.fixture
def own(
    settings: Settings, kafka_bootstrap: str, postgres_dsn: str, unique_name: str, tmp_path: Path
) -> Iterator[Settings]:
    """Settings with this test's topics (created) and live schema; schemas dropped after."""
    stem = unique_name.replace("-", "_")
    mine = settings.updated(
        kafka__topic_prefix=f"{unique_name}.",
        postgres__projections_schema=stem,
        postgres__projector_group_id=unique_name,
        postgres__projector_batch_size=500,
        stack__dir=tmp_path,
    )
    create_topics(kafka_connection(mine), topic_layout(mine))
    yield mine
    with postgres.connect(postgres_dsn) as conn:
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"{stem}%",)
        ).fetchall()
        for (schema,) in schemas:
            postgres.drop_schema(conn, schema)
