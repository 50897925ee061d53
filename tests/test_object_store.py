"""One contract suite, run against both object store backends: filesystem and S3 (s3rver)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bundlestream.adapters.filesystem import FilesystemObjectStore
from bundlestream.adapters.object_store import (
    ObjectNotFoundError,
    ObjectStore,
    ObjectStoreError,
)
from bundlestream.adapters.observed_store import ObservedObjectStore
from bundlestream.adapters.s3 import MIN_PART_SIZE, S3Writer
from bundlestream.settings import MiB, Settings
from bundlestream.wiring import open_object_store


def s3_client(settings: Settings) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=settings.object_store.s3_endpoint,
        region_name=settings.object_store.s3_region,
        aws_access_key_id=settings.object_store.s3_access_key,
        aws_secret_access_key=settings.object_store.s3_secret_key.get_secret_value(),
        config=Config(s3={"addressing_style": "path"}),
    )


def empty_bucket(client: Any, bucket: str) -> None:
    for listed in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        client.delete_object(Bucket=bucket, Key=listed["Key"])


@pytest.fixture
def s3_settings(settings: Settings, s3_endpoint: str, unique_name: str) -> Iterator[Settings]:
    """Settings pointing at a fresh bucket of its own, with S3's smallest part size."""
    own = settings.updated(
        object_store__backend="s3",
        object_store__s3_bucket=unique_name,
        object_store__s3_part_size=MIN_PART_SIZE,
    )
    client = s3_client(own)
    client.create_bucket(Bucket=unique_name)
    yield own
    empty_bucket(client, unique_name)
    client.delete_bucket(Bucket=unique_name)


@pytest.fixture(params=["fs", "s3", "observed-s3"])
def store(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> ObjectStore:
    if request.param == "fs":
        return open_object_store(
            settings.updated(object_store__backend="fs", object_store__dir=tmp_path)
        )
    s3 = open_object_store(request.getfixturevalue("s3_settings"))
    return s3 if request.param == "s3" else ObservedObjectStore(s3, lambda operation: None)


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def test_put_then_read_returns_the_bytes(store: ObjectStore) -> None:
    await store.put("items/a", b"hello world")
    assert await collect(store.read("items/a")) == b"hello world"
    assert await store.size("items/a") == 11


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(0, None, b"0123456789"), (3, 7, b"3456"), (8, 100, b"89"), (10, None, b""), (4, 4, b"")],
)
async def test_read_streams_the_half_open_range(
    store: ObjectStore, start: int, end: int | None, expected: bytes
) -> None:
    await store.put("digits", b"0123456789")
    assert await collect(store.read("digits", start, end)) == expected


async def test_written_object_is_invisible_until_commit(store: ObjectStore) -> None:
    writer = await store.writer("pending/item")
    await writer.write(b"abc")
    await writer.write(b"def")
    assert await store.size("pending/item") is None
    assert await writer.commit() == 6
    assert await collect(store.read("pending/item")) == b"abcdef"


async def test_a_multipart_object_reads_back_identically(store: ObjectStore) -> None:
    data = os.urandom(2 * MIN_PART_SIZE + 3 * MiB)
    writer = await store.writer("big/object")
    for offset in range(0, len(data), MiB):
        await writer.write(data[offset : offset + MiB])
    assert await writer.commit() == len(data)
    assert await store.size("big/object") == len(data)
    read_back = await collect(store.read("big/object"))
    assert hashlib.sha256(read_back).digest() == hashlib.sha256(data).digest()
    middle = await collect(store.read("big/object", MIN_PART_SIZE - 5, MIN_PART_SIZE + 5))
    assert middle == data[MIN_PART_SIZE - 5 : MIN_PART_SIZE + 5]


async def test_abort_leaves_nothing(store: ObjectStore) -> None:
    writer = await store.writer("aborted")
    await writer.write(os.urandom(MIN_PART_SIZE + 1))  # far enough to start a multipart upload
    await writer.abort()
    assert await store.size("aborted") is None
    with pytest.raises(ObjectNotFoundError):
        await collect(store.read("aborted"))


async def test_commit_replaces_the_previous_object(store: ObjectStore) -> None:
    await store.put("replaced", b"old contents")
    writer = await store.writer("replaced")
    await writer.write(b"new")
    await writer.commit()
    assert await collect(store.read("replaced")) == b"new"


async def test_empty_object(store: ObjectStore) -> None:
    writer = await store.writer("empty")
    assert await writer.commit() == 0
    assert await store.size("empty") == 0
    assert await collect(store.read("empty")) == b""


async def test_delete_removes_and_is_idempotent(store: ObjectStore) -> None:
    await store.put("doomed", b"x")
    await store.delete("doomed")
    await store.delete("doomed")
    assert await store.size("doomed") is None


async def test_absent_key(store: ObjectStore) -> None:
    assert await store.size("never/written") is None
    with pytest.raises(ObjectNotFoundError):
        await collect(store.read("never/written"))


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "."])
async def test_keys_that_could_escape_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ObjectStoreError):
        await store.put(key, b"x")


async def test_keys_lists_the_committed_objects_under_a_prefix(store: ObjectStore) -> None:
    for key in ("a/1", "a/b/2", "ab", "c/1"):
        await store.put(key, b"x")
    pending = await store.writer("a/pending")
    await pending.write(os.urandom(MIN_PART_SIZE + 1))  # S3: a multipart upload is open
    listed = sorted([key async for key in store.keys("a/")])
    await pending.abort()
    assert listed == ["a/1", "a/b/2"]


async def test_fs_reclaim_abandoned_discards_writes_untouched_since_the_given_time(
    tmp_path: Path,
) -> None:
    # fs only: s3rver answers NotImplemented to ListMultipartUploads.
    store = FilesystemObjectStore(tmp_path)
    await store.put("kept", b"committed objects are never touched")
    writer = await store.writer("dir/abandoned")
    await writer.write(b"partial")
    an_hour_ago, in_a_minute = time.time() - 3600, time.time() + 60
    assert await store.reclaim_abandoned(an_hour_ago) == 0
    assert await store.reclaim_abandoned(in_a_minute) == 1
    assert await store.reclaim_abandoned(in_a_minute) == 0
    with pytest.raises(ObjectStoreError):
        await writer.commit()
    assert await store.size("dir/abandoned") is None
    assert list((tmp_path / "dir").iterdir()) == []
    assert await collect(store.read("kept")) == b"committed objects are never touched"


async def test_s3_abort_cancels_the_multipart_upload(s3_settings: Settings) -> None:
    store = open_object_store(s3_settings)
    writer = await store.writer("aborted")
    assert isinstance(writer, S3Writer)
    await writer.write(os.urandom(MIN_PART_SIZE + 1))  # one part uploaded, upload open
    upload_id = writer.upload_id
    assert upload_id is not None
    await writer.abort()
    with pytest.raises(ClientError) as raised:
        s3_client(s3_settings).abort_multipart_upload(
            Bucket=s3_settings.object_store.s3_bucket, Key="aborted", UploadId=upload_id
        )
    assert raised.value.response["Error"]["Code"] == "NoSuchUpload"


async def test_s3_driver_errors_become_object_store_errors(s3_settings: Settings) -> None:
    store = open_object_store(s3_settings.updated(object_store__s3_bucket="no-such-bucket-x"))
    with pytest.raises(ObjectStoreError) as raised:
        await store.put("k", b"x")
    assert raised.value.__cause__ is not None


async def test_fs_abort_leaves_no_temp_file(tmp_path: Path) -> None:
    store = FilesystemObjectStore(tmp_path)
    writer = await store.writer("dir/aborted")
    await writer.write(b"partial")
    await writer.abort()
    assert list((tmp_path / "dir").iterdir()) == []


async def test_fs_driver_errors_become_object_store_errors(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"not a directory")
    store = FilesystemObjectStore(tmp_path / "file")
    with pytest.raises(ObjectStoreError) as raised:
        await store.put("k", b"x")
    assert isinstance(raised.value.__cause__, OSError)


async def test_the_observed_store_reports_failures_by_operation_but_not_absent_keys(
    tmp_path: Path,
) -> None:
    (tmp_path / "file").write_bytes(b"not a directory")
    failed: list[str] = []
    store = ObservedObjectStore(FilesystemObjectStore(tmp_path / "file"), failed.append)
    with pytest.raises(ObjectStoreError):
        await store.put("k", b"x")
    healthy = ObservedObjectStore(FilesystemObjectStore(tmp_path / "dir"), failed.append)
    with pytest.raises(ObjectNotFoundError):
        await collect(healthy.read("absent"))
    assert failed == ["put"]
