"""kill -9 during paid uploads: of an API process, of a stream worker, of the broker.

Two API processes and a supervised worker on a broker of the test's own; a wallet
credited for more than the run spends; paid uploads keep going through both APIs while
each is killed in turn. The API is killed while the broker is down, so its uploads are
reserved and waiting for their acknowledgements when it dies: the worst case for a
reservation, whose charge never reaches the log. Afterwards, one assertion over the log:
every balance is the sum of its events (fold, projection and the upload path's view
agree), no receipt without its charge, no charge without its item event or a refund.
"""

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from api_process import ApiProcess, uvicorn_command
from redis.asyncio import Redis
from test_broker_outage import own_broker, start  # noqa: F401  # own_broker: a fixture
from test_paid_uploads import (  # noqa: F401  # paid: a fixture
    OCTET,
    PAID_SIZE,
    Wallet,
    credit,
    ledger_log,
    paid,
    price_of,
    projected_balance,
    view_balance,
    wait_view_balance,
)
from upload_harness import free_port, read_events

from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.adapters.spendable_view import SpendableView
from bundlestream.core.ledger import fold
from bundlestream.core.receipts import Receipt, verify_receipt
from bundlestream.schemas import ledger_events as ev
from bundlestream.schemas.events import DataItemReceived
from bundlestream.schemas.topics import DATA_ITEMS_RECEIVED
from bundlestream.settings import Settings
from bundlestream.stack.kafka import KafkaBroker
from bundlestream.wiring import kafka_connection, topic_layout
from tests.streams.pipeline_harness import Workers

pytestmark = pytest.mark.stack

IN_FLIGHT = 4
# Bounds for a loaded machine, not timings: waiting beyond them fails the test.
ANSWERS_TRIES = 3000
SETTLED_TRIES = 240


class PaidUploads:
    """``IN_FLIGHT`` uploaders posting paid items round-robin to the API processes,
    every answer kept (a connection cut by a kill counts as none)."""

    def __init__(self, wallet: Wallet, apis: Sequence[ApiProcess]) -> None:
        self.wallet, self.apis = wallet, apis
        self.answers: list[tuple[int, Receipt | None]] = []
        self.running = True

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=120) as client:
            await asyncio.gather(*(self._uploader(client, n) for n in range(IN_FLIGHT)))

    async def _uploader(self, client: httpx.AsyncClient, n: int) -> None:
        while self.running:
            url = self.apis[(n + len(self.answers)) % len(self.apis)].url
            try:
                answer = await client.post(f"{url}/tx", content=self.item(), headers=OCTET)
            except httpx.TransportError:
                await asyncio.sleep(0.2)  # that API is being killed or restarted
                continue
            receipt = answer.json() if answer.status_code == 200 else None
            self.answers.append((answer.status_code, receipt))
            if answer.status_code != 200:
                await asyncio.sleep(0.2)

    def item(self) -> bytes:
        return self.wallet.item(PAID_SIZE)

    def count(self, status: int) -> int:
        return sum(1 for s, _ in self.answers if s == status)

    async def until(self, status: int, more: int) -> None:
        """Until ``more`` answers with ``status`` beyond those seen so far."""
        target = self.count(status) + more
        for _ in range(ANSWERS_TRIES):
            if self.count(status) >= target:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"not {more} more {status}s: {[s for s, _ in self.answers][-20:]}")

    def receipts(self) -> list[Receipt]:
        return [r for s, r in self.answers if s == 200 and r is not None]


def assert_the_ledger_is_whole(
    log: Sequence[ev.LedgerEvent], items: Sequence[DataItemReceived], receipts: list[Receipt]
) -> None:
    """Over the log: every paid receipt has its charge of its winc and no refund; every
    charge has its item event or a refund; every paid item event has its charge."""
    charges = {e.data_item_id: e.winc for e in log if isinstance(e, ev.UploadCharged)}
    refunded = {e.data_item_id for e in log if isinstance(e, ev.UploadRefunded)}
    received = {e.data_item_id for e in items if int(e.winc) > 0}
    receipted = {r["id"]: r["winc"] for r in receipts}
    assert (
        {i: charges.get(i) for i in receipted} == receipted
        and not set(receipted) & refunded
        and set(charges) <= received | refunded
        and received <= set(charges)
    ), (receipted, charges, refunded, received)


async def unsettled(settings: Settings, log: Sequence[ev.LedgerEvent] = ()) -> list[str]:
    """What is still to settle: the charges owed to a settler, and every charge of
    ``log`` whose refund is decided but not yet read back by the feed ("refunding"), or
    whose reservation is neither charged nor released ("reserved")."""
    redis = Redis.from_url(settings.redis.url.get_secret_value())
    try:
        view = SpendableView(redis, settings.kafka.topic_prefix)
        owed = list(await view.unsettled())
        for event in log:
            charged = isinstance(event, ev.UploadCharged)
            if charged and await view.marker(event.data_item_id) in ("refunding", "reserved"):
                owed.append(event.data_item_id)
        return owed
    finally:
        await redis.aclose()


async def wait_settled(settings: Settings, address: str) -> list[ev.LedgerEvent]:
    """Until nothing is to settle and the view's and the projection's balances are the
    fold's of the log, twice in a row with the same log: a settler claims an owed charge
    a moment before it decides its refund, so one quiet look can fall in between. That
    log."""
    before: tuple[int, int] | None = None
    for _ in range(SETTLED_TRIES):
        owed = await unsettled(settings)
        view = await view_balance(settings, address)
        projected = await asyncio.to_thread(projected_balance, settings, address)
        log = await asyncio.to_thread(ledger_log, settings)
        folded = fold(log).balance(address)
        owed += await unsettled(settings, log)
        now = (len(log), folded)
        if not owed and view == projected == folded and now == before:
            return log
        before = now if not owed and view == projected == folded else None
        await asyncio.sleep(0.5)
    raise AssertionError(f"never settled: view {view}, projection {projected}, fold {folded}")


def started_api(settings: Settings, port: int, output: Path) -> ApiProcess:
    return ApiProcess(settings.updated(api__port=port), uvicorn_command(port), output)


async def test_kill_9_of_an_api_a_worker_and_the_broker_during_paid_uploads(
    paid: Settings,  # noqa: F811
    own_broker: KafkaBroker,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = paid.updated(
        kafka__bootstrap=own_broker.settings.kafka.bootstrap,
        kafka__delivery_timeout_s=5.0,  # a broker outage turns into 503s (and settles) sooner
        streams__app_id=f"bs-{paid.kafka.topic_prefix}",
    )
    await asyncio.to_thread(create_topics, kafka_connection(settings), topic_layout(settings))
    ports = [free_port(), free_port()]
    apis = [started_api(settings, p, tmp_path / f"api-{n}.log") for n, p in enumerate(ports)]
    workers = Workers(settings)
    workers.start()
    uploads: PaidUploads | None = None
    running: asyncio.Task[None] | None = None
    try:
        await asyncio.gather(*(api.ready() for api in apis))
        [worker] = await workers.wait_for_workers(1)
        wallet = Wallet()
        price = await price_of(apis[0].url, len(wallet.item(PAID_SIZE)))
        credit(settings, wallet.address, 10_000 * price)
        await wait_view_balance(settings, wallet.address, 10_000 * price)
        uploads = PaidUploads(wallet, apis)
        running = asyncio.create_task(uploads.run())
        await uploads.until(200, 8)

        workers.kill9(worker)  # its supervisor starts another
        await workers.wait_for_workers(1, gone=[worker])
        await uploads.until(200, 8)

        await asyncio.to_thread(own_broker.process.stop, signal.SIGKILL)
        await asyncio.sleep(1.0)  # uploads reserve and wait for acknowledgements
        apis[0].kill()  # with its waiting uploads
        await uploads.until(503, 2)
        await start(own_broker)
        apis[0] = started_api(settings, ports[0], tmp_path / "api-0.log")
        uploads.apis = apis
        await apis[0].ready()
        await uploads.until(200, 8)

        apis[1].kill()  # the broker up: killed wherever its uploads are
        apis[1] = started_api(settings, ports[1], tmp_path / "api-1.log")
        uploads.apis = apis
        await apis[1].ready()
        await uploads.until(200, 8)
        uploads.running = False
        await running
        log = await wait_settled(settings, wallet.address)
    finally:
        if uploads is not None:
            uploads.running = False
        if running is not None:
            with contextlib.suppress(Exception):
                await running
        for api in apis:
            api.stop()
        workers.stop_all()
    items = await asyncio.to_thread(
        read_events, settings, DATA_ITEMS_RECEIVED.full_name(settings.kafka.topic_prefix)
    )
    receipts = uploads.receipts()
    assert all(verify_receipt(r) for r in receipts)
    assert {s for s, _ in uploads.answers} <= {200, 503}
    balance = fold(log).balance(wallet.address)
    assert balance == projected_balance(settings, wallet.address)
    assert balance == await view_balance(settings, wallet.address)
    assert_the_ledger_is_whole(log, items, receipts)
