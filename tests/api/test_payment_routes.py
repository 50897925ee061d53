"""Price, rates and balance routes on the real app (arlocal's price, Postgres projections)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.api.app import create_app
from bundlestream.core.ans104.addresses import normalised_address
from bundlestream.core.ans104.signing import Ed25519Signer
from bundlestream.core.pricing import TEN_GIB
from bundlestream.projections import postgres
from bundlestream.projections.migrator import migrate
from bundlestream.projections.projection import project
from bundlestream.projections.records import decode_record
from bundlestream.projections.rows import Position
from bundlestream.schemas import ledger_events as ev
from bundlestream.schemas.codec import encode
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout
from tests.core.test_signed_requests import headers as signed_headers

pytestmark = pytest.mark.stack
NOW = datetime(2026, 12, 1, tzinfo=UTC)
BOB, ALICE = "b" * 43, "a" * 43


def write_ledger(settings: Settings, events: list[ev.LedgerEvent]) -> None:
    """Project ``events`` into the test's schema (the projector's own write path)."""
    records = [
        (decode_record(encode(e)), Position("ledger.events", 0, n)) for n, e in enumerate(events)
    ]
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        migrate(conn, settings.postgres.projections_schema)
        postgres.write_batch(
            conn,
            settings.postgres.projections_schema,
            project(records),
            {("ledger.events", 0): 0},
            {("ledger.events", 0): len(events)},
        )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    mine = settings.updated(
        postgres__projections_schema="pay_" + settings.kafka.topic_prefix.replace("-", "_")[:-1]
    )
    create_topics(kafka_connection(mine), topic_layout(mine))
    write_ledger(
        mine,
        [
            ev.BalanceCredited(
                address=BOB,
                credit_id="c1",
                winc="1000",
                source="operator",
                reason="t",
                credited_at=NOW,
            ),
            ev.ApprovalCreated(
                address=BOB, approval_id="ap1", approved_address=ALICE, winc="300", created_at=NOW
            ),
            ev.UploadCharged(
                address=ALICE,
                data_item_id="i1",
                winc="100",
                charged_at=NOW,
                payments=(ev.Payment(payer_address=BOB, winc="100", approval_id="ap1"),),
            ),
        ],
    )
    app = create_app(mine)
    try:
        async with app.router.lifespan_context(app) as state:

            async def with_state(scope: Any, receive: Any, send: Any) -> None:
                # What a server does with the lifespan's state: a copy in every request.
                await app({**scope, "state": dict(state or {})}, receive, send)

            transport = httpx.ASGITransport(app=with_state)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
                for _ in range(100):
                    if (await http.get("/v1/price/bytes/1")).status_code == 200:
                        break
                    await asyncio.sleep(0.1)
                yield http
    finally:
        with postgres.connect(mine.postgres.dsn.get_secret_value()) as conn:
            postgres.drop_schema(conn, mine.postgres.projections_schema)


async def test_bytes_are_priced_from_arlocal_plus_the_item_fee(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    async with httpx.AsyncClient() as direct:
        p10 = int((await direct.get(f"{settings.arweave.gateway_url}/price/{TEN_GIB}")).text)
    response = await client.get("/v1/price/bytes/1048576")
    assert response.status_code == 200
    # $0.00002 per item at the fixed $20/AR = 1,000,000 winc.
    assert response.json() == {
        "winc": str(-(-p10 * 1048576 // TEN_GIB) + 1_000_000),
        "adjustments": [],
    }
    assert response.headers["cache-control"] == "max-age=60"
    bad = await client.get("/v1/price/bytes/-5")
    assert (bad.status_code, bad.text) == (
        400,
        "byte count must be a non-negative integer, not '-5'",
    )


async def test_tokens_and_fiat_buy_winc_less_the_infrastructure_fee(
    client: httpx.AsyncClient,
) -> None:
    ar = (await client.get("/v1/price/arweave/1000000000000")).json()
    assert ar["winc"] == "766000000000" and ar["actualPaymentAmount"] == 1000000000000
    assert ar["fees"][0]["adjustmentAmount"] == "-234000000000"
    eth = (await client.get("/v1/price/ethereum/1000000000000000000")).json()
    assert eth["winc"] == str(150 * 766 * 10**9)  # 3000/20 AR, less the fee
    usd = (await client.get("/v1/price/usd/1000")).json()
    assert usd["winc"] == str(383 * 10**9)  # $10 at $20/AR, less the fee
    assert (await client.get("/v1/price/dogecoin/1")).status_code == 400


async def test_rates_and_currencies(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/rates/usd")).json() == {"currency": "usd", "rate": 20.0}
    assert (await client.get("/v1/rates/xyz")).status_code == 404
    rates = (await client.get("/v1/rates")).json()
    assert set(rates["fiat"]) == {"usd", "eur", "gbp"} and int(rates["winc"]) > 0
    currencies = (await client.get("/v1/currencies")).json()
    assert currencies["supportedCurrencies"] == ["eur", "gbp", "usd"]
    assert currencies["limits"]["usd"]["minimumPaymentAmount"] == 500


async def test_balances_come_from_the_projection_with_approvals(client: httpx.AsyncClient) -> None:
    bob = (await client.get(f"/v1/account/balance/arweave?address={BOB}")).json()
    assert (bob["winc"], bob["balance"], bob["controlledWinc"], bob["effectiveBalance"]) == (
        "700",
        "700",
        "900",
        "700",
    )
    assert [a["approvalDataItemId"] for a in bob["givenApprovals"]] == ["ap1"]
    alice = (await client.get(f"/v1/account/balance/arweave?address={ALICE}")).json()
    assert (alice["winc"], alice["effectiveBalance"]) == ("0", "200")
    assert alice["receivedApprovals"][0]["usedWincAmount"] == "100"
    unknown = await client.get(f"/v1/account/balance/arweave?address={'z' * 43}")
    assert (unknown.status_code, unknown.text) == (404, "User Not Found")
    assert (await client.get("/v1/account/balance/arweave")).status_code == 400


async def test_info_lists_our_wallet_per_token(client: httpx.AsyncClient) -> None:
    addresses = (await client.get("/v1/info")).json()["addresses"]
    assert set(addresses) == {"arweave", "ethereum", "base-eth"}
    assert len(addresses["arweave"]) == 43
    evm = Settings().evm
    assert (addresses["ethereum"], addresses["base-eth"]) == (
        normalised_address(evm.ethereum_address),
        normalised_address(evm.base_eth_address),
    )
    assert addresses["ethereum"] != addresses["ethereum"].lower()  # EIP-55 mixed case
    # One local node serves both EVM tokens: distinct wallets keep a transfer one token's.
    assert addresses["ethereum"] != addresses["base-eth"]


async def test_the_signed_balance_names_the_signer_else_the_address(
    client: httpx.AsyncClient,
) -> None:
    signed = signed_headers(Ed25519Signer(Ed25519PrivateKey.generate()))
    unknown_signer = await client.get("/v1/balance", headers=signed)
    assert (unknown_signer.status_code, unknown_signer.text) == (404, "User Not Found")
    forged = await client.get("/v1/balance", headers={**signed, "x-nonce": "another"})
    assert forged.status_code == 403
    bob = await client.get("/v1/balance", params={"address": BOB})
    assert (bob.status_code, bob.json()["winc"]) == (200, "700")


async def test_approvals_are_listed_per_user_and_per_pair(client: httpx.AsyncClient) -> None:
    alice = (await client.get("/v1/account/approvals/get", params={"userAddress": ALICE})).json()
    assert alice["givenApprovals"] == []
    [received] = alice["receivedApprovals"]
    assert (received["approvalDataItemId"], received["payingAddress"]) == ("ap1", BOB)
    assert (received["approvedWincAmount"], received["usedWincAmount"]) == ("300", "100")
    pair = await client.get(
        "/v1/account/approvals", params={"payingAddress": BOB, "approvedAddress": ALICE}
    )
    assert pair.status_code == 200
    assert (pair.json()["amount"], len(pair.json()["approvals"])) == ("200", 1)
    assert "expiresBy" not in pair.json()  # ap1 never expires
    reverse = await client.get(
        "/v1/account/approvals", params={"payingAddress": ALICE, "approvedAddress": BOB}
    )
    assert reverse.status_code == 400
    assert (await client.get("/v1/account/approvals/get")).status_code == 400
