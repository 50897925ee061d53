"""Crashes and outages lose nothing and duplicate nothing: kill -9 of workers while they
plan and while they post, a broker restart, and a bundle the gateway never confirms.

Workers run supervised, as in production (``bundlestream worker --processes N``): a
killed worker, or one that its stall watchdog ends, is started again by its supervisor;
the tests never restart one themselves."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from pipeline_checks import (
    assert_exactly_once,
    assert_unbundled,
    signers,
    upload_all,
    wait_all_confirmed,
)
from pipeline_harness import GatewayProxy, pipeline_settings, running_pipeline, serving, wait_for

from bundlestream.core.ans104.signing import sign_data_item
from bundlestream.settings import Settings
from bundlestream.stack.commands import up
from bundlestream.stack.kafka import KafkaBroker
from tests.bounds import CONDITION_S


def small_items(count: int) -> list[bytes]:
    keys = signers()
    return [sign_data_item(keys[i % 3], os.urandom(100 + 37 * i)) for i in range(count)]


def unposted(log: object) -> set[str]:
    prepared = {e.plan_id for e in log.of("BundlePrepared")}  # type: ignore[attr-defined]
    settled = {e.plan_id for e in log.of("BundlePosted") + log.of("BundleDropped")}  # type: ignore[attr-defined]
    return prepared - settled


async def test_kill_9_while_planning_and_while_posting_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    proxy = GatewayProxy(Settings().arweave.gateway_url)
    proxy.posting.clear()  # every bundle post waits at the proxy until the second kill
    async with serving(proxy) as gateway:
        settings = pipeline_settings(
            tmp_path, arweave__gateway_url=gateway, streams__plan_overdue_s=0.5
        )
        async with running_pipeline(settings, workers=2, miner_gateway=proxy.upstream) as run:
            await wait_for(run.log, lambda: run.log.of("PlannerTicked"), CONDITION_S, "workers")
            items = small_items(200)
            early = asyncio.create_task(
                upload_all(run.api_url, items[:100], concurrency=2, pause_s=0.1)
            )
            await wait_for(
                run.log, lambda: run.log.of("BundlePlanned"), CONDITION_S, "a first plan"
            )
            first = await run.workers.wait_for_workers(2)
            # Uploads go on across the kill by construction: the second half starts now,
            # however far the first got (on a loaded machine it could have finished
            # before the first plan).
            late = asyncio.create_task(
                upload_all(run.api_url, items[100:], concurrency=2, pause_s=0.1)
            )
            run.workers.kill9(first[0])  # one of two, mid-planning
            second = await run.workers.wait_for_workers(2, gone=first[:1])  # restarted
            await wait_for(
                run.log,
                lambda: proxy.held_posts and unposted(run.log),
                CONDITION_S,
                "a bundle being posted",
            )
            run.workers.kill9_all()  # the poster of that bundle is one of them
            proxy.posting.set()
            ids = await early + await late
            await run.workers.wait_for_workers(2, gone=second)  # both restarted
            await wait_all_confirmed(run.log, ids, 300)
            assert_exactly_once(run.log, ids)
            assert_unbundled(run.log, ids)


async def test_a_broker_restart_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    settings = pipeline_settings(tmp_path)
    broker = KafkaBroker(Settings().updated(stack__dir=Settings().stack.dir.resolve()))
    items = small_items(60)
    async with running_pipeline(settings, workers=1) as run:
        ids = await upload_all(run.api_url, items[:30])
        await wait_for(run.log, lambda: run.log.of("BundlePlanned"), CONDITION_S, "a first plan")
        await asyncio.to_thread(broker.process.stop)
        await asyncio.sleep(3)
        await asyncio.to_thread(up, [broker], 180)
        ids += await upload_all(run.api_url, items[30:], retry_503=True)
        await wait_all_confirmed(run.log, ids, 300)
        assert_exactly_once(run.log, ids)
        assert_unbundled(run.log, ids)


async def test_a_bundle_the_gateway_never_confirms_is_repacked_and_mined(tmp_path: Path) -> None:
    proxy = GatewayProxy(Settings().arweave.gateway_url, hide_first_bundle=True)
    async with serving(proxy) as gateway:
        settings = pipeline_settings(
            tmp_path, arweave__gateway_url=gateway, streams__drop_after_blocks=6
        )
        async with running_pipeline(settings, miner_gateway=proxy.upstream) as run:
            ids = await upload_all(run.api_url, small_items(12))
            await wait_all_confirmed(run.log, ids, 300)
            dropped = run.log.of("BundleDropped")
            assert [d.bundle_id for d in dropped] == sorted(proxy.hidden)
            repacked = {i.data_item_id for e in run.log.of("DataItemsRepacked") for i in e.items}
            assert repacked and repacked <= set(ids)
            assert_exactly_once(run.log, ids)
            assert_unbundled(run.log, ids)
