"""Uploads and the exactly-once checks of the pipeline tests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sqlite3
from collections import Counter

import httpx
from pipeline_harness import EventLog

from bench.fuzz_items import all_signers
from bundlestream.core.ans104.bundle_header import (
    COUNT_BYTES,
    ENTRY_BYTES,
    decode_count,
    decode_entry,
    header_size,
)
from bundlestream.core.ans104.bundle_writer import bundle_bytes
from bundlestream.core.ans104.parser import parse_data_item
from bundlestream.core.ans104.signing import (
    DataItemSigner,
    sign_data_item,
)
from bundlestream.core.ans104.tags import Tag
from bundlestream.schemas.events import BundlePlanned
from bundlestream.settings import Settings
from tests.bounds import HTTP_REQUEST_S


def signers() -> list[DataItemSigner]:
    """One signer of every ANS-104 signature type, types 1 to 7 in order."""
    return all_signers()


# Payload sizes: empty, tiny, a few KiB, and some past the default inline limit (64 KiB),
# which travel through the object store. Ten sizes against seven signers (coprime): every
# signature type gets every size.
MIXED_SIZES = (0, 1, 100, 700, 2_000, 4_096, 9_000, 20_000, 70_000, 90_000)


def mixed_item(signer: DataItemSigner, index: int) -> bytes:
    """Item ``index`` of a mixed run: its size from MIXED_SIZES, tags on every third, a
    target on every fifth. Payloads are random (arlocal drops repeated chunks); a payload
    too short to be unique gets a random anchor, or Ed25519 and secp256k1, deterministic,
    would sign two equal items the same way (one id, a 202 duplicate)."""
    payload = os.urandom(MIXED_SIZES[index % len(MIXED_SIZES)])
    tags = [Tag(b"Content-Type", b"application/octet-stream")] if index % 3 == 0 else []
    target = os.urandom(32) if index % 5 == 0 else None
    anchor = os.urandom(32) if index % 5 == 0 or len(payload) < 32 else None
    return sign_data_item(signer, payload, tags=tags, target=target, anchor=anchor)


def mixed_items(count: int, oversize: int) -> list[bytes]:
    """``count`` items of every signature type and MIXED_SIZES, then one of ``oversize``
    payload bytes, then a nested bundle (last) holding one item of every signature type."""
    keys = signers()
    items = [mixed_item(keys[i % len(keys)], i) for i in range(count)]
    items.append(sign_data_item(keys[0], os.urandom(oversize)))
    items.append(nested_bundle_item(keys[1], [sign_data_item(k, os.urandom(500)) for k in keys]))
    return items


def nested_bundle_item(signer: DataItemSigner, inner: list[bytes]) -> bytes:
    """A data item whose payload is an ANS-104 bundle of ``inner`` (ANS-104 nesting tags)."""
    tags = [Tag(b"Bundle-Format", b"binary"), Tag(b"Bundle-Version", b"2.0.0")]
    return sign_data_item(signer, bundle_bytes(inner), tags=tags)


async def upload_all(
    url: str,
    items: list[bytes],
    concurrency: int = 16,
    retry_503: bool = False,
    pause_s: float = 0.0,
) -> list[str]:
    """Upload every item; the ids of those answered 200 (not the duplicates' 202).

    With ``retry_503`` an upload refused while a dependency is down is tried again.
    """
    gate = asyncio.Semaphore(concurrency)
    headers = {"content-type": "application/octet-stream"}
    async with httpx.AsyncClient(base_url=url, timeout=HTTP_REQUEST_S) as client:

        async def one(item: bytes) -> str:
            for _ in range(120):
                async with gate:
                    answer = await client.post("/tx", content=item, headers=headers)
                    await asyncio.sleep(pause_s)
                if answer.status_code != 503 or not retry_503:
                    break
                await asyncio.sleep(1)
            assert answer.status_code in (200, 202), answer.text
            return str(answer.json()["id"]) if answer.status_code == 200 else ""

        return [i for i in await asyncio.gather(*(one(item) for item in items)) if i]


def bundled_ids(log: EventLog, confirmed_only: bool = True) -> Counter[str]:
    """How many distinct (confirmed) plans list each item id.

    A plan decided again after a crash is the same plan (same id, same items): it is
    counted once, as the stages downstream treat it once.
    """
    confirmed = {e.plan_id for e in log.of("BundleConfirmed")}
    return Counter(
        item.data_item_id
        for plan in distinct_plans(log).values()
        if plan.plan_id in confirmed or not confirmed_only
        for item in plan.items
    )


def distinct_plans(log: EventLog) -> dict[str, BundlePlanned]:
    plans: dict[str, BundlePlanned] = {}
    for plan in log.of("BundlePlanned"):
        assert plans.setdefault(plan.plan_id, plan) == plan, "one plan id, two contents"
    return plans


def assert_exactly_once(log: EventLog, ids: list[str]) -> None:
    """Every id in exactly one confirmed bundle and in no other live plan."""
    confirmed = bundled_ids(log)
    assert all(confirmed[i] == 1 for i in ids), {i: confirmed[i] for i in ids if confirmed[i] != 1}
    dropped = {e.plan_id for e in log.of("BundleDropped")}
    live = Counter(
        item.data_item_id
        for plan in distinct_plans(log).values()
        if plan.plan_id not in dropped
        for item in plan.items
    )
    assert all(live[i] == 1 for i in ids), {i: live[i] for i in ids if live[i] != 1}


def arlocal_parents(ids: list[str]) -> dict[str, tuple[str, bool]]:
    """Item id → (bundledIn, mined) as arlocal recorded them when it unbundled.

    arlocal's GraphQL leaves ``bundledIn`` unresolved (always null), so this reads the
    column from arlocal's own database, read-only.
    """
    database = Settings().stack.dir.resolve() / "arlocal" / "db" / "db.sqlite"
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        marks = ",".join("?" * len(ids))
        rows = db.execute(
            f"select id, bundledIn, block is not null from transactions where id in ({marks})", ids
        ).fetchall()
    return {row[0]: (row[1], bool(row[2])) for row in rows}


def assert_unbundled(log: EventLog, ids: list[str]) -> None:
    """arlocal has every item as mined, unbundled from one of the confirmed bundles."""
    bundles = {e.bundle_id for e in log.of("BundleConfirmed")}
    parents = arlocal_parents(ids)
    missing = [
        (item_id, parents.get(item_id), _plan_of(log, item_id))
        for item_id in ids
        if parents.get(item_id, ("", False))[0] not in bundles or not parents[item_id][1]
    ]
    assert not missing, missing


def _plan_of(log: EventLog, item_id: str) -> list[tuple[str, int]]:
    return [
        (plan.plan_id, len(plan.items))
        for plan in log.of("BundlePlanned")
        if any(item.data_item_id == item_id for item in plan.items)
    ]


STAGES = ("BundlePrepared", "BundlePosted", "BundleSeeded", "BundleConfirmed", "BundleDropped")


def progress(log: EventLog, ids: list[str]) -> dict[str, object]:
    """Where the ids not yet in a confirmed bundle are: their plans and each plan's stages."""
    done = bundled_ids(log)
    stages = {name: {e.plan_id for e in log.of(name)} for name in STAGES}
    accepted = {e.data_item_id for e in log.of("DataItemAccepted")}
    return {
        item_id: (
            item_id in accepted,
            [(pid, [n for n in STAGES if pid in stages[n]]) for pid, _ in _plan_of(log, item_id)],
        )
        for item_id in ids
        if not done[item_id]
    }


async def wait_all_confirmed(log: EventLog, ids: list[str], timeout_s: float) -> None:
    from pipeline_harness import wait_for

    await wait_for(
        log,
        lambda: set(bundled_ids(log)) >= set(ids),
        timeout_s,
        "confirmations",
        lambda: progress(log, ids),
    )


def nested_entries(item: bytes) -> list[tuple[str, int, int]]:
    """(id, start in the parent's payload, size) of each item of a nested bundle item.

    ANS-104 bundle layout: a 32-byte count, a 64-byte entry (size, id) per item, then the
    items back to back; offsets are computed here from that layout alone.
    """
    payload = item[parse_data_item(item).header.payload_start :]
    count = decode_count(payload[:COUNT_BYTES])
    entries = [
        decode_entry(payload[COUNT_BYTES + ENTRY_BYTES * k :][:ENTRY_BYTES]) for k in range(count)
    ]
    starts = itertools.accumulate((e.size for e in entries), initial=header_size(count))
    return [(e.id, start, e.size) for e, start in zip(entries, starts, strict=False)]


async def assert_nested_offsets(url: str, nested_item: bytes) -> None:
    """GET /tx/{id}/offsets of every item inside ``nested_item`` names its parent, its
    place in the parent's payload, and its place in the root bundle through the parent."""
    parent_id, entries = parse_data_item(nested_item).id, nested_entries(nested_item)
    assert len(entries) > 1
    async with httpx.AsyncClient(base_url=url, timeout=HTTP_REQUEST_S) as client:
        parent = (await client.get(f"/tx/{parent_id}/offsets")).json()
        inner_base = parent["startOffsetInRootBundle"] + parent["payloadDataStart"]
        for inner_id, start, size in entries:
            offsets = (await client.get(f"/tx/{inner_id}/offsets")).json()
            expected = {
                "rootBundleId": parent["rootBundleId"],
                "parentDataItemId": parent_id,
                "startOffsetInParentDataItemPayload": start,
                "startOffsetInRootBundle": inner_base + start,
                "rawContentLength": size,
            }
            assert expected.items() <= offsets.items(), (inner_id, offsets)


async def wait_finalized(url: str, ids: list[str], timeout_s: float, concurrency: int = 32) -> None:
    """Until GET /tx/{id}/status answers FINALIZED for every id (projections behind it).

    Each round asks for every id still pending, ``concurrency`` requests at a time, then
    waits a second: a finalized id is not asked again.
    """
    pending = set(ids)
    last: dict[str, str] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=HTTP_REQUEST_S) as client:

        async def status(item_id: str) -> str | None:
            async with gate:
                answer = await client.get(f"/tx/{item_id}/status")
            last[item_id] = answer.text
            return answer.json().get("status") if answer.status_code == 200 else None

        while pending:
            round_ = sorted(pending)
            answers = await asyncio.gather(*(status(item_id) for item_id in round_))
            pending -= {i for i, s in zip(round_, answers, strict=True) if s == "FINALIZED"}
            if pending:
                stuck = {i: last[i] for i in sorted(pending)[:3]}
                assert loop.time() < deadline, f"{len(pending)} not FINALIZED, e.g. {stuck}"
                await asyncio.sleep(1)
