"""Optical post through the real pipeline: headers of accepted items reach real HTTP
servers standing in for AR.IO gateways, while one that always fails blocks nothing."""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from pipeline_checks import assert_exactly_once, signers, upload_all, wait_all_confirmed
from pipeline_harness import pipeline_settings, running_pipeline, serving

from bundlestream.core.ans104.parser import parse_data_item
from bundlestream.core.ans104.signing import sign_data_item
from bundlestream.core.ans104.tags import Tag
from bundlestream.core.encoding import b64url_decode
from bundlestream.core.jwk import verify_arweave_signature
from bundlestream.core.optical import optical_message, unsigned_header
from bundlestream.schemas.topics import DATA_ITEMS_DEDUPLICATED
from bundlestream.settings import Settings
from tests.bounds import BROKER_REQUEST_S, CONDITION_S


class OpticalGateway:
    """Records every POST; answers 503 to the first ``fail_first`` of them."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.accepted: list[dict[str, Any]] = []  # headers of the requests answered 200

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from starlette.requests import Request
        from starlette.responses import Response

        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        self.requests.append((dict(request.headers), body))
        if len(self.requests) <= self.fail_first:
            await Response("busy", 503)(scope, receive, send)
            return
        self.accepted += json.loads(body)
        await Response("OK", 200)(scope, receive, send)

    def ids(self) -> Counter[str]:
        return Counter(header["id"] for header in self.accepted)


def items() -> list[bytes]:
    """Inline (< 64 KiB) and object-store items of three signature types, with tags."""
    keys = signers()
    tags = [Tag(b"Content-Type", b"text/plain"), Tag(b"App-Name", b"\xffnot utf-8")]
    sizes = [0, 5, 1000, 70_000, 20_000, 100_000]
    return [
        sign_data_item(keys[i % 3], os.urandom(sizes[i % len(sizes)]), tags=tags[: i % 3])
        for i in range(12)
    ]


def assert_header_of(posted: dict[str, Any], item: bytes, public_key: str) -> None:
    parsed = parse_data_item(item)
    expected = unsigned_header(parsed.header, parsed.payload_size, datetime.now(UTC))
    assert {k: v for k, v in posted.items() if k not in ("uploaded_at", "bundlr_signature")} == {
        k: v for k, v in expected.items() if k != "uploaded_at"
    }
    signature = b64url_decode(posted["bundlr_signature"])
    assert verify_arweave_signature(
        b64url_decode(public_key), optical_message(parsed.id), signature
    )


async def test_accepted_items_headers_reach_every_gateway_once(tmp_path: Path) -> None:
    good, flaky, broken = OpticalGateway(), OpticalGateway(fail_first=2), OpticalGateway(10**9)
    uploads = items()
    async with serving(good) as g, serving(flaky) as f, serving(broken) as b:
        settings = pipeline_settings(
            tmp_path, streams__optical_urls=[g, f, b], streams__optical_max_attempts=3
        )
        async with running_pipeline(settings) as run:
            ids = await upload_all(run.api_url, uploads)
            assert await upload_all(run.api_url, uploads[:3]) == []  # duplicates: 202
            # The pipeline finishes although one gateway refuses every post.
            await wait_all_confirmed(run.log, ids, 300)
            assert_exactly_once(run.log, ids)
            await _until(lambda: set(good.ids()) >= set(ids) <= set(flaky.ids()))
            # Once the stage has committed its whole input, every batch it read has had
            # all its attempts and none is read again: the counts below are final.
            await _until_async(lambda: asyncio.to_thread(optical_caught_up, settings))
            # Every batch is tried optical_max_attempts times at the broken gateway (the
            # flaky one failed the first batch's first two attempts only).
            batches = len(good.requests)
    assert good.ids() == Counter(set(ids)), good.ids()
    assert flaky.ids() == Counter(set(ids)), flaky.ids()
    assert len(flaky.requests) == batches + 2 and not broken.accepted
    assert len(broken.requests) == 3 * batches
    headers, _ = good.requests[0]
    assert headers["content-type"] == "application/json"
    by_id = {parse_data_item(item).id: item for item in uploads}
    for posted in good.accepted:
        assert_header_of(posted, by_id[posted["id"]], headers["x-bundlr-public-key"])


async def _until(predicate: Any) -> None:
    async def holds() -> bool:
        return bool(predicate())

    await _until_async(holds)


async def _until_async(predicate: Any) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONDITION_S
    while not await predicate():
        assert loop.time() < deadline, "timed out waiting for the optical posts"
        await asyncio.sleep(0.2)


def optical_caught_up(settings: Settings) -> bool:
    """Whether the optical stage's group has committed the end of every partition of its
    input, ``data-items.deduplicated`` (written without transactions: no control records
    after the last event)."""
    topic = DATA_ITEMS_DEDUPLICATED.full_name(settings.kafka.topic_prefix)
    partitions = [TopicPartition(topic, p) for p in range(settings.kafka.topic_partitions)]
    group = f"{settings.streams.app_id}-optical"
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap, "group.id": group})
    try:
        ends = [consumer.get_watermark_offsets(tp, BROKER_REQUEST_S)[1] for tp in partitions]
        done = [tp.offset for tp in consumer.committed(partitions, timeout=BROKER_REQUEST_S)]
    finally:
        consumer.close()
    # A partition the group never committed reports a negative (invalid) offset.
    return [max(offset, 0) for offset in done] == ends
