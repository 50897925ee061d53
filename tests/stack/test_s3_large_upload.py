"""A 64 MiB object goes to the S3 server through boto3 multipart, in bounded client memory."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from bundlestream.adapters.s3 import MIN_PART_SIZE, S3Writer
from bundlestream.settings import MiB, Settings
from bundlestream.wiring import open_object_store

OBJECT_SIZE = 64 * MiB
CHUNK = MiB


@pytest.fixture
def bucket_settings(settings: Settings, s3_endpoint: str, unique_name: str) -> Iterator[Settings]:
    own = settings.updated(
        object_store__backend="s3",
        object_store__s3_bucket=unique_name,
        object_store__s3_part_size=MIN_PART_SIZE,
    )
    client = boto3.client(
        "s3",
        endpoint_url=own.object_store.s3_endpoint,
        region_name=own.object_store.s3_region,
        aws_access_key_id=own.object_store.s3_access_key,
        aws_secret_access_key=own.object_store.s3_secret_key.get_secret_value(),
        config=Config(s3={"addressing_style": "path"}),
    )
    client.create_bucket(Bucket=unique_name)
    yield own
    client.delete_object(Bucket=unique_name, Key="large")
    client.delete_bucket(Bucket=unique_name)


async def test_64_mib_multipart_upload_keeps_client_memory_bounded(
    bucket_settings: Settings,
) -> None:
    store = open_object_store(bucket_settings)
    sent = hashlib.sha256()
    tracemalloc.start()
    try:
        writer = await store.writer("large")
        assert isinstance(writer, S3Writer)
        for _ in range(OBJECT_SIZE // CHUNK):
            chunk = os.urandom(CHUNK)
            sent.update(chunk)
            await writer.write(chunk)
        assert writer.upload_id is not None  # it really went multipart
        assert await writer.commit() == OBJECT_SIZE
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * MiB, f"peak traced memory {peak / MiB:.1f} MiB"
    received = hashlib.sha256()
    async for chunk in store.read("large"):
        received.update(chunk)
    assert received.digest() == sent.digest()
    assert await store.size("large") == OBJECT_SIZE
