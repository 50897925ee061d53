"""``bundlestream api``: serve the HTTP API with uvicorn on ``api_host:api_port``."""

from __future__ import annotations

import argparse

import uvicorn

from bundlestream.settings import Settings


def run_api(args: argparse.Namespace, settings: Settings) -> int:
    uvicorn.run(
        "bundlestream.api.app:app_from_environment",
        factory=True,
        host=settings.api.host,
        port=settings.api.port,
        workers=settings.api.workers,
        log_level="info",
    )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``api`` to the ``bundlestream`` command line."""
    parser = subparsers.add_parser("api", help="serve the upload API")
    parser.set_defaults(run=run_api)
