"""The COPY text encoder stores what psycopg's own row writer stores, awkward values too."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from psycopg import sql

from bench.event_story import story
from bench.ledger_story import ledger_story
from bundlestream.projections import postgres
from bundlestream.projections.copy_text import encoder_of, escape, text_array
from bundlestream.projections.migrator import migrate
from bundlestream.projections.projection import TableRows, project
from bundlestream.projections.records import decode_record
from bundlestream.projections.rows import Position
from bundlestream.projections.tables import FACT_TABLES, Table
from bundlestream.schemas.codec import encode, encode_record
from bundlestream.schemas.example_payloads import example_record
from bundlestream.schemas.versions import all_versions

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
AWKWARD = Table(
    "awkward",
    ("name", "amount", "small", "big", "flag", "at", "tags"),
    ("name",),
    ("text", "numeric", "int4", "int8", "bool", "timestamptz", "_text"),
)
AWKWARD_ROWS: list[tuple[Any, ...]] = [
    ("tab\there", "1", 0, 0, True, 0, []),
    ("new\nline\r\n", "340282366920938463463374607431768211456", -1, -(2**63), False, -1, ["a"]),
    ("back\\slash \\N", "0", 2**31 - 1, 2**63 - 1, None, 253_402_300_799_999, ['"q"', "b\\s"]),
    ("ünïcödé \u2028 ☃", None, None, None, True, -62_135_596_800_000, ["", "NULL", "{,}"]),
    ("\\", "42", 7, 7, False, 1_795_910_400_123, ["x\ty", "new\nline", " lead"]),
    ("", "5", 1, 1, True, None, None),
]


def as_datetimes(table: Table, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The row as psycopg's writer takes it: timestamptz values as aware datetimes."""
    return tuple(
        EPOCH + timedelta(milliseconds=v) if kind == "timestamptz" and v is not None else v
        for kind, v in zip(table.types, row, strict=True)
    )


@pytest.fixture
def schemas(postgres_dsn: str, unique_name: str) -> Iterator[tuple[postgres.Conn, str, str]]:
    """Two freshly migrated schemas, each with the awkward table too; dropped after."""
    stem = unique_name.replace("-", "_")
    ours, theirs = f"{stem}_ours", f"{stem}_psycopg"
    with postgres.connect(postgres_dsn) as conn:
        for schema in (ours, theirs):
            migrate(conn, schema)
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (name text, amount numeric(80, 0), small integer,"
                    " big bigint, flag boolean, at timestamptz, tags text[])"
                ).format(sql.Identifier(schema, "awkward"))
            )
        try:
            yield conn, ours, theirs
        finally:
            for schema in (ours, theirs):
                postgres.drop_schema(conn, schema)


def load(conn: postgres.Conn, schema: str, rows: TableRows, ours: bool) -> None:
    for table, table_rows in rows.items():
        target = sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(schema, table.name))
        with conn.transaction(), conn.cursor().copy(target) as copy:
            if ours:
                copy.write(encoder_of(table)(table_rows))
            else:
                for row in table_rows:
                    copy.write_row(as_datetimes(table, row))


def story_rows() -> TableRows:
    """Rows of every fact table: the pipeline's and the ledger's stories, and the example
    of every released schema version (the only source of events no decider writes yet,
    such as top-ups)."""
    events = [encode(keyed.event) for keyed in story(bundles=10, items_per_bundle=10)]
    events += [encode(event) for event in ledger_story(accounts=7, rounds=12)]
    events += [encode_record(version, example_record(version)) for version in all_versions()]
    return project(
        (decode_record(message), Position("t", n % 8, n)) for n, message in enumerate(events)
    )


@pytest.mark.stack
def test_our_copy_text_stores_what_psycopg_stores(
    schemas: tuple[postgres.Conn, str, str],
) -> None:
    conn, ours, theirs = schemas
    rows = story_rows() | {AWKWARD: AWKWARD_ROWS}
    assert set(rows) == set(FACT_TABLES) | {AWKWARD}
    load(conn, ours, rows, ours=True)
    load(conn, theirs, rows, ours=False)
    for table in rows:
        left = postgres.summarize(conn, ours, table.name)
        right = postgres.summarize(conn, theirs, table.name)
        assert left == right, table.name
        assert left.rows == len(rows[table])
    stored = conn.execute(
        sql.SQL("SELECT name, at, tags FROM {} ORDER BY name").format(
            sql.Identifier(ours, "awkward")
        )
    ).fetchall()
    assert stored[0] == ("", None, None)
    assert stored[-1][0] == "ünïcödé \u2028 ☃"
    assert stored[-1][1] == datetime(1, 1, 1, tzinfo=UTC)
    assert stored[-1][2] == ["", "NULL", "{,}"]


def test_special_characters_are_escaped_for_copy() -> None:
    assert escape("a\tb\nc\rd\\e") == "a\\tb\\nc\\rd\\\\e"
    assert text_array([]) == "{}"
    assert text_array(['say "hi"', "c:\\", None]) == '{"say \\\\"hi\\\\"","c:\\\\\\\\",NULL}'


def test_a_row_is_one_line_of_tab_separated_fields() -> None:
    encoded = encoder_of(AWKWARD)(AWKWARD_ROWS[:1] + AWKWARD_ROWS[-1:])
    assert encoded == (
        b"tab\\there\t1\t0\t0\tt\t1970-01-01 00:00:00.000+00\t{}\n\t5\t1\t1\tt\t\\N\t\\N\n"
    )
