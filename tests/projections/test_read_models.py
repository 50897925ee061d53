"""The read models' code against their contract: examples, migrations and tables agree."""

import pytest

from bundlestream.projections import postgres
from bundlestream.projections.migrator import migrate, migrations
from bundlestream.projections.projection import EVOLVERS, project, tables_by_topic
from bundlestream.projections.records import decode_record
from bundlestream.projections.rows import Position
from bundlestream.projections.tables import FACT_TABLES, TRACKING_TABLE
from bundlestream.schemas.codec import DecodeError, encode_record
from bundlestream.schemas.example_payloads import example_record
from bundlestream.schemas.topics import topic_of
from bundlestream.schemas.versions import SchemaVersion, all_versions

# Events no read model keeps.
NOT_PROJECTED = {"PlannerTicked", "BundleCleanedUp", "ApprovalUsed"}


@pytest.mark.parametrize("version", all_versions(), ids=lambda v: v.file_stem)
def test_every_released_example_decodes_and_projects(version: SchemaVersion) -> None:
    event = decode_record(encode_record(version, example_record(version)))
    assert event.name == version.name
    rows = project([(event, Position("t", 3, 42))])
    if version.name in NOT_PROJECTED:
        assert rows == {}
        return
    assert rows, f"{version.file_stem} adds no row"
    for table, table_rows in rows.items():
        assert all(len(row) == len(table.columns) for row in table_rows), table.name


def test_every_event_is_projected_or_deliberately_not() -> None:
    names = {v.name for v in all_versions()}
    assert names == set(EVOLVERS) | NOT_PROJECTED


def test_bytes_that_are_no_event_are_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        decode_record(b"\xc3\x01" + bytes(8) + b"body")


@pytest.mark.stack
def test_the_migrations_create_exactly_the_tables_the_code_writes(
    postgres_dsn: str, unique_name: str
) -> None:
    schema = unique_name.replace("-", "_")
    with postgres.connect(postgres_dsn) as conn:
        try:
            assert migrate(conn, schema) == [m.version for m in migrations()]
            assert migrate(conn, schema) == []  # recorded: applied once
            # Keys compare bytewise (0002): index builds sort without strcoll.
            key_collations = conn.execute(
                "SELECT DISTINCT c.collation_name FROM information_schema.columns c"
                " JOIN information_schema.key_column_usage k USING (table_schema, table_name,"
                " column_name) WHERE c.table_schema = %s AND c.data_type = 'text'"
                " AND k.table_name <> %s",
                (schema, TRACKING_TABLE),
            ).fetchall()
            columns = conn.execute(
                "SELECT table_name, array_agg(column_name::text ORDER BY ordinal_position),"
                " array_agg(udt_name::text ORDER BY ordinal_position)"
                " FROM information_schema.columns WHERE table_schema = %s GROUP BY table_name",
                (schema,),
            ).fetchall()
        finally:
            postgres.drop_schema(conn, schema)
    assert key_collations == [("C",)]
    found = {name: tuple(cols) for name, cols, _ in columns}
    types = {name: tuple(kinds) for name, _, kinds in columns}
    for table in FACT_TABLES:
        assert found[table.name] == table.columns
        # The COPY encoder writes each value as its column's type wants it.
        assert types[table.name] == table.types, table.name


def test_every_fact_table_is_written_from_one_topic_only() -> None:
    """What a parallel bulk rebuild relies on: one topic per process, one writer per table."""
    writers: dict[str, set[str]] = {}
    for version in all_versions():
        event = decode_record(encode_record(version, example_record(version)))
        for table in project([(event, Position("t", 0, 0))]):
            writers.setdefault(table.name, set()).add(topic_of(version.name).name)
    assert set(writers) == {table.name for table in FACT_TABLES}
    assert {name: len(topics) for name, topics in writers.items()} == {
        table.name: 1 for table in FACT_TABLES
    }
    # The rebuild builds a table's keys once the topic that writes it is replayed.
    assert {
        table: {topic for topic, tables in tables_by_topic().items() if table in tables}
        for table in writers
    } == writers
