"""The stack's arlocal holds a bundle transaction until all of its data has arrived.

arlocal unbundles only while mining; with a miner ticking every few seconds, a block
mined between POST /tx and the last POST /chunk would otherwise swallow the bundle
without ever indexing its items, or unbundle it from a truncated buffer
(stack/node/arlocal-loopback.js explains the patches).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator

import httpx
import pytest

from bundlestream.core.ans104.parser import parse_data_item
from bundlestream.core.arweave_tx import transaction_to_json
from bundlestream.core.merkle import DataRootBuilder, chunk_upload, uploaded_chunk_spans
from bundlestream.settings import Settings
from tests.bounds import GATEWAY_REQUEST_S
from tests.test_arweave_arlocal import (
    bundle_pieces,
    bundle_transaction,
    fresh_item,
    indexed_tags,
    wallet,
)


@pytest.fixture
def gateway(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=GATEWAY_REQUEST_S) as client:
        yield client


def posted_bundle(
    gateway: httpx.Client, payload: bytes, items: int = 1
) -> tuple[str, str, list[dict[str, str]]]:
    """Post a bundle of fresh items; (first item id, bundle tx id, its chunk uploads)."""
    fresh = [fresh_item(payload + bytes([index])) for index in range(items)]
    bundle = b"".join(bundle_pieces(fresh))
    builder = DataRootBuilder(len(bundle))
    builder.update(bundle)
    tree = builder.finish()
    gateway.get(f"/mint/{wallet().address}/1000000000000000").raise_for_status()
    tx = bundle_transaction(gateway, len(bundle), tree.data_root)
    assert gateway.post("/tx", json=transaction_to_json(tx)).status_code == 200
    chunks = [
        chunk_upload(tree, index, bundle[span.start : span.end]).to_json()
        for index, span in enumerate(uploaded_chunk_spans(len(bundle)))
    ]
    return parse_data_item(fresh[0]).header.id, tx.id, chunks


def pending(gateway: httpx.Client, tx_id: str) -> bool:
    return gateway.get(f"/tx/{tx_id}/status").text == "Pending"  # arlocal's pending answer


def test_bundle_without_chunks_waits_for_its_data(gateway: httpx.Client, unique_name: str) -> None:
    item_id, tx_id, chunks = posted_bundle(gateway, f"held {unique_name}".encode())

    gateway.get("/mine").raise_for_status()
    assert pending(gateway, tx_id)

    for body in chunks:
        assert gateway.post("/chunk", json=body).status_code == 200
    gateway.get("/mine").raise_for_status()
    assert gateway.get(f"/tx/{tx_id}/status").json()["block_height"] >= 1
    assert indexed_tags(gateway, item_id) is not None


def test_bundle_with_some_chunks_waits_for_all(gateway: httpx.Client, unique_name: str) -> None:
    payload = os.urandom(600_000)  # three 256 KiB chunks, distinct (arlocal drops repeats)
    item_id, tx_id, chunks = posted_bundle(gateway, payload)
    assert len(chunks) == 3

    for body in chunks[:2]:
        assert gateway.post("/chunk", json=body).status_code == 200
    gateway.get("/mine").raise_for_status()
    assert pending(gateway, tx_id)
    assert indexed_tags(gateway, item_id) is None

    assert gateway.post("/chunk", json=chunks[2]).status_code == 200
    gateway.get("/mine").raise_for_status()
    assert gateway.get(f"/tx/{tx_id}/status").json()["block_height"] >= 1
    assert indexed_tags(gateway, item_id) is not None


def test_chunk_lookups_are_indexed(gateway: httpx.Client) -> None:
    """POST /chunk and the mine look chunks up by offset and data root: without indexes
    each lookup read every chunk of the chain, and the stack keeps one chain for all tests."""
    gateway.get("/info").raise_for_status()
    database = Settings().stack.dir.resolve() / "arlocal" / "db" / "db.sqlite"
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        plans = {
            column: db.execute(
                f"explain query plan select id from chunks where {column} = ?", ("x",)
            ).fetchall()
            for column in ("data_root", "offset")
        }
    assert all("USING INDEX" in str(plan) for plan in plans.values()), plans


def test_bundles_posted_while_mines_run_are_all_indexed(
    gateway: httpx.Client, unique_name: str
) -> None:
    """Bundles posted, then seeded, while blocks are mined back to back: each is mined by
    a mine that unbundled it, never by one that was already running when it arrived (each
    mine unbundles bundles of 30 items, so it runs long enough for chunks to arrive)."""
    posted = [posted_bundle(gateway, f"{unique_name} {n}".encode(), items=30) for n in range(8)]
    stop = threading.Event()

    def mine_back_to_back() -> None:
        with httpx.Client(base_url=gateway.base_url, timeout=GATEWAY_REQUEST_S) as client:
            while not stop.is_set():
                client.get("/mine")

    miner = threading.Thread(target=mine_back_to_back)
    miner.start()
    try:
        for _, _, chunks in posted:
            for body in chunks:
                assert gateway.post("/chunk", json=body).status_code == 200
    finally:
        stop.set()
        miner.join()
    gateway.get("/mine").raise_for_status()
    for item_id, tx_id, _ in posted:
        assert gateway.get(f"/tx/{tx_id}/status").json()["block_height"] >= 1
        assert indexed_tags(gateway, item_id) is not None, tx_id
