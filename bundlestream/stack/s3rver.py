"""s3rver: a disk-backed S3-compatible server for the S3 object store backend.

Unlike moto's server it writes parts to disk and streams the joined object, so a
multi-GiB multipart upload does not have to fit in its memory.
"""

from __future__ import annotations

from bundlestream.settings import Settings
from bundlestream.stack.node import NODE_DIR, install_node_packages
from bundlestream.stack.service import UrlService, answers_ok


class S3rver(UrlService):
    """s3rver on the host and port of ``s3_endpoint``, creating ``s3_bucket`` at start
    (nothing to create once ready: the launcher configured the bucket).

    Runs through ``stack/node/s3rver-local.js``, which adds AbortMultipartUpload.
    """

    name = "s3rver"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.object_store.s3_endpoint, 4568)

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
        return answers_ok(
            f"{self.settings.object_store.s3_endpoint}/{self.settings.object_store.s3_bucket}",
            "HEAD",
        )
