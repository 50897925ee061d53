"""Serve the console with uvicorn on ``console_host:console_port`` (loopback by default)."""

import uvicorn

from bundlestream.console.app import create_app
from bundlestream.settings import Settings


def serve(settings: Settings) -> int:
    """Until SIGTERM/SIGINT."""
    app = create_app(settings)
    uvicorn.run(app, host=settings.console.host, port=settings.console.port, log_level="info")
    return 0
