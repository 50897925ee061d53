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

from bundlestream.projections.copy_text import encoder_of
from bundlestream.projections.projection import TableRows
from bundlestream.projections.tables import FACT_TABLES, TRACKING_TABLE, Table

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
    bulk: bool = False,
) -> None:
    """Insert ``rows`` and move the partitions to ``next_offsets``, in one transaction.

    ``expected`` holds what the writer believes is tracked for each partition of the
    batch (0 when untracked); OffsetsMoved when the table says otherwise.
    """
    with conn.transaction():
        if bulk:
            # A fresh schema nobody reads yet: no need to wait for the WAL flush of each
            # batch. Still atomic: a crash loses a batch's rows and offsets together.
            conn.execute("SET LOCAL synchronous_commit = off")
        tracked = _lock_tracking(conn, schema, next_offsets)
        moved = {
            tp: tracked.get(tp, 0) for tp in next_offsets if tracked.get(tp, 0) != expected[tp]
        }
        if moved:
            raise OffsetsMoved(moved)
        for table, table_rows in rows.items():
            if bulk:
                _copy(conn, sql.Identifier(schema, table.name), table, table_rows)
            else:
                _insert_new(conn, schema, table, table_rows)
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


def _insert_new(conn: Conn, schema: str, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """COPY into a per-session staging table, then keep the rows whose key is new."""
    stage = sql.Identifier(f"stage_{table.name}")
    target = sql.Identifier(schema, table.name)
    conn.execute(
        sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DELETE ROWS").format(
            stage, target
        )
    )
    _copy(conn, stage, table, rows)
    conn.execute(
        sql.SQL("INSERT INTO {} SELECT * FROM {} ON CONFLICT DO NOTHING").format(target, stage)
    )


def _copy(conn: Conn, into: sql.Identifier, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """COPY ``rows`` of ``table`` into the relation ``into`` (the table or its stage)."""
    with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(into)) as copy:
        copy.write(encoder_of(table)(rows))


def begin_bulk_load(conn: Conn, schema: str) -> list[str]:
    """Drop the keys and indexes of the fact tables of a fresh schema; their DDL to restore.

    A replay into an empty schema then COPYs straight into the tables (``bulk=True``):
    no index is maintained row by row, and each is built once, by sorting, at the end.
    """
    query = """
        SELECT format('ALTER TABLE %%I.%%I ADD CONSTRAINT %%I %%s', n.nspname, t.relname,
                      c.conname, pg_get_constraintdef(c.oid)),
               format('ALTER TABLE %%I.%%I DROP CONSTRAINT %%I', n.nspname, t.relname, c.conname)
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = %s AND t.relname = ANY(%s) AND c.contype = 'p'
        UNION ALL
        SELECT i.indexdef, format('DROP INDEX %%I.%%I', i.schemaname, i.indexname)
        FROM pg_indexes i
        LEFT JOIN pg_constraint c ON c.conname = i.indexname
            AND c.connamespace = i.schemaname::regnamespace
        WHERE i.schemaname = %s AND i.tablename = ANY(%s) AND c.oid IS NULL
    """
    names = [table.name for table in FACT_TABLES]
    with conn.transaction():
        ddl = conn.execute(query, (schema, names, schema, names)).fetchall()
        for _, drop in ddl:
            conn.execute(drop.encode())
    return [create for create, _ in ddl]


def finish_bulk_load(conn: Conn, schema: str, restore: list[str]) -> None:
    """Restore the keys and indexes; a key that finds duplicates keeps the first row.

    Rows were deduplicated within each batch already; a key repeated across batches
    (a redelivered event) is rare, so the key is tried first and the table is only
    deduplicated when it fails. COPY appends in log order, so the first row of a key in
    physical order (ctid) is the one a live projection kept.
    """
    tables = {table.name: table for table in FACT_TABLES}
    with conn.transaction():
        # Index builds sort; the default 64 MB spills a million-row sort to disk.
        conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for create in sorted(restore, key=lambda ddl: "INDEX" in ddl):  # keys first
            try:
                with conn.transaction():
                    conn.execute(create.encode())
            except psycopg.errors.UniqueViolation:
                table = tables[table_of(create)]
                _keep_first_rows(conn, schema, table.name, table.key)
                conn.execute(create.encode())


def table_of(ddl: str) -> str:
    """The table of a key or index definition of ``begin_bulk_load``, unquoted."""
    # 'ALTER TABLE schema.table ADD CONSTRAINT ...' or 'CREATE INDEX i ON schema.table ...'
    words = ddl.split()
    relation = words[2] if words[0] == "ALTER" else words[words.index("ON") + 1]
    return relation.split(".")[-1].strip('"')


def _keep_first_rows(conn: Conn, schema: str, table: str, key: tuple[str, ...]) -> None:
    keys = sql.SQL(", ").join(map(sql.Identifier, key))
    conn.execute(
        sql.SQL(
            "DELETE FROM {t} WHERE ctid IN (SELECT ctid FROM (SELECT ctid,"
            " row_number() OVER (PARTITION BY {k} ORDER BY ctid) AS n FROM {t}) d"
            " WHERE n > 1)"
        ).format(t=sql.Identifier(schema, table), k=keys)
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
COMPARED_VIEWS = ("bundles", "data_items", "ledger_balances", "pending_top_ups", "approvals")


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
