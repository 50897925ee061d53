"""x402 on the balance-paid routes, against the real stack (hardhat node with LocalUSDC,
the local facilitator, Kafka, Redis): an unfunded ``/v1/tx`` upload or chunked finalize
answers 402 with the x402 requirements priced for its size, and ``X-PAYMENT`` on
``/v1/tx`` pays exactly that, settled only for an item that is kept.
"""

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from test_paid_uploads import ledger_log
from test_x402_uploads import item_id, kept_nothing
from upload_harness import MiB, RunningApi, signed_item
from x402_harness import balances, payer, paying_client, payment_header

from bundlestream.core.receipts import verify_receipt
from bundlestream.schemas import ledger_events as ev

pytestmark = pytest.mark.stack

FREE = 1024  # bytes: items above this are paid
OCTET = {"Content-Type": "application/octet-stream"}
CHUNK = 5 * MiB


@pytest.fixture
def paid_api(make_api: Callable[..., Any]) -> Any:
    return make_api(api__free_upload_limit_bytes=FREE)


async def quoted(api: RunningApi, size: int) -> str:
    async with api.client() as client:
        answer = await client.get(f"/v1/x402/price/1/unknown?bytes={size}")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["accepts"][0]["maxAmountRequired"])


def requirements_of(answer: Any, error: str = "Insufficient balance") -> dict[str, Any]:
    """The one ``accepts`` entry of an x402 402, checked against upstream's shape."""
    assert answer.status_code == 402, answer.text
    assert answer.headers["X-Payment-Required"] == "x402-1"
    body = answer.json()
    assert body["x402Version"] == 1
    assert body["error"].startswith(error)
    [accepts] = body["accepts"]
    return dict(accepts)


async def test_an_unfunded_tx_upload_gets_the_requirements_and_pays_with_x_payment(
    paid_api: Any,
) -> None:
    account = payer(9)
    item = signed_item(4096, seed=91)
    async with paid_api as api:
        async with api.client() as client:
            unfunded = await client.post("/v1/tx", content=item, headers=OCTET)
        accepts = requirements_of(unfunded)
        x402 = api.settings.x402
        assert (accepts["scheme"], accepts["network"], accepts["payTo"]) == (
            "exact",
            x402.network,
            x402.pay_to,
        )
        assert (accepts["asset"], accepts["extra"]) == (
            x402.asset,
            {"name": x402.asset_name, "version": x402.asset_version},
        )
        assert accepts["resource"] == x402.public_url.rstrip("/") + "/v1/tx"
        quote = int(accepts["maxAmountRequired"])
        assert str(quote) == await quoted(api, len(item))
        assert api.events() == []
        before = balances(api.settings, account)
        async with paying_client(api.settings, account, api.url) as client:
            answer = await client.post("/v1/tx", content=item, headers=OCTET)
        assert answer.status_code == 200, answer.text
        after = balances(api.settings, account)
        events, ledger = api.events(), ledger_log(api.settings)
    assert (before[0] - after[0], after[1] - before[1]) == (quote, quote)
    receipt = answer.json()
    assert verify_receipt({k: v for k, v in receipt.items() if k != "x402Payment"})
    assert receipt["x402Payment"]["network"] == x402.network
    assert "X-Payment-Response" in answer.headers
    assert [e.data_item_id for e in events] == [receipt["id"]] == [item_id(item)]
    credit, charge = [e for e in ledger if e.address == account.address]
    assert isinstance(credit, ev.BalanceCredited) and isinstance(charge, ev.UploadCharged)
    assert (charge.data_item_id, charge.winc) == (receipt["id"], receipt["winc"])


async def test_a_bad_payment_on_tx_gets_a_402_and_moves_nothing(paid_api: Any) -> None:
    account = payer(10)
    item, tampered = signed_item(4096, seed=101), bytearray(signed_item(4096, seed=102))
    tampered[-1] ^= 0xFF
    async with paid_api as api:
        async with api.client() as client:
            accepts = requirements_of(await client.post("/v1/tx", content=item, headers=OCTET))
            quote = int(accepts["maxAmountRequired"])
            under = payment_header(account, {**accepts, "maxAmountRequired": str(quote - 1)})
            whole = payment_header(account, accepts)
            before = balances(api.settings, account)
            short = await client.post("/v1/tx", content=item, headers={**OCTET, "X-PAYMENT": under})
            bad_item = await client.post(
                "/v1/tx", content=bytes(tampered), headers={**OCTET, "X-PAYMENT": whole}
            )
        assert requirements_of(short, "authorized")["maxAmountRequired"] == str(quote)
        assert bad_item.status_code == 400, bad_item.text
        assert balances(api.settings, account) == before
        kept_nothing(api, {item_id(item), item_id(bytes(tampered))})


async def test_an_unfunded_tx_upload_without_content_length_gets_the_plain_402(
    paid_api: Any,
) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield signed_item(4096, seed=111)

    async with paid_api as api, api.client() as client:
        answer = await client.post("/v1/tx", content=body(), headers=OCTET)
    assert (answer.status_code, answer.text) == (402, "Insufficient balance")
    assert "X-Payment-Required" not in answer.headers


async def test_an_underfunded_chunked_finalize_gets_the_requirements_of_the_item(
    paid_api: Any,
) -> None:
    raw = signed_item(6 * MiB + 17, seed=121)
    async with paid_api as api, api.client() as client:
        created = await client.get(f"/v1/chunks/arweave/-1/-1?chunkSize={CHUNK}")
        upload_id = created.json()["id"]
        for offset in range(0, len(raw), CHUNK):
            part = raw[offset : offset + CHUNK]
            sent = await client.post(f"/v1/chunks/arweave/{upload_id}/{offset}", content=part)
            assert sent.status_code == 200, sent.text
        finalized = await client.post(f"/v1/chunks/arweave/{upload_id}/-1")
        again = await client.post(f"/v1/chunks/arweave/{upload_id}/-1")
        status = (await client.get(f"/v1/chunks/arweave/{upload_id}/status")).json()
        quote = await quoted(api, len(raw))
    assert status["status"] == "UNDERFUNDED"
    for answer in (finalized, again):
        assert requirements_of(answer)["maxAmountRequired"] == quote


async def test_a_chunked_upload_paid_at_create_settles_only_at_its_finalize(
    paid_api: Any,
) -> None:
    account = payer(12)
    raw = signed_item(6 * MiB + 33, seed=131)
    create = f"/v1/chunks/arweave/-1/-1?chunkSize={CHUNK}&totalBytes={len(raw)}"
    async with paid_api as api, api.client() as client:
        accepts = requirements_of(await client.get(create), "X-PAYMENT")
        assert accepts["resource"].endswith("/v1/chunks")
        assert accepts["maxTimeoutSeconds"] == api.settings.x402.chunked_max_timeout_s
        assert accepts["maxAmountRequired"] == await quoted(api, len(raw))
        under = payment_header(account, {**accepts, "maxAmountRequired": "1"})
        refused = await client.get(create, headers={"X-PAYMENT": under})
        before = balances(api.settings, account)
        created = await client.get(create, headers={"X-PAYMENT": payment_header(account, accepts)})
        assert created.status_code == 200, created.text
        upload_id = created.json()["id"]
        first = await client.post(f"/v1/chunks/arweave/{upload_id}/0", content=raw[:CHUNK])
        assert first.status_code == 200, first.text
        short = await client.post(f"/v1/chunks/arweave/{upload_id}/-1")
        paid_nothing = balances(api.settings, account)
        rest = await client.post(f"/v1/chunks/arweave/{upload_id}/{CHUNK}", content=raw[CHUNK:])
        assert rest.status_code == 200, rest.text
        finalized = await client.post(f"/v1/chunks/arweave/{upload_id}/-1")
        after = balances(api.settings, account)
        again = await paid_chunked_upload(client, create, payment_header(account, accepts), raw)
        events = api.events()
    assert refused.status_code == 402, refused.text
    assert short.status_code == 400 and paid_nothing == before, short.text
    assert finalized.status_code == 200, finalized.text
    quote = int(accepts["maxAmountRequired"])
    assert (before[0] - after[0], after[1] - before[1]) == (quote, quote)
    receipt = finalized.json()
    assert receipt["x402Payment"]["usdcAmount"] == str(quote)
    assert [e.data_item_id for e in events] == [receipt["id"]] == [item_id(raw)]
    # The same item through a second paid upload: the first receipt, nothing paid again.
    assert again.status_code == 200, again.text
    assert again.json() == {k: v for k, v in receipt.items() if k != "x402Payment"}
    assert balances(api.settings, account) == after


async def paid_chunked_upload(client: Any, create: str, header: str, raw: bytes) -> Any:
    """Create with ``header``, send ``raw`` in chunks, finalize now: the answer."""
    created = await client.get(create, headers={"X-PAYMENT": header})
    assert created.status_code == 200, created.text
    upload_id = created.json()["id"]
    for offset in range(0, len(raw), CHUNK):
        part = raw[offset : offset + CHUNK]
        sent = await client.post(f"/v1/chunks/arweave/{upload_id}/{offset}", content=part)
        assert sent.status_code == 200, sent.text
    return await client.post(f"/v1/chunks/arweave/{upload_id}/-1")
