"""A Postgres 15 cluster of our own: data directory under the stack, port from the DSN.

Postgres refuses to run as root, so a root caller runs it as an unprivileged system
user (created on first use). Loopback connections are trusted; the role and database
named in ``postgres_dsn`` are created after the server accepts connections.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from bundlestream.settings import Settings
from bundlestream.stack.process import RunAs, ServiceError, run_checked
from bundlestream.stack.service import StackService

DEBIAN_BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresCluster(StackService):
    """One cluster, one database; fast shutdown (SIGINT) on stop."""

    name = "postgres"
    stop_signal = signal.SIGINT

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.home = settings.stack.dir / "postgres"
        params = conninfo_to_dict(settings.postgres.dsn.get_secret_value())
        self.host = str(params.get("host", "127.0.0.1"))
        self.port = int(str(params.get("port", 5432)))
        self.role = str(params.get("user", "bundlestream"))
        self.database = str(params.get("dbname", self.role))

    def ports(self) -> list[tuple[str, int]]:
        return [(self.host, self.port)]

    def install(self) -> None:
        """Check the binaries; as root, make sure the unprivileged user exists."""
        if not (bin_dir() / "initdb").exists():
            raise ServiceError("PostgreSQL 15 is missing: apt-get install -y postgresql-15")
        if os.geteuid() == 0:
            _ensure_system_user(self.settings.stack.postgres_os_user)

    def start(self) -> None:
        run_as = self._run_as()
        data = self.home / "data"
        if not (data / "PG_VERSION").exists():
            self._prepare_dirs(run_as)
            run_checked(
                [
                    str(bin_dir() / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    self.role,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ],
                run_as=run_as,
            )
        self.process.spawn(
            [
                str(bin_dir() / "postgres"),
                "-D",
                str(data),
                "-p",
                str(self.port),
                "-c",
                f"listen_addresses={self.host}",
                "-k",
                str(self.home / "socket"),
            ],
            run_as=run_as,
        )

    def is_ready(self) -> bool:
        try:
            with psycopg.connect(self._dsn("postgres"), connect_timeout=2):
                return True
        except psycopg.Error:
            return False

    def after_ready(self) -> None:
        """Create the application database when it does not exist yet."""
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    def _dsn(self, database: str) -> str:
        return f"host={self.host} port={self.port} user={self.role} dbname={database}"

    def _run_as(self) -> RunAs | None:
        if os.geteuid() != 0:
            return None
        user = pwd.getpwnam(self.settings.stack.postgres_os_user)
        return RunAs(uid=user.pw_uid, gid=user.pw_gid, home=str(self.home))

    def _prepare_dirs(self, run_as: RunAs | None) -> None:
        for directory in (self.home, self.home / "socket"):
            directory.mkdir(parents=True, exist_ok=True)
            if run_as is not None:
                os.chown(directory, run_as.uid, run_as.gid)


def bin_dir() -> Path:
    """Where initdb and postgres live: PATH first, then Debian's versioned directory."""
    found = shutil.which("postgres")
    return Path(os.path.realpath(found)).parent if found else DEBIAN_BIN


def _ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        run_checked(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ]
        )
