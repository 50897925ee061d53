"""POST /tx against the real stack: every fixture answers as upstream does, and the
receipt only ever follows a durable payload and an acknowledged event."""

from collections.abc import Callable
from typing import Any

import pytest
from upload_harness import RunningApi, fixture_bytes

from bundlestream.core.ans104 import parse_data_item
from bundlestream.core.receipts import verify_receipt
from bundlestream.wiring import open_object_store

pytestmark = pytest.mark.stack

OCTET = {"Content-Type": "application/octet-stream"}
PARSE_ERROR = "Data item parsing error!"
INVALID = "Invalid Data Item!"

# (fixture, status, body) as upstream answers them (fixtures README + turbo router tests).
# 505KiBStubDataItem is over the free upload limit: 402 without credit (see below).
ACCEPTED = [
    "stub1115ByteDataItem",
    "stubSolanaDataItem",
    "stubEthereumDataItem",
    "anotherStubDataItem",
    "stubDataItemFromNonAllowListedWallet",
    "stubDataItemWithEmptyStringsForTagNamesAndValues",
    "zeroBytePayloadDataItem",
    "integrationStubDataItem0",
    "integrationStubDataItem1",
    "integrationStubDataItem2",
    "integrationStubDataItem3",
    "1ChunkStubDataItem",
    "420KiBStubDataItem",
    "bdiDataItem",
    "bdiDataItemWithTwoNestedItems",
]
REFUSED = [
    ("stubInvalidDataItem", 400, INVALID),
    ("ar-io-bundler/bdiDataItem", 400, INVALID),  # a bundle read as an item: bad signature
    ("bundleHeaderStub", 400, PARSE_ERROR),  # truncated after the signature type
    ("bundleTxStub", 400, PARSE_ERROR),  # JSON: unknown signature type
    ("505KiBStubDataItem", 402, "Insufficient balance"),
]


@pytest.mark.parametrize("name", ACCEPTED)
async def test_accepted_fixture_gets_a_verifiable_receipt_after_its_event(
    api: RunningApi, name: str
) -> None:
    raw = fixture_bytes(name)
    item = parse_data_item(raw)
    async with api.client() as client:
        response = await client.post("/v1/tx", content=raw, headers=OCTET)
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert receipt["id"] == item.id
    assert receipt["owner"] == item.header.owner_address
    assert receipt["version"] == "0.2.0"
    assert verify_receipt(receipt)
    [event] = api.events()
    assert (event.data_item_id, event.raw_size) == (item.id, len(raw))
    assert event.payload_start == item.header.payload_start
    assert round(event.received_at.timestamp() * 1000) == receipt["timestamp"]
    assert event.deadline_height == receipt["deadlineHeight"]
    assert stored_bytes(api, event) == raw


def stored_bytes(api: RunningApi, event: Any) -> bytes:
    """The one durable copy: inline in the event when small, else the object."""
    if event.inline_item is not None:
        assert event.object_key is None
        assert api.stored_files() == []
        return bytes(event.inline_item)
    [path] = api.stored_files()
    assert path.relative_to(api.settings.object_store.dir).as_posix() == event.object_key
    return path.read_bytes()


@pytest.mark.parametrize(("name", "status", "body"), REFUSED)
async def test_refused_fixture_answers_as_upstream_and_keeps_nothing(
    api: RunningApi, name: str, status: int, body: str
) -> None:
    async with api.client() as client:
        response = await client.post("/tx", content=fixture_bytes(name), headers=OCTET)
    # Unfunded, upstream answers the x402 requirements, its error the balance's.
    text = response.json()["error"] if status == 402 else response.text
    assert (response.status_code, text) == (status, body)
    assert api.stored_files() == []
    assert api.events() == []


async def test_over_free_limit_is_accepted_for_an_allow_listed_owner(
    make_api: Callable[..., Any],
) -> None:
    raw = fixture_bytes("505KiBStubDataItem")
    owner = parse_data_item(raw).header.owner_address
    async with make_api(api__allow_listed_addresses=[owner]) as api:
        async with api.client() as client:
            response = await client.post("/tx", content=raw, headers=OCTET)
        assert response.status_code == 200, response.text
        assert verify_receipt(response.json())


async def test_second_upload_of_an_item_is_a_duplicate(api: RunningApi) -> None:
    raw = fixture_bytes("anotherStubDataItem")
    async with api.client() as client:
        first = await client.post("/v1/tx", content=raw, headers=OCTET)
        second = await client.post("/tx/arweave", content=raw, headers=OCTET)
    assert first.status_code == 200
    assert second.status_code == 202
    assert second.text == (
        "Data item with ID PPqimlPSz890fAufmEs7XnpReEq_o70FvJvz-Leiw1A "
        "has already been uploaded to this service!"
    )
    assert len(api.events()) == 1


async def test_wrong_content_type_is_refused(api: RunningApi) -> None:
    raw = fixture_bytes("stub1115ByteDataItem")
    async with api.client() as client:
        response = await client.post("/tx", content=raw, headers={"Content-Type": "text/plain"})
    assert (response.status_code, response.text) == (400, "Invalid Content Type")
    assert api.events() == []


async def test_missing_content_type_is_accepted_as_upstream_does(api: RunningApi) -> None:
    async with api.client() as client:
        response = await client.post("/tx", content=fixture_bytes("stub1115ByteDataItem"))
    assert response.status_code == 200


async def test_blocklisted_owner_is_forbidden_and_nothing_is_kept(
    make_api: Callable[..., Any],
) -> None:
    raw = fixture_bytes("1ChunkStubDataItem")
    owner = parse_data_item(raw).header.owner_address
    async with make_api(api__blocklisted_addresses=[owner]) as api:
        async with api.client() as client:
            response = await client.post("/tx", content=raw, headers=OCTET)
        assert (response.status_code, response.text) == (403, "Forbidden")
        assert api.stored_files() == []
        assert api.events() == []


async def test_invalid_signature_on_a_large_item_leaves_no_object(api: RunningApi) -> None:
    raw = bytearray(fixture_bytes("1ChunkStubDataItem"))
    raw[-1] ^= 0xFF  # payload byte: the signature no longer verifies
    async with api.client() as client:
        response = await client.post("/tx", content=bytes(raw), headers=OCTET)
    assert (response.status_code, response.text) == (400, INVALID)
    assert api.stored_files() == []
    assert api.events() == []


async def test_status_and_offsets_answer_right_after_the_receipt(api: RunningApi) -> None:
    raw = fixture_bytes("integrationStubDataItem1")
    item = parse_data_item(raw)
    async with api.client() as client:
        receipt = (await client.post("/tx", content=raw, headers=OCTET)).json()
        status = await client.get(f"/tx/{receipt['id']}/status")
        offsets = await client.get(f"/v1/tx/{receipt['id']}/offsets")
        unknown = await client.get("/tx/" + "A" * 43 + "/status")
    assert status.status_code == 200
    assert status.json()["status"] == "CONFIRMED"
    assert offsets.json() == {
        "rawContentLength": len(raw),
        "payloadDataStart": item.header.payload_start,
        "payloadContentType": "text/plain",
        "payloadContentLength": item.payload_size,
    }
    assert (unknown.status_code, unknown.text) == (404, "TX doesn't exist")


async def test_info_metrics_and_openapi(api: RunningApi) -> None:
    async with api.client() as client:
        await client.post("/tx", content=fixture_bytes("stub1115ByteDataItem"), headers=OCTET)
        info = (await client.get("/info")).json()
        metrics = (await client.get("/metrics")).text
        spec = (await client.get("/openapi.json")).json()
    assert info["version"] == "0.2.0"
    assert len(info["addresses"]["arweave"]) == 43
    assert info["freeUploadLimitBytes"] == api.settings.api.free_upload_limit_bytes
    assert info["maxDataItemSizeBytes"] == api.settings.api.max_data_item_size
    assert 'bundlestream_uploads_total{outcome="Accepted"} 1.0' in metrics
    assert "/v1/chunks/{token}/{uploadId}/status" in spec["paths"]


async def test_large_item_lands_in_the_s3_object_store(make_api: Callable[..., Any]) -> None:
    """The same path on the S3 backend (the stack's disk-backed S3 server)."""
    raw = fixture_bytes("420KiBStubDataItem")
    async with make_api(object_store__backend="s3") as api:
        async with api.client() as client:
            response = await client.post("/tx", content=raw, headers=OCTET)
        assert response.status_code == 200, response.text
        [event] = api.events()
        store = open_object_store(api.settings)
        stored = b"".join([chunk async for chunk in store.read(f"raw/{event.data_item_id}")])
    assert event.object_key == f"raw/{event.data_item_id}"
    assert stored == raw
