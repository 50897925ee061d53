"""Fixtures of the upload API tests (helpers live in upload_harness.py).

Each test gets its own topic prefix (so its own topics and Redis namespace) and its own
object store directory. A missing service makes the test fail, never skip.
"""

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from upload_harness import RunningApi, serve

from bundlestream.settings import Settings


@pytest.fixture(scope="session")
def receipt_key_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One service key for the session: generating RSA keys is slow."""
    return tmp_path_factory.mktemp("receipt-key") / "wallet.json"


@pytest.fixture
def settings(tmp_path: Path, receipt_key_path: Path) -> Settings:
    """Stack addresses from the environment; everything else private to this test."""
    return Settings().updated(
        kafka__topic_prefix=f"t-{uuid.uuid4().hex[:10]}-",
        kafka__topic_partitions=2,
        object_store__backend="fs",
        object_store__dir=tmp_path / "objects",
        arweave__receipt_key_path=receipt_key_path,
        arweave__receipt_key_size=2048,
        api__block_height_refresh_s=2.0,
        # A bound a loaded machine does not reach (a local delivery takes milliseconds);
        # a test that wants the broker-down 503 sooner sets its own.
        kafka__delivery_timeout_s=30.0,
    )


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[RunningApi]:
    async with serve(settings) as running:
        yield running


@pytest.fixture
def make_api(settings: Settings) -> Callable[..., Any]:
    """``async with make_api(key=value) as api`` with settings overridden."""

    def make(**update: Any) -> contextlib.AbstractAsyncContextManager[RunningApi]:
        return serve(settings.updated(**update))

    return make
