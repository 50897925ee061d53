"""What the upload API's routes receive from the lifespan (``request.state.api``)."""

from dataclasses import dataclass
from typing import Any

from bundlestream.adapters.projection_queries import ProjectionQueries
from bundlestream.api.chunked import ChunkedUploads
from bundlestream.api.metrics import ApiMetrics
from bundlestream.api.upload_path import UploadPath


@dataclass(frozen=True)
class ApiContext:
    """Resources opened once per process and handed to every request."""

    upload: UploadPath
    chunked: ChunkedUploads
    metrics: ApiMetrics
    info: dict[str, Any]
    retry_after_s: int
    # The read models (status and offsets once projected); None: fresh view only.
    projections: ProjectionQueries | None = None
