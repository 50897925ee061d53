"""What the upload API's routes receive from the lifespan (``request.state.api``)."""

from dataclasses import dataclass
from typing import Any

from api.chunked import ChunkedUploads
from api.ingest import UploadPath
from api.metrics import ApiMetrics
from projections.queries import ProjectionQueries


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
