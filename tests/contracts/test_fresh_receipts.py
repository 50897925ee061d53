"""One contract suite for the fresh-receipt view, run against Redis and the in-memory
fake the upload-path tests use: what the upload path relies on, both must do."""

import json
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from bundlestream.adapters.fresh_receipts import FreshReceipts, FreshView, ViewUnavailable
from tests.fakes import MemoryFreshReceipts

ITEM = "i" * 43


@dataclass
class Views:
    """A view, one under another namespace of the same server, and one that is down."""

    view: FreshView
    neighbour: FreshView
    down: FreshView


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def redis_views(redis_url: str) -> AsyncIterator[Views]:
    redis = Redis.from_url(redis_url)
    unreachable = Redis(host="127.0.0.1", port=closed_port(), socket_connect_timeout=1)
    namespaces = [f"contract-{uuid.uuid4().hex[:8]}:" for _ in range(2)]
    yield Views(
        FreshReceipts(redis, namespaces[0], receipt_ttl_s=300),
        FreshReceipts(redis, namespaces[1], receipt_ttl_s=300),
        FreshReceipts(unreachable, namespaces[0], receipt_ttl_s=300),
    )
    for namespace in namespaces:
        keys = [key async for key in redis.scan_iter(match=f"{namespace}*")]
        if keys:
            await redis.delete(*keys)
    await redis.aclose()
    await unreachable.aclose()


def memory_views() -> Views:
    down = MemoryFreshReceipts()
    down.down = True
    return Views(MemoryFreshReceipts(), MemoryFreshReceipts(), down)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.stack)])
def views(request: pytest.FixtureRequest) -> Views:
    if request.param == "memory":
        return memory_views()
    views: Views = request.getfixturevalue("redis_views")
    return views


async def test_only_a_remembered_id_has_a_receipt(views: Views) -> None:
    assert await views.view.has_receipt(ITEM) is False
    await views.view.remember(ITEM, {"winc": "0"})
    assert await views.view.has_receipt(ITEM) is True
    assert await views.view.has_receipt("j" * 43) is False


async def test_a_record_round_trips_as_json(views: Views) -> None:
    await views.view.remember(ITEM, {"caches": ("a", "b"), "size": 10, "none": None})
    assert await views.view.get(ITEM) == {"caches": ["a", "b"], "size": 10, "none": None}


async def test_an_unknown_id_has_no_record(views: Views) -> None:
    assert await views.view.get(ITEM) is None


async def test_namespaces_do_not_see_each_other(views: Views) -> None:
    await views.view.remember(ITEM, {"winc": "1"})
    assert await views.neighbour.get(ITEM) is None
    assert await views.neighbour.has_receipt(ITEM) is False


async def test_a_view_that_is_down_says_so(views: Views) -> None:
    with pytest.raises(ViewUnavailable):
        await views.down.has_receipt(ITEM)
    with pytest.raises(ViewUnavailable):
        await views.down.remember(ITEM, {"winc": "0"})
    with pytest.raises(ViewUnavailable):
        await views.down.get(ITEM)


async def test_a_write_of_a_record_carries_it_as_remember_would(views: Views) -> None:
    record = {"id": ITEM, "winc": "0"}
    write = views.view.write_of(ITEM, record)
    await views.view.remember(ITEM, record)
    assert json.loads(write.value) == await views.view.get(ITEM)
