"""redis-server on the port of ``redis_url``, no persistence: it only holds short-lived views."""

from __future__ import annotations

import os
import shutil

import redis

from bundlestream.settings import Settings
from bundlestream.stack.process import ServiceError, run_checked
from bundlestream.stack.service import UrlService


class RedisServer(UrlService):
    """Debian's redis-server in the foreground, its working directory under the stack;
    nothing to create once ready: Redis needs no schema."""

    name = "redis"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.redis.url.get_secret_value(), 6379)

    def install(self) -> None:
        """Install Debian's redis-server when it is missing (needs root)."""
        if shutil.which("redis-server") is not None:
            return
        if os.geteuid() != 0:
            raise ServiceError("redis-server is missing: sudo apt-get install -y redis-server")
        noninteractive = {"DEBIAN_FRONTEND": "noninteractive"}
        run_checked(["apt-get", "update", "-qq"], env=noninteractive)
        run_checked(["apt-get", "install", "-y", "-qq", "redis-server"], env=noninteractive)

    def start(self) -> None:
        home = self.settings.stack.dir / "redis"
        home.mkdir(parents=True, exist_ok=True)
        self.process.spawn(
            [
                "redis-server",
                "--bind",
                self.host,
                "--port",
                str(self.port),
                "--dir",
                str(home),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ]
        )

    def is_ready(self) -> bool:
        client = redis.Redis(host=self.host, port=self.port, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()
