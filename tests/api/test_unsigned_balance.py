"""Unsigned uploads paid from a prepaid balance, against the real stack: the requester
signs the request (``x-signature`` over ``x-nonce``, as turbo-sdk's signed requests),
the service signs the item, and the requester's balance is charged the receipt's winc.
"""

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_paid_uploads import (
    credit,
    ledger_log,
    paid,
    price_of,
    wait_view_balance,
    wait_view_ready,
)
from test_x402_uploads import wallet_4096
from upload_harness import RunningApi, serve

from bundlestream.core.ans104.addresses import native_address
from bundlestream.core.ans104.signing import Ed25519Signer
from bundlestream.core.ledger import fold
from bundlestream.core.receipts import verify_receipt
from bundlestream.schemas import ledger_events as ev
from bundlestream.settings import Settings
from tests.core.test_signed_requests import headers as signed_headers

pytestmark = pytest.mark.stack

__all__ = ["paid", "wallet_4096"]  # fixtures
ROUTE = "/v1/x402/upload/unsigned"
PAYLOAD = bytes(range(256)) * 64  # 16 KiB: above the free tier, which does not apply anyway


@pytest.fixture
def unsigned(paid: Settings, wallet_4096: Path) -> Settings:
    # The spendable view is ready one delivery timeout after the API starts: a short one.
    return paid.updated(
        arweave__receipt_key_path=wallet_4096,
        arweave__receipt_key_size=4096,
        kafka__delivery_timeout_s=5.0,
    )


def requester() -> tuple[Ed25519Signer, str]:
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    return signer, native_address(signer.signature_type, signer.owner)


def nonce(n: int) -> str:
    return f"{n:032x}"


async def post(api: RunningApi, headers: dict[str, str], payload: bytes = PAYLOAD) -> Any:
    async with api.client() as client:
        return await client.post(ROUTE, content=payload, headers={"X-Tag-App": "t", **headers})


async def test_a_signed_request_pays_an_unsigned_upload_from_its_balance(
    unsigned: Settings,
) -> None:
    signer, address = requester()
    async with serve(unsigned) as api:
        funds = 10 * await price_of(api.url, 4 * len(PAYLOAD))
        credit(unsigned, address, funds)
        await wait_view_balance(unsigned, address, funds)
        await wait_view_ready(unsigned)
        answer = await post(api, signed_headers(signer, nonce(1)))
        assert answer.status_code == 200, answer.text
        receipt = answer.json()
        replay = await post(api, signed_headers(signer, nonce(1)), PAYLOAD[::-1])
        await wait_view_balance(unsigned, address, funds - int(receipt["winc"]))
        events = api.events()
        price = await price_of(api.url, events[0].raw_size)  # the whole item, no free tier
        async with api.client() as client:
            service = (await client.get("/v1/info")).json()["addresses"]["arweave"]
    assert verify_receipt(receipt)
    assert receipt["owner"] == service  # the service signed the item
    assert [e.data_item_id for e in events] == [receipt["id"]]
    assert int(receipt["winc"]) == price
    assert replay.status_code == 400, replay.text
    charges = [e for e in ledger_log(unsigned) if isinstance(e, ev.UploadCharged)]
    assert [(c.address, c.data_item_id, c.winc) for c in charges] == [
        (address, receipt["id"], receipt["winc"])
    ]
    assert fold(ledger_log(unsigned)).balance(address) == funds - int(receipt["winc"])


async def test_a_balance_short_of_the_price_gets_the_x402_requirements(
    unsigned: Settings,
) -> None:
    signer, address = requester()
    async with serve(unsigned) as api:
        await wait_view_ready(unsigned)
        short = await post(api, signed_headers(signer, nonce(2)))
        forged = {**signed_headers(signer, nonce(3)), "x-nonce": nonce(4)}
        unsigned_request = await post(api, forged)
        assert api.events() == []
    assert short.status_code == 402, short.text
    assert short.json()["error"] == "Insufficient balance"
    [accepts] = short.json()["accepts"]
    assert accepts["resource"].endswith(ROUTE.replace("upload", "data-item"))
    # A signature that does not verify names no payer: x402 is the only way to pay.
    assert unsigned_request.status_code == 402, unsigned_request.text
    assert unsigned_request.json()["error"] == "X-PAYMENT header is required"
    assert fold(ledger_log(unsigned)).balance(address) == 0
