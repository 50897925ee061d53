"""The local Postgres is a real server: it runs SQL, keeps transactions, speaks version 15."""

from __future__ import annotations

import psycopg
from psycopg import sql


def test_postgres_answers_and_commits(postgres_dsn: str, unique_name: str) -> None:
    schema = sql.Identifier(unique_name.replace("-", "_"))
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
        assert version is not None and int(version[0]) // 10000 == 15
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
        try:
            conn.execute(sql.SQL("CREATE TABLE {}.t (n int PRIMARY KEY)").format(schema))
            with conn.transaction():
                conn.execute(sql.SQL("INSERT INTO {}.t VALUES (1), (2)").format(schema))
            row = conn.execute(sql.SQL("SELECT sum(n) FROM {}.t").format(schema)).fetchone()
            assert row == (3,)
        finally:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(schema))
