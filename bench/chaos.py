"""The chaos and soak run: open-loop uploads while every component fails once.

Against the stack the BUNDLESTREAM_* environment points at (best with
BUNDLESTREAM_KAFKA_BROKERS=3: topics then get replication 3, min.insync.replicas 2).
The run starts whatever infrastructure is not running, then the API, the workers and
the projector itself, with the gateway behind a proxy it can take down and the S3
object store (s3rver), so that both outages are real refusals. It sends signed 1 KiB
items at ``--rate`` for ``--duration`` seconds; at seeded random moments it kills -9
the API, each worker, the projector, one broker, Postgres and Redis, and stops the
object store and the gateway for ``--outage-s``. Then it waits (bounded) for every item
a client was told is stored to be in one confirmed bundle and FINALIZED, and reports
from the log, read from offset 0, and from the clients' answers.

  .venv/bin/python bench/chaos.py --rate 40 --duration 360 [--seed N] [--workers 2]
"""

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.chaos_faults import FaultRun, Faults, fault_names, schedule
from bench.chaos_gateway import GatewayProxy, free_port
from bench.chaos_load import LoadRecord, RetryPolicy, open_loop
from bench.chaos_report import Accounting, EventLog, account, item_story
from bench.chaos_wait import wait_finalized, wait_settled
from bench.signed_items import signed_items
from bundlestream.core.ans104.parser import parse_data_item
from bundlestream.settings import Settings
from bundlestream.stack.application import ApiServer, application_services
from bundlestream.stack.commands import down, stack_services, stack_settings, up
from bundlestream.stack.service import split_host_port


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="uploads offered per second")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    parser.add_argument("--seed", type=int, default=None, help="fault moments (random: printed)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes to start")
    parser.add_argument("--outage-s", type=float, default=30.0)
    parser.add_argument("--broker-down-s", type=float, default=15.0)
    parser.add_argument("--warmup-s", type=float, default=20.0, help="load before any fault")
    parser.add_argument("--settle-timeout-s", type=float, default=1500.0)
    parser.add_argument(
        "--items-cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "chaos-items.bin",
        help="signed items kept between runs: give a new file to upload new ids",
    )
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    return parser.parse_args()


def app_environment(proxy: GatewayProxy, workers: int) -> dict[str, str]:
    """The environment the API, workers and projector are started with."""
    return {
        "BUNDLESTREAM_GATEWAY_URL": proxy.url,
        "BUNDLESTREAM_OBJECT_STORE": "s3",
        "BUNDLESTREAM_STACK_WORKERS": str(workers),
    }


def start_application(base: Settings, env: dict[str, str]) -> Settings:
    if ApiServer(base).process.pid() is not None:
        raise SystemExit("the API runs already: start the stack without --app")
    os.environ.update(env)  # read by the processes the stack spawns
    settings = stack_settings(Settings())
    up(application_services(settings), settings.stack.start_timeout_s)
    return settings


async def inject_all(
    faults: Faults, plan: list[tuple[float, str]], start: float, runs: list[FaultRun]
) -> None:
    async def one(at: float, name: str) -> None:
        await asyncio.sleep(max(0.0, start + at - time.monotonic()))
        print(f"[{time.monotonic() - start:6.1f} s] fault {name}", flush=True)
        try:
            run = await faults.inject(name)
        except Exception as exc:  # a fault that could not be injected is reported
            run = FaultRun(name, start + at, None, f"not injected: {exc!r}")
        runs.append(run)
        print(f"[{time.monotonic() - start:6.1f} s] {name}: {run.detail}", flush=True)

    await asyncio.gather(*(one(at, name) for at, name in plan))


def fault_rows(runs: list[FaultRun], record: LoadRecord, start: float) -> list[dict[str, object]]:
    rows = []
    for run in sorted(runs, key=lambda r: r.at):
        after_fault = record.first_200_after(run.at)
        after_restore = record.first_200_after(run.restored) if run.restored else None
        rows.append(
            {
                "fault": run.name,
                "at_s": round(run.at - start, 1),
                "restored_at_s": round(run.restored - start, 1) if run.restored else None,
                "first_200_after_fault_s": _round(after_fault),
                "first_200_after_restore_s": _round(after_restore),
                "detail": run.detail,
            }
        )
    return rows


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def figures(
    args: argparse.Namespace, seed: int, record: LoadRecord, acc: Accounting, finalized: int
) -> dict[str, object]:
    statuses = record.statuses()
    return {
        "rate_per_s": args.rate,
        "duration_s": args.duration,
        "seed": seed,
        "uploads_offered": int(args.rate * args.duration),
        "receipts_issued": len(record.receipts),
        "answered_202_only": len(record.already),
        "gave_up": len(record.gave_up),
        "refused_4xx": len(record.refused),
        "items_in_log": len(acc.in_log),
        "in_exactly_one_confirmed_bundle": len(acc.once),
        "lost": len(acc.lost),
        "bundled_twice": len(acc.twice),
        "in_two_live_plans": len(acc.live_twice),
        "finalized": finalized,
        "http_5xx": sum(n for s, n in statuses.items() if s >= 500),
        "no_http_answer": statuses[0],
        "statuses": {str(s): n for s, n in sorted(statuses.items())},
    }


async def run(args: argparse.Namespace) -> int:
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    commit = _commit()  # the tree the processes start from, not HEAD at the end
    print(f"commit {commit}  seed {seed}  rate {args.rate}/s  duration {args.duration} s")
    base = stack_settings(Settings())
    up(stack_services(base), base.stack.start_timeout_s)
    host, port = split_host_port(base.arweave.gateway_url.removeprefix("http://").rstrip("/"))
    proxy = GatewayProxy(host, port, free_port())
    await proxy.start()
    env = app_environment(proxy, args.workers)
    settings = await asyncio.to_thread(start_application, base, env)
    items = [
        (parse_data_item(item).id, item)
        for item in signed_items(int(args.rate * args.duration), args.items_cache)
    ]
    plan = schedule(
        fault_names(settings, rng), args.warmup_s, args.duration - args.outage_s - 10, rng
    )
    print("faults: " + ", ".join(f"{name} at {at:.0f} s" for at, name in plan), flush=True)
    record, runs = LoadRecord(), []
    start = time.monotonic()
    url = ApiServer(settings).url
    faults = Faults(settings, proxy, args.outage_s, args.broker_down_s)
    await asyncio.gather(
        open_loop(url, items, args.rate, record, RetryPolicy(), rng),
        inject_all(faults, plan, start, runs),
    )
    print(f"load over after {time.monotonic() - start:.0f} s; waiting for bundles", flush=True)
    log = EventLog(settings)
    told = record.told_success()
    acc = await wait_settled(log, told, args.settle_timeout_s, account)
    finalized = await wait_finalized(url, sorted(told - acc.lost), args.settle_timeout_s)
    result = {"commit": commit, **figures(args, seed, record, acc, finalized)}
    result["faults"] = fault_rows(runs, record, start)
    result["stories"] = {i: item_story(log, i) for i in sorted(acc.lost | set(acc.twice))[:20]}
    result["gave_up_ids"] = dict(sorted(record.gave_up.items())[:20])
    print(json.dumps(result, indent=2), flush=True)
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2))
    log.close()
    down(application_services(settings))
    await proxy.stop()
    await asyncio.sleep(0.5)  # the cut connections' pipes end before the loop does
    return 0 if not acc.lost and not acc.twice and finalized == len(told) else 1


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip()


if __name__ == "__main__":
    sys.exit(asyncio.run(run(arguments())))
