"""Object store backend on S3 (AWS, MinIO, R2, s3rver) through boto3.

boto3 is blocking, so every call runs in a worker thread. A writer buffers at most one
part (``s3_part_size``): objects smaller than a part are a single PutObject, larger ones
a multipart upload whose ``CompleteMultipartUpload`` is the atomic commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bundlestream.adapters.object_store import ObjectNotFoundError, ObjectStoreError, check_key

READ_CHUNK = 1024 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024  # S3's floor for every part but the last
T = TypeVar("T")


@dataclass(frozen=True)
class S3Location:
    """A bucket on an S3 endpoint, the credentials to reach it, and the part size."""

    endpoint: str
    bucket: str
    region: str
    access_key: str
    secret_key: str
    # Multipart part size: S3 needs >= 5 MiB (but the last); a writer holds about one part.
    part_size: int


def open_s3_store(location: S3Location) -> S3ObjectStore:
    """A store on ``location.bucket`` at ``location.endpoint`` (no request is made yet).

    Raises ``ObjectStoreError`` when boto3 refuses the configuration (an endpoint that
    is not a URL).
    """
    config = Config(
        s3={"addressing_style": "path"},
        # S3-compatible servers do not all speak the newer default CRC trailers.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 3, "mode": "standard"},
    )
    try:
        client = boto3.client(
            "s3",
            endpoint_url=location.endpoint,
            region_name=location.region,
            aws_access_key_id=location.access_key,
            aws_secret_access_key=location.secret_key,
            config=config,
        )
    except (ValueError, BotoCoreError) as exc:
        raise ObjectStoreError(f"S3 client for {location.endpoint!r}: {exc}") from exc
    return S3ObjectStore(client, location.bucket, max(location.part_size, MIN_PART_SIZE))


async def _call(operation: str, fn: Callable[..., T], **kwargs: Any) -> T:
    """Run one boto3 call in a thread, translating driver errors into ours."""
    try:
        return await asyncio.to_thread(fn, **kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise ObjectStoreError(f"S3 {operation} failed: {exc}") from exc


def _error_code(exc: BaseException) -> str:
    cause = exc.__cause__
    return (
        str(cause.response.get("Error", {}).get("Code", ""))
        if isinstance(cause, ClientError)
        else ""
    )


class S3Writer:
    """Buffers up to one part; starts a multipart upload only when a part fills up."""

    def __init__(self, client: Any, bucket: str, key: str, part_size: int) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._part_size = part_size
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._size = 0

    @property
    def upload_id(self) -> str | None:
        """The open multipart upload, if a part has been sent (for diagnostics and tests)."""
        return self._upload_id

    async def write(self, chunk: bytes) -> None:
        self._buffer += chunk
        self._size += len(chunk)
        while len(self._buffer) >= self._part_size:
            part = bytes(self._buffer[: self._part_size])
            del self._buffer[: self._part_size]
            await self._upload_part(part)

    async def commit(self) -> int:
        try:
            await self._finish()
        except ObjectStoreError:
            await self.abort()
            raise
        return self._size

    async def abort(self) -> None:
        self._buffer = bytearray()
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            await _call(
                "AbortMultipartUpload",
                self._client.abort_multipart_upload,
                Bucket=self._bucket,
                Key=self._key,
                UploadId=upload_id,
            )

    async def _finish(self) -> None:
        if self._upload_id is None:
            await _call(
                "PutObject",
                self._client.put_object,
                Bucket=self._bucket,
                Key=self._key,
                Body=bytes(self._buffer),
            )
            return
        if self._buffer or not self._parts:
            await self._upload_part(bytes(self._buffer))
        await _call(
            "CompleteMultipartUpload",
            self._client.complete_multipart_upload,
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self._upload_id = None

    async def _upload_part(self, part: bytes) -> None:
        if self._upload_id is None:
            created = await _call(
                "CreateMultipartUpload",
                self._client.create_multipart_upload,
                Bucket=self._bucket,
                Key=self._key,
            )
            self._upload_id = str(created["UploadId"])
        number = len(self._parts) + 1
        uploaded = await _call(
            "UploadPart",
            self._client.upload_part,
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=part,
        )
        self._parts.append({"PartNumber": number, "ETag": uploaded["ETag"]})


class S3ObjectStore:
    """Objects in one bucket; keys are used as given (after ``check_key``)."""

    def __init__(self, client: Any, bucket: str, part_size: int) -> None:
        self._client = client
        self._bucket = bucket
        self._part_size = part_size

    async def writer(self, key: str) -> S3Writer:
        return S3Writer(self._client, self._bucket, check_key(key), self._part_size)

    async def put(self, key: str, data: bytes) -> None:
        await _call(
            "PutObject", self._client.put_object, Bucket=self._bucket, Key=check_key(key), Body=data
        )

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        if end is not None and end <= start:
            return
        body = await self._open_range(check_key(key), start, end)
        if body is None:
            return
        try:
            while chunk := await _call("GetObject", body.read, amt=READ_CHUNK):
                yield chunk
        finally:
            body.close()

    async def size(self, key: str) -> int | None:
        try:
            head = await _call(
                "HeadObject", self._client.head_object, Bucket=self._bucket, Key=check_key(key)
            )
        except ObjectStoreError as exc:
            if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(head["ContentLength"])

    async def delete(self, key: str) -> None:
        await _call(
            "DeleteObject", self._client.delete_object, Bucket=self._bucket, Key=check_key(key)
        )

    async def keys(self, prefix: str) -> AsyncIterator[str]:
        request: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix}
        while True:
            page = await _call("ListObjectsV2", self._client.list_objects_v2, **request)
            for entry in page.get("Contents", []):
                yield str(entry["Key"])
            if not page.get("IsTruncated"):
                return
            request["ContinuationToken"] = page["NextContinuationToken"]

    async def reclaim_abandoned(self, older_than: float) -> int:
        """Multipart uploads initiated before ``older_than`` and never completed.

        A server without ListMultipartUploads (s3rver answers NotImplemented) reclaims
        nothing here: S3's own remedy is the bucket's AbortIncompleteMultipartUpload
        lifecycle rule, which production buckets should carry anyway.
        """
        try:
            page = await _call(
                "ListMultipartUploads", self._client.list_multipart_uploads, Bucket=self._bucket
            )
        except ObjectStoreError as exc:
            if _error_code(exc) == "NotImplemented":
                return 0
            raise
        stale = [u for u in page.get("Uploads", []) if u["Initiated"].timestamp() < older_than]
        for upload in stale:
            await _call(
                "AbortMultipartUpload",
                self._client.abort_multipart_upload,
                Bucket=self._bucket,
                Key=upload["Key"],
                UploadId=upload["UploadId"],
            )
        return len(stale)

    async def _open_range(self, key: str, start: int, end: int | None) -> Any:
        """The streaming body of ``[start, end)``; None when ``start`` is past the end."""
        request: dict[str, Any] = {"Bucket": self._bucket, "Key": key}
        # A whole-object read sends no Range: a range on an empty object is unsatisfiable.
        if start > 0 or end is not None:
            last = "" if end is None else str(end - 1)
            request["Range"] = f"bytes={start}-{last}"
        try:
            got = await _call("GetObject", self._client.get_object, **request)
        except ObjectStoreError as exc:
            code = _error_code(exc)
            if code in ("NoSuchKey", "404"):
                raise ObjectNotFoundError(f"no object {key!r}") from exc.__cause__
            if code == "InvalidRange":
                return None
            raise
        return got["Body"]
