"""Versioned SQL migrations of the read models, applied to a schema named by the caller.

``migrations/NNNN_name.sql`` files run in version order, each in its own transaction
with ``search_path`` set to the target schema, and are recorded in that schema's
``schema_migrations`` table. The schema is a parameter so that a rebuild can build a
fresh copy beside the live one.
"""

import re
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

_FILE_NAME = re.compile(r"^(?P<version>[0-9]{4})_(?P<name>[a-z0-9_]+)\.sql$")
MIGRATIONS_TABLE = "schema_migrations"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    text: str


def migrations() -> list[Migration]:
    """Every migration shipped with the package, in version order."""
    found = []
    for entry in resources.files("bundlestream.projections").joinpath("migrations").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match["version"]), match["name"], entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


def migrate(conn: psycopg.Connection[object], schema: str) -> list[int]:
    """Bring ``schema`` (created if absent) to the newest version; the versions applied."""
    with conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.{} (version integer PRIMARY KEY,"
                " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            ).format(sql.Identifier(schema), sql.Identifier(MIGRATIONS_TABLE))
        )
    done = applied_versions(conn, schema)
    applied = []
    for migration in migrations():
        if migration.version not in done:
            _apply(conn, schema, migration)
            applied.append(migration.version)
    return applied


def applied_versions(conn: psycopg.Connection[object], schema: str) -> set[int]:
    query = sql.SQL("SELECT version FROM {}.{}").format(
        sql.Identifier(schema), sql.Identifier(MIGRATIONS_TABLE)
    )
    with conn.cursor(row_factory=tuple_row) as cursor:
        return {int(str(row[0])) for row in cursor.execute(query).fetchall()}


def _apply(conn: psycopg.Connection[object], schema: str, migration: Migration) -> None:
    with conn.transaction():
        # Lock the ledger row range: two migrators racing on one schema apply it once.
        conn.execute(
            sql.SQL("LOCK TABLE {}.{} IN EXCLUSIVE MODE").format(
                sql.Identifier(schema), sql.Identifier(MIGRATIONS_TABLE)
            )
        )
        if migration.version in applied_versions(conn, schema):
            return
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        conn.execute(migration.text.encode())
        conn.execute(
            sql.SQL("INSERT INTO {}.{} (version, name) VALUES (%s, %s)").format(
                sql.Identifier(schema), sql.Identifier(MIGRATIONS_TABLE)
            ),
            (migration.version, migration.name),
        )
