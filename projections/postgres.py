"""Postgres adapter of the projections: write a batch with its offsets, swap, compare.

A batch's rows and the consumed offsets of its partitions are written in one
transaction, after checking that the tracking rows still hold what this writer last
saw. When they do not (a rebuilt schema was swapped in, or another projector moved on),
nothing is written and the caller seeks to the tracked offsets: the tracking table,
not the consumer, is the authority on what has been projected.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from projections.projection import TableRows
from projections.tables import FACT_TABLES, TRACKING_TABLE

Conn = psycopg.Connection[TupleRow]
# (topic, partition) → the next offset to project.
Offsets = dict[tuple[str, int], int]


class OffsetsMoved(Exception):
    """The tracking rows differ from what the writer expected; nothing was written."""

    def __init__(self, tracked: Offsets) -> None:
        super().__init__(f"tracked offsets moved: {tracked}")
        self.tracked = tracked


def connect(dsn: str) -> Conn:
    """A connection for projection work.

    Autocommit: every transaction is an explicit ``conn.transaction()`` block. Statements
    are never prepared server-side: a prepared plan keeps the tables it was
    planned on, so after a schema swap it would go on writing into the retired schema.
    """
    return psycopg.connect(dsn, prepare_threshold=None, autocommit=True)


def tracked_offsets(conn: Conn, schema: str) -> Offsets:
    """Every tracked (topic, partition) of ``schema`` and its next offset."""
    query = sql.SQL('SELECT topic, "partition", next_offset FROM {}.{}').format(
        sql.Identifier(schema), sql.Identifier(TRACKING_TABLE)
    )
    with conn.transaction():
        return {(t, p): o for t, p, o in conn.execute(query).fetchall()}


def write_batch(
    conn: Conn,
    schema: str,
    rows: TableRows,
    expected: Mapping[tuple[str, int], int],
    next_offsets: Offsets,
) -> None:
    """Insert ``rows`` and move the partitions to ``next_offsets``, in one transaction.

    ``expected`` holds what the writer believes is tracked for each partition of the
    batch (0 when untracked); OffsetsMoved when the table says otherwise.
    """
    with conn.transaction():
        tracked = _lock_tracking(conn, schema, next_offsets)
        moved = {
            tp: tracked.get(tp, 0) for tp in next_offsets if tracked.get(tp, 0) != expected[tp]
        }
        if moved:
            raise OffsetsMoved(moved)
        for table, table_rows in rows.items():
            _insert_new(conn, schema, table.name, table_rows)
        _track(conn, schema, next_offsets)


def _lock_tracking(conn: Conn, schema: str, partitions: Iterable[tuple[str, int]]) -> Offsets:
    wanted = list(partitions)
    query = sql.SQL(
        'SELECT topic, "partition", next_offset FROM {}.{}'
        ' WHERE (topic, "partition") IN (SELECT * FROM unnest(%s::text[], %s::int[]))'
        " FOR UPDATE"
    ).format(sql.Identifier(schema), sql.Identifier(TRACKING_TABLE))
    params = ([t for t, _ in wanted], [p for _, p in wanted])
    return {(t, p): o for t, p, o in conn.execute(query, params).fetchall()}


def _insert_new(conn: Conn, schema: str, table: str, rows: list[tuple[Any, ...]]) -> None:
    """COPY into a per-session staging table, then keep the rows whose key is new."""
    stage = sql.Identifier(f"stage_{table}")
    target = sql.Identifier(schema, table)
    conn.execute(
        sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DELETE ROWS").format(
            stage, target
        )
    )
    with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(stage)) as copy:
        for row in rows:
            copy.write_row(row)
    conn.execute(
        sql.SQL("INSERT INTO {} SELECT * FROM {} ON CONFLICT DO NOTHING").format(target, stage)
    )


def _track(conn: Conn, schema: str, next_offsets: Offsets) -> None:
    query = sql.SQL(
        'INSERT INTO {}.{} (topic, "partition", next_offset) VALUES (%s, %s, %s)'
        ' ON CONFLICT (topic, "partition") DO UPDATE SET next_offset = excluded.next_offset'
    ).format(sql.Identifier(schema), sql.Identifier(TRACKING_TABLE))
    with conn.cursor() as cursor:
        cursor.executemany(query, [(t, p, o) for (t, p), o in next_offsets.items()])


def swap_in(conn: Conn, live: str, fresh: str, retired: str) -> None:
    """Make ``fresh`` the live schema in one transaction; the old one becomes ``retired``.

    Readers resolve names per statement, so they see the old schema up to the commit
    and the new one after it, never a mix and never nothing.
    """
    with conn.transaction():
        if schema_exists(conn, live):
            conn.execute(
                sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(live), sql.Identifier(retired)
                )
            )
        conn.execute(
            sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                sql.Identifier(fresh), sql.Identifier(live)
            )
        )


def schema_exists(conn: Conn, schema: str) -> bool:
    row = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    return row is not None


def drop_schema(conn: Conn, schema: str) -> None:
    with conn.transaction():
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@dataclass(frozen=True)
class TableSummary:
    """Row count and an order-independent checksum of a table's contents."""

    rows: int
    checksum: str


# Views compared besides the fact tables: the state every reader sees.
COMPARED_VIEWS = ("bundles", "data_items")


def compared_relations() -> list[str]:
    """What ``projections check`` compares: every fact table, then the state views."""
    return [table.name for table in FACT_TABLES] + list(COMPARED_VIEWS)


def summarize(conn: Conn, schema: str, relation: str) -> TableSummary:
    """Count and checksum: the sum of the first 64 bits of each row's md5, as numeric.

    A sum does not depend on row order, so two schemas filled in different orders
    compare equal exactly when they hold the same multiset of rows (up to md5 clashes).
    """
    query = sql.SQL(
        "SELECT count(*), coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint"
        "::numeric), 0)::text FROM {} t"
    ).format(sql.Identifier(schema, relation))
    with conn.transaction():
        row = conn.execute(query).fetchone()
    assert row is not None
    return TableSummary(int(row[0]), str(row[1]))
