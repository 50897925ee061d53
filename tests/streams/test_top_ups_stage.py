"""The top-ups stage on the real stack: a pending AR top-up is credited by a worker once
arlocal has mined its confirmations, though the worker was killed (-9) while it waited."""

import asyncio
from pathlib import Path

import httpx
from pipeline_harness import pipeline_settings, running_pipeline, wait_for

from bundlestream.core.ledger import fold
from bundlestream.schemas import ledger_events as ev
from tests.ar_transfers import funded_wallet, mine, send_ar
from tests.bounds import CONDITION_S, HTTP_REQUEST_S

CONFIRMATIONS = 4


async def test_a_pending_top_up_is_credited_after_its_confirmations_across_a_worker_kill(
    tmp_path: Path,
) -> None:
    settings = pipeline_settings(
        tmp_path,
        streams__required_confirmations=CONFIRMATIONS,
        payments__top_up_poll_s=0.5,
    )
    gateway = settings.arweave.gateway_url
    async with running_pipeline(settings) as p:
        p.miner.paused = True  # blocks come from the stack's miner and from mine() below
        async with httpx.AsyncClient(base_url=p.api_url, timeout=HTTP_REQUEST_S) as client:
            ours = (await client.get("/info")).json()["addresses"]["arweave"]
            sender = funded_wallet(gateway)
            tx_id = send_ar(gateway, sender, ours, 10**12)
            submitted = await client.post("/v1/account/balance/arweave", json={"tx_id": tx_id})
        assert submitted.status_code == 202, submitted.text
        winc = submitted.json()["pendingTransaction"]["winstonCreditAmount"]
        [worker] = await p.workers.wait_for_workers(1)
        await wait_for(p.log, lambda: p.log.of("TopUpSubmitted"), CONDITION_S, "the submission")
        assert not p.log.of("BalanceCredited")
        p.workers.kill9(worker)
        await p.workers.wait_for_workers(1, gone=[worker])
        await asyncio.to_thread(mine, gateway, CONFIRMATIONS + 1)
        await wait_for(p.log, lambda: p.log.of("BalanceCredited"), CONDITION_S, "the credit")
        ledger = [e for e in (e for _, e in p.log.events) if isinstance(e, ev.LEDGER_EVENT_TYPES)]
    [confirmed, *_] = [e for e in ledger if isinstance(e, ev.TopUpConfirmed)]
    assert (confirmed.transaction_id, confirmed.address, confirmed.winc) == (
        tx_id,
        sender.address,
        winc,
    )
    assert fold(ledger).balance(sender.address) == int(winc) > 0
