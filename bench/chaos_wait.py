"""Waiting, with a bound, for the pipeline to settle after the faults stop."""

import asyncio
import time
from collections.abc import Callable

import httpx

from bench.chaos_report import Accounting, EventLog


async def wait_settled(
    log: EventLog,
    told: set[str],
    timeout_s: float,
    account: Callable[[EventLog, set[str]], Accounting],
) -> Accounting:
    """Until every id in ``told`` is in the log and in a confirmed bundle, or the bound."""
    deadline = time.monotonic() + timeout_s
    while True:
        await asyncio.to_thread(log.catch_up)
        acc = account(log, told)
        print(
            f"in log {len(acc.in_log)}/{len(told)}, in one confirmed bundle {len(acc.once)}, "
            f"not yet bundled {len(acc.unbundled)}, twice {len(acc.twice)}",
            flush=True,
        )
        if not acc.lost or time.monotonic() > deadline:
            return acc
        await asyncio.sleep(10)


async def wait_finalized(url: str, ids: list[str], timeout_s: float) -> int:
    """Until GET /tx/{id}/status says FINALIZED for every id, or the bound; how many do."""
    pending, done = set(ids), 0
    deadline = time.monotonic() + timeout_s
    gate = asyncio.Semaphore(32)
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def finalized(item_id: str) -> bool:
            async with gate:
                try:
                    answer = await client.get(f"/tx/{item_id}/status")
                except httpx.TransportError:
                    return False
            return answer.status_code == 200 and answer.json().get("status") == "FINALIZED"

        while pending:
            batch = sorted(pending)
            answers = await asyncio.gather(*(finalized(i) for i in batch))
            newly = {i for i, ok in zip(batch, answers, strict=True) if ok}
            pending -= newly
            done += len(newly)
            print(f"FINALIZED {done}/{len(ids)}", flush=True)
            if pending and time.monotonic() > deadline:
                print(f"not FINALIZED, e.g. {sorted(pending)[:5]}", flush=True)
                break
            if pending:
                await asyncio.sleep(5)
    return done
