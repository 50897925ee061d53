"""x402 uploads against the real stack: the hardhat node with LocalUSDC, the local
facilitator, Kafka, Redis, arlocal; the payer is the x402 SDK's own client.

A paid upload moves exactly the quote from the payer to payTo on the node, and its
receipt verifies; each bad payment gets a 4xx, moves nothing and keeps nothing.
"""

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from test_paid_uploads import ledger_log, wait_view_ready
from upload_harness import RunningApi, free_port, signed_item
from x402_harness import balances, decode, encode, payer, paying_client, payment_header

from bundlestream.core.ans104.parser import DataItemParser
from bundlestream.core.receipts import verify_receipt
from bundlestream.schemas import ledger_events as ev
from tests.bounds import HTTP_REQUEST_S

ROUTE = "/v1/x402/data-item/signed"
OCTET = {"Content-Type": "application/octet-stream"}


async def requirements_for(api: RunningApi, item: bytes) -> dict[str, Any]:
    async with api.client() as client:
        answer = await client.post(ROUTE, content=item, headers=OCTET)
    assert answer.status_code == 402, answer.text
    body = answer.json()
    assert body["x402Version"] == 1
    [accepts] = body["accepts"]
    return dict(accepts)


def kept_nothing(api: RunningApi, item_ids: set[str]) -> None:
    assert [f for f in api.stored_files() if f.name in item_ids] == []
    assert {e.data_item_id for e in api.events()} & item_ids == set()


async def test_a_402_names_the_price_of_the_declared_length(api: RunningApi) -> None:
    item = signed_item(1024)
    accepts = await requirements_for(api, item)
    x402 = api.settings.x402
    assert (accepts["scheme"], accepts["network"], accepts["payTo"], accepts["asset"]) == (
        "exact",
        x402.network,
        x402.pay_to,
        x402.asset,
    )
    assert accepts["extra"] == {"name": x402.asset_name, "version": x402.asset_version}
    async with api.client() as client:
        quoted = await client.get(f"/v1/x402/price/2/unknown?bytes={len(item)}")
        bigger = await client.get(f"/v1/x402/price/2/unknown?bytes={100 * 1024**2}")
    assert quoted.status_code == 200
    assert quoted.json()["accepts"][0]["maxAmountRequired"] == accepts["maxAmountRequired"]
    assert int(bigger.json()["accepts"][0]["maxAmountRequired"]) > int(accepts["maxAmountRequired"])


async def test_without_content_length_the_answer_is_411(api: RunningApi) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield signed_item(1024)

    async with api.client() as client:
        answer = await client.post(ROUTE, content=body(), headers=OCTET)
    assert answer.status_code == 411


async def test_the_sdk_client_pays_exactly_the_quote_for_a_signed_item(api: RunningApi) -> None:
    account = payer(3)
    item = signed_item(1024, seed=31)
    quote = int((await requirements_for(api, item))["maxAmountRequired"])
    before = balances(api.settings, account)
    async with paying_client(api.settings, account, api.url) as client:
        answer = await client.post(ROUTE, content=item, headers=OCTET)
    assert answer.status_code == 200, answer.text
    receipt = answer.json()
    assert verify_receipt({k: v for k, v in receipt.items() if k != "x402Payment"})
    after = balances(api.settings, account)
    assert (before[0] - after[0], after[1] - before[1]) == (quote, quote)
    settled = decode(answer.headers["X-Payment-Response"])
    assert settled["success"] is True
    assert settled["transaction"] == receipt["x402Payment"]["txHash"]
    assert [e.data_item_id for e in api.events()] == [receipt["id"]]
    ledger = [e for e in ledger_log(api.settings) if e.address == account.address]
    credit, charge = ledger
    assert isinstance(credit, ev.BalanceCredited) and isinstance(charge, ev.UploadCharged)
    assert charge.data_item_id == receipt["id"] and charge.winc == receipt["winc"]
    assert int(credit.winc) > int(charge.winc)  # the buffer is the payer's balance


async def test_bad_payments_get_a_402_and_move_nothing(api: RunningApi) -> None:
    account = payer(4)
    item = signed_item(1024, seed=41)
    accepts = await requirements_for(api, item)
    quote = int(accepts["maxAmountRequired"])
    under = payment_header(account, {**accepts, "maxAmountRequired": str(quote - 1)})
    expired = payment_header(account, {**accepts, "maxTimeoutSeconds": 3})
    tampered = decode(payment_header(account, accepts))
    tampered["payload"]["authorization"]["value"] = str(quote * 10)
    before = balances(api.settings, account)
    async with api.client() as client:
        for header in (under, expired, encode(tampered), "not a payment"):
            answer = await client.post(ROUTE, content=item, headers={**OCTET, "X-PAYMENT": header})
            assert answer.status_code == 402, answer.text
            assert answer.json()["error"]
    assert balances(api.settings, account) == before
    kept_nothing(api, {item_id(item)})


async def test_a_tampered_item_is_refused_and_its_payment_not_settled(api: RunningApi) -> None:
    account = payer(5)
    item = bytearray(signed_item(1024, seed=51))
    item[-1] ^= 0xFF  # the payload no longer matches the signature
    accepts = await requirements_for(api, bytes(item))
    before = balances(api.settings, account)
    header = payment_header(account, accepts)
    async with api.client() as client:
        answer = await client.post(
            ROUTE, content=bytes(item), headers={**OCTET, "X-PAYMENT": header}
        )
    assert answer.status_code == 400, answer.text
    assert balances(api.settings, account) == before
    kept_nothing(api, {item_id(bytes(item))})


async def test_a_replayed_authorization_pays_for_one_item_only(api: RunningApi) -> None:
    account = payer(6)
    first, second = signed_item(1024, seed=61), signed_item(1024, seed=62)
    header = payment_header(account, await requirements_for(api, first))
    async with api.client() as client:
        paid = await client.post(ROUTE, content=first, headers={**OCTET, "X-PAYMENT": header})
        assert paid.status_code == 200, paid.text
        before = balances(api.settings, account)
        replay = await client.post(ROUTE, content=second, headers={**OCTET, "X-PAYMENT": header})
        again = await client.post(ROUTE, content=first, headers={**OCTET, "X-PAYMENT": header})
    assert replay.status_code == 402, replay.text
    assert again.status_code == 202  # the same item: a duplicate, not a second payment
    assert balances(api.settings, account) == before
    kept_nothing(api, {item_id(second)})


async def test_a_body_shorter_than_declared_settles_nothing(api: RunningApi) -> None:
    account = payer(7)
    item = signed_item(200 * 1024, seed=71)  # above the inline limit: an object is written
    header = payment_header(account, await requirements_for(api, item))
    before = balances(api.settings, account)
    status = await asyncio.to_thread(short_post, api.url, item, header)
    assert status is None or 400 <= status < 500
    assert balances(api.settings, account) == before
    kept_nothing(api, {item_id(item)})
    async with api.client() as client:  # the same payment still pays for the whole item
        whole = await client.post(ROUTE, content=item, headers={**OCTET, "X-PAYMENT": header})
    assert whole.status_code == 200, whole.text


async def test_the_facilitator_down_stops_x402_uploads_only(make_api: Any) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    async with make_api(x402__facilitator_url=down) as api:
        item = signed_item(1024, seed=81)
        header = payment_header(payer(3), await requirements_for(api, item))
        async with api.client() as client:
            paid = await client.post(ROUTE, content=item, headers={**OCTET, "X-PAYMENT": header})
            on_tx = await client.post(
                "/v1/tx", content=item, headers={**OCTET, "X-PAYMENT": header}
            )
            free = await client.post("/v1/tx", content=signed_item(1024, seed=82), headers=OCTET)
            await wait_view_ready(api.settings)
            unfunded = await client.post("/v1/tx", content=signed_item(600 * 1024), headers=OCTET)
    assert (paid.status_code, on_tx.status_code) == (503, 503), (paid.text, on_tx.text)
    assert free.status_code == 200, free.text
    assert unfunded.status_code == 402 and unfunded.json()["accepts"], unfunded.text


def item_id(item: bytes) -> str:
    parser = DataItemParser(len(item))
    parser.feed(item)
    assert parser.header is not None
    return parser.header.id


def short_post(url: str, item: bytes, header: str) -> int | None:
    """POST declaring the whole item but sending all but its last KiB, then half-close:
    the status the server answers, or None when it just closes."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=HTTP_REQUEST_S) as sock:
        head = (
            f"POST {ROUTE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {len(item)}\r\nX-PAYMENT: {header}\r\n\r\n"
        )
        sock.sendall(head.encode() + item[:-1024])
        sock.shutdown(socket.SHUT_WR)
        answer = sock.recv(4096)
    if not answer:
        return None
    return int(answer.split(b" ", 2)[1])


@pytest.fixture(scope="session")
def wallet_4096(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4096-bit service wallet (type 1 items need one); generated once per session."""
    return tmp_path_factory.mktemp("wallet-4096") / "wallet.json"


async def test_an_unsigned_payload_is_signed_by_the_service_and_paid_exactly(
    make_api: Any, wallet_4096: Path
) -> None:
    async with make_api(
        arweave__receipt_key_path=wallet_4096, arweave__receipt_key_size=4096
    ) as api:
        await pay_for_an_unsigned_payload(api)


async def test_a_small_service_wallet_cannot_sign_unsigned_uploads(api: RunningApi) -> None:
    async with api.client() as client:
        answer = await client.post("/v1/x402/data-item/unsigned", content=b"x")
    assert answer.status_code == 503


async def pay_for_an_unsigned_payload(api: RunningApi) -> None:
    account = payer(7)
    payload = bytes(range(256)) * (3 * 1024 * 1024 // 256)
    headers = {
        "Content-Type": "text/plain",
        "x-data-item-tags": '[{"name": "App-Name", "value": "x402-test"}]',
        "X-Tag-Kind": "unsigned",
    }
    route = "/v1/x402/data-item/unsigned"
    async with api.client() as client:
        unpaid = await client.post(route, content=payload, headers=headers)
    assert unpaid.status_code == 402, unpaid.text
    quote = int(unpaid.json()["accepts"][0]["maxAmountRequired"])
    before = balances(api.settings, account)
    async with paying_client(api.settings, account, api.url) as client:
        answer = await client.post(route, content=payload, headers=headers)
    assert answer.status_code == 200, answer.text
    after = balances(api.settings, account)
    assert (before[0] - after[0], after[1] - before[1]) == (quote, quote)
    receipt = answer.json()
    [event] = api.events()
    assert event.data_item_id == receipt["id"]
    assert event.raw_size == event.payload_start + len(payload)
    assert event.content_type == "text/plain"
    stored = (api.settings.object_store.dir / "raw" / receipt["id"]).read_bytes()
    parser = DataItemParser(len(stored))
    parser.feed(stored)
    item = parser.finish()
    assert stored[item.header.payload_start :] == payload
    assert [(t.name, t.value) for t in item.header.tags] == [
        (b"App-Name", b"x402-test"),
        (b"kind", b"unsigned"),
        (b"Content-Type", b"text/plain"),
    ]
    async with api.client() as client:
        bad_tags = await client.post(route, content=b"x", headers={"x-data-item-tags": "[{"})
    assert bad_tags.status_code == 400
