"""The stack's arlocal holds a bundle transaction until its data arrives.

arlocal unbundles only while mining; with a miner ticking every few seconds, a block
mined between POST /tx and the first POST /chunk would otherwise swallow the bundle
without ever indexing its items (stack/node/arlocal-loopback.js explains the patch).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from core.ans104.parser import parse_data_item
from core.arweave_tx import transaction_to_json
from core.merkle import DataRootBuilder, chunk_upload, uploaded_chunk_spans
from tests.test_arweave_arlocal import (
    bundle_pieces,
    bundle_transaction,
    fresh_item,
    indexed_tags,
    wallet,
)


@pytest.fixture
def gateway(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=60) as client:
        yield client


def test_bundle_without_chunks_waits_for_its_data(gateway: httpx.Client, unique_name: str) -> None:
    item = fresh_item(f"held until its data arrives {unique_name}".encode())
    item_id = parse_data_item(item).header.id
    bundle = b"".join(bundle_pieces([item]))
    builder = DataRootBuilder(len(bundle))
    builder.update(bundle)
    tree = builder.finish()
    gateway.get(f"/mint/{wallet().address}/1000000000000000").raise_for_status()
    tx = bundle_transaction(gateway, len(bundle), tree.data_root)
    assert gateway.post("/tx", json=transaction_to_json(tx)).status_code == 200

    gateway.get("/mine").raise_for_status()
    assert gateway.get(f"/tx/{tx.id}/status").text == "Pending"  # arlocal's pending answer

    for index, span in enumerate(uploaded_chunk_spans(len(bundle))):
        body = chunk_upload(tree, index, bundle[span.start : span.end]).to_json()
        assert gateway.post("/chunk", json=body).status_code == 200
    gateway.get("/mine").raise_for_status()
    assert gateway.get(f"/tx/{tx.id}/status").json()["block_height"] >= 1
    assert indexed_tags(gateway, item_id) is not None
