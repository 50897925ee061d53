"""The top-ups stage on the real stack: a pending AR top-up is credited by a worker once
arlocal has mined its confirmations, though the worker was killed (-9) while it waited;
the same for an ETH top-up on the local hardhat node."""

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
from pipeline_harness import Pipeline, pipeline_settings, running_pipeline, wait_for

from bundlestream.core.ledger import fold
from bundlestream.schemas import ledger_events as ev
from tests.ar_transfers import funded_wallet, mine, send_ar
from tests.bounds import CONDITION_S, HTTP_REQUEST_S
from tests.evm_transfers import ETH, funded_key, send_eth
from tests.evm_transfers import mine as mine_evm

CONFIRMATIONS = 4
# The node mines a block every 2 s besides ours: enough that the submission finds the
# transfer shallow (two minutes of the node's own blocks), mined at once below.
EVM_CONFIRMATIONS = 60


async def credited_across_a_kill(p: Pipeline, confirm: Callable[[], None]) -> list[ev.LedgerEvent]:
    """Once the pending submission is in the log: kill -9 the worker, let a new one take
    over, add the confirmations, and wait for the credit; the ledger events then."""
    [worker] = await p.workers.wait_for_workers(1)
    await wait_for(p.log, lambda: p.log.of("TopUpSubmitted"), CONDITION_S, "the submission")
    assert not p.log.of("BalanceCredited")
    p.workers.kill9(worker)
    await p.workers.wait_for_workers(1, gone=[worker])
    await asyncio.to_thread(confirm)
    await wait_for(p.log, lambda: p.log.of("BalanceCredited"), CONDITION_S, "the credit")
    return [e for _, e in p.log.events if isinstance(e, ev.LEDGER_EVENT_TYPES)]


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
        ledger = await credited_across_a_kill(p, lambda: mine(gateway, CONFIRMATIONS + 1))
    [confirmed, *_] = [e for e in ledger if isinstance(e, ev.TopUpConfirmed)]
    assert (confirmed.transaction_id, confirmed.address, confirmed.winc) == (
        tx_id,
        sender.address,
        winc,
    )
    assert fold(ledger).balance(sender.address) == int(winc) > 0


async def test_a_pending_eth_top_up_is_credited_after_its_confirmations_across_a_worker_kill(
    tmp_path: Path,
) -> None:
    settings = pipeline_settings(
        tmp_path, evm__ethereum_confirmations=EVM_CONFIRMATIONS, payments__top_up_poll_s=0.5
    )
    url = settings.x402.evm_rpc_url
    async with running_pipeline(settings) as p:
        async with httpx.AsyncClient(base_url=p.api_url, timeout=HTTP_REQUEST_S) as client:
            ours = (await client.get("/info")).json()["addresses"]["ethereum"]
            sender = await asyncio.to_thread(funded_key, url)
            tx_hash = await asyncio.to_thread(send_eth, url, sender, ours, ETH)
            submitted = await client.post("/v1/account/balance/ethereum", json={"tx_id": tx_hash})
        assert submitted.status_code == 202, submitted.text
        winc = submitted.json()["pendingTransaction"]["winstonCreditAmount"]
        ledger = await credited_across_a_kill(p, lambda: mine_evm(url, EVM_CONFIRMATIONS))
    [confirmed, *_] = [e for e in ledger if isinstance(e, ev.TopUpConfirmed)]
    assert (confirmed.transaction_id, confirmed.address, confirmed.token) == (
        tx_hash,
        sender.address,
        "ethereum",
    )
    assert fold(ledger).balance(sender.address) == int(winc) > 0
