"""Serve the HTTP API with uvicorn on ``api_host:api_port`` (``bundlestream api``, in
``bundlestream.api_command``, runs this under a supervisor)."""

from __future__ import annotations

import uvicorn

from bundlestream.settings import Settings


def serve(settings: Settings) -> int:
    """Until SIGTERM/SIGINT; uvicorn runs ``api_workers`` processes inside this one."""
    uvicorn.run(
        "bundlestream.api.app:app_from_environment",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=settings.api_workers,
        log_level="info",
    )
    return 0
