"""Serve the HTTP API with uvicorn on ``api_host:api_port``.

``bundlestream api`` (``bundlestream.api_command``) runs ``serve`` under a supervisor
that starts it again when it dies. The server speaks HTTP/1.1 through
``api.protocol.GuardedHttpProtocol`` (timeouts and header limits), configured from the
settings by ``api_config``; tests start their servers with the same function, so they
run the protocol production runs.
"""

from __future__ import annotations

import os
import resource
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from bundlestream.api.protocol import ConnectionLimits, GuardedHttpProtocol
from bundlestream.settings import Settings

APP = "bundlestream.api.app:app_from_environment"


class ApiConfig(uvicorn.Config):
    """uvicorn's config carrying our connection limits to each protocol instance (it is
    pickled into every worker process, so the limits travel with it)."""

    def __init__(self, app: Any, *, connection_limits: ConnectionLimits, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.connection_limits = connection_limits


def connection_limits(settings: Settings) -> ConnectionLimits:
    return ConnectionLimits(
        header_timeout_s=settings.api.http_header_timeout_s,
        body_interval_s=settings.api.http_body_interval_s,
        body_min_bytes=settings.api.http_body_min_bytes,
        max_header_count=settings.api.http_max_header_count,
        max_header_bytes=settings.api.http_max_header_bytes,
    )


def api_config(settings: Settings, app: Any = APP, **kwargs: Any) -> ApiConfig:
    """The uvicorn config of the API: our protocol, our limits, our keep-alive."""
    return ApiConfig(
        app,
        connection_limits=connection_limits(settings),
        http=GuardedHttpProtocol,
        timeout_keep_alive=settings.api.http_keep_alive_timeout_s,
        host=settings.api.host,
        **kwargs,
    )


def raise_open_file_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard one; every connection is a descriptor,
    and the common soft default of 1024 is fewer than 1,000 clients plus our own files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def serve(settings: Settings) -> int:
    """Until SIGTERM/SIGINT; uvicorn runs ``Settings.api_processes`` processes inside
    this one."""
    raise_open_file_limit()  # before workers start: they inherit it
    config = api_config(
        settings,
        factory=True,
        port=settings.api.port,
        workers=settings.api_processes(os.cpu_count()),
        log_level="info",
    )
    if config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()
    return 0
