"""Acceptance against a real arlocal: a bundle transaction built, signed and chunked by our
code is accepted (POST /tx, POST /chunk), mined, and unbundled into queryable items.

Reads the gateway from Settings (BUNDLESTREAM_GATEWAY_URL) and FAILS if it is unreachable.
"""

from collections.abc import Iterator
from functools import cache

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bundlestream.core.ans104.bundle_writer import item_source_from_bytes, write_bundle
from bundlestream.core.ans104.parser import parse_data_item
from bundlestream.core.ans104.signing import ArweaveSigner, sign_data_item
from bundlestream.core.ans104.tags import Tag as ItemTag
from bundlestream.core.arweave_tx import (
    BUNDLE_TAGS,
    Tag,
    Transaction,
    sign_transaction,
    transaction_to_json,
)
from bundlestream.core.jwk import ArweaveKey, arweave_key_from_jwk, jwk_from_private_key
from bundlestream.core.merkle import DataRootBuilder, chunk_upload, uploaded_chunk_spans
from tests.ar_transfers import anchored_transaction
from tests.bounds import GATEWAY_REQUEST_S
from tests.conftest import FIXTURES

pytestmark = pytest.mark.stack

# The 263 KiB item pushes the bundle past one 256 KiB chunk.
FIXTURE_ITEMS = ("stub1115ByteDataItem", "integrationStubDataItem1", "zeroBytePayloadDataItem")


@cache
def wallet() -> ArweaveKey:
    return arweave_key_from_jwk(jwk_from_private_key(rsa.generate_private_key(65537, 4096)))


@pytest.fixture
def gateway(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=GATEWAY_REQUEST_S) as client:
        yield client


def fresh_item(payload: bytes) -> bytes:
    """A data item no arlocal has seen: fixture items may already be indexed there."""
    tags = [ItemTag(b"Content-Type", b"text/plain"), ItemTag(b"App-Name", b"bundlestream")]
    return sign_data_item(ArweaveSigner(wallet()), payload, tags=tags)


def bundle_pieces(items: list[bytes]) -> Iterator[bytes]:
    """The bundle as the post stage streams it: header, then each item."""
    return write_bundle([item_source_from_bytes(item) for item in items])


def bundle_transaction(gateway: httpx.Client, data_size: int, data_root: bytes) -> Transaction:
    tags = (*BUNDLE_TAGS, Tag.text("App-Name", "bundlestream-acceptance"))
    unsigned = anchored_transaction(gateway, data_size, data_root, tags)
    return sign_transaction(unsigned, wallet())


def indexed_tags(gateway: httpx.Client, item_id: str) -> list[dict[str, str]] | None:
    """The item's tags as arlocal's GraphQL returns them, or None if it is not indexed."""
    query = (
        "query($ids: [ID!]) { transactions(ids: $ids) { edges { node { tags { name value } } } } }"
    )
    answer = gateway.post("/graphql", json={"query": query, "variables": {"ids": [item_id]}})
    edges = answer.raise_for_status().json()["data"]["transactions"]["edges"]
    return edges[0]["node"]["tags"] if edges else None


def test_bundle_transaction_is_accepted_mined_and_unbundled(
    gateway: httpx.Client, unique_name: str
) -> None:
    payload = f"bundlestream acceptance {unique_name}".encode()
    item = fresh_item(payload)
    item_id = parse_data_item(item).header.id
    items = [item, *((FIXTURES / name).read_bytes() for name in FIXTURE_ITEMS)]
    bundle = b"".join(bundle_pieces(items))  # kept to re-read chunks, as from the object store
    builder = DataRootBuilder(len(bundle))
    for piece in bundle_pieces(items):
        builder.update(piece)
    tree = builder.finish()
    gateway.get(f"/mint/{wallet().address}/1000000000000000").raise_for_status()

    tx = bundle_transaction(gateway, len(bundle), tree.data_root)
    posted = gateway.post("/tx", json=transaction_to_json(tx))
    assert posted.status_code == 200, posted.text
    spans = uploaded_chunk_spans(len(bundle))
    assert len(spans) == 2
    for index, span in enumerate(spans):
        body = chunk_upload(tree, index, bundle[span.start : span.end]).to_json()
        assert gateway.post("/chunk", json=body).status_code == 200
    assert indexed_tags(gateway, item_id) is None  # arlocal unbundles when it mines
    gateway.get("/mine").raise_for_status()

    status = gateway.get(f"/tx/{tx.id}/status")
    assert status.status_code == 200, status.text  # 202 while pending, 200 once in a block
    assert status.json()["block_height"] >= 1
    assert gateway.get(f"/tx/{tx.id}/data_root").text == transaction_to_json(tx)["data_root"]
    assert indexed_tags(gateway, item_id) == [
        {"name": "Content-Type", "value": "text/plain"},
        {"name": "App-Name", "value": "bundlestream"},
    ]
    assert gateway.get(f"/{item_id}").content == payload
    assert gateway.get("/QpmY8mZmFEC8RxNsgbxSV6e36OF6quIYaPRKzvUco0o").content == b"5670\n"
