"""s3rver: a disk-backed S3-compatible server for the S3 object store backend.

Unlike moto's server it writes parts to disk and streams the joined object, so a
multi-GiB multipart upload does not have to fit in its memory.
"""

from __future__ import annotations

import signal
from urllib.parse import urlsplit

import httpx

from bundlestream.settings import Settings
from bundlestream.stack.node import NODE_DIR, install_node_packages
from bundlestream.stack.process import ServiceProcess


class S3rver:
    """s3rver on the host and port of ``s3_endpoint``, creating ``s3_bucket`` at start.

    Runs through ``stack/node/s3rver-local.js``, which adds AbortMultipartUpload.
    """

    name = "s3rver"
    stop_signal = signal.SIGTERM

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        url = urlsplit(settings.object_store.s3_endpoint)
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or 4568

    @property
    def process(self) -> ServiceProcess:
        return ServiceProcess(self.name, self.settings.stack.dir)

    def ports(self) -> list[tuple[str, int]]:
        return [(self.host, self.port)]

    def install(self) -> None:
        install_node_packages(self.settings.stack.cache_dir)

    def start(self) -> None:
        home = self.settings.stack.dir / "s3rver"
        home.mkdir(parents=True, exist_ok=True)
        script = str(NODE_DIR / "s3rver-local.js")
        bucket = self.settings.object_store.s3_bucket
        self.process.spawn(["node", script, str(home), self.host, str(self.port), bucket])

    def is_ready(self) -> bool:
        """Ready when the configured bucket answers (s3rver creates it while starting)."""
        url = f"{self.settings.object_store.s3_endpoint}/{self.settings.object_store.s3_bucket}"
        try:
            return httpx.head(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def after_ready(self) -> None:
        """Nothing to create: the launcher configured the bucket."""
