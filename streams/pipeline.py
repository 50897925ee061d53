"""The whole pipeline on one Faust app: every stage's agents, tables and timers."""

import logging

import faust

from bundlestream.adapters.arweave_gateway import ArweaveGateway, GatewayError
from bundlestream.adapters.observed_store import ObservedObjectStore
from bundlestream.adapters.prometheus import serve_metrics
from bundlestream.adapters.receipt_key import load_or_create_receipt_key
from bundlestream.settings import Settings
from bundlestream.streams import (
    cleanup,
    dedup,
    optical,
    planning,
    posting,
    preparation,
    seeding,
    settlement,
    top_ups,
    verification,
    watchdog,
)
from bundlestream.streams.app import at_start, create_app, every
from bundlestream.streams.context import StageContext, catalogue_topics
from bundlestream.streams.metrics import MetricsSensor, PipelineMetrics
from bundlestream.wiring import open_object_store, received_item_reader, top_up_chains

log = logging.getLogger(__name__)

STAGES = (dedup, planning, preparation, posting, seeding, cleanup, optical, top_ups)
LAG_REPORT_S = 10.0


def stage_context(app: faust.App, settings: Settings, metrics: PipelineMetrics) -> StageContext:
    """The shared resources of one worker process.

    Bundle transactions are signed with the service's one Arweave key: the receipt key
    (``receipt_key_path``) unless ``bundle_wallet_path`` names another wallet. One key
    means one address to fund and to recognise in receipts and on chain.
    """
    key_path = settings.arweave.bundle_wallet_path or settings.arweave.receipt_key_path
    gateway = ArweaveGateway(settings.arweave.gateway_url, on_error=metrics.gateway_failed)
    return StageContext(
        settings=settings,
        topics=catalogue_topics(app, settings),
        store=ObservedObjectStore(open_object_store(settings), metrics.store_failed),
        gateway=gateway,
        key=load_or_create_receipt_key(key_path, settings.arweave.receipt_key_size),
        received=received_item_reader(settings),
        chains=top_up_chains(settings, gateway),
    )


def create_pipeline(settings: Settings) -> faust.App:
    """A Faust app with every stage registered, ready for ``faust.Worker``."""
    app = create_app(settings)
    metrics = PipelineMetrics(settings)
    app.sensors.add(MetricsSensor(metrics))
    ctx = stage_context(app, settings, metrics)
    for stage in STAGES:
        stage.register(app, ctx)
    settlement.register(app, ctx, watching=verification.register(app, ctx))
    watchdog.register(app, ctx)
    metrics.start_series(agent.name for agent in app.agents.values())

    @at_start(app)
    async def fund_wallet() -> None:
        if settings.stack.gateway_is_arlocal:
            await ctx.gateway.mint(ctx.key.address, settings.stack.arlocal_mint_winston)
            log.info(
                "minted %d winston to %s on arlocal",
                settings.stack.arlocal_mint_winston,
                ctx.key.address,
            )

    async def read_wallet_balance() -> None:
        try:
            balance = await ctx.gateway.balance(ctx.key.address)
        except GatewayError:
            return  # counted by the gateway's observer; the gauge keeps its last value
        metrics.wallet_balance.labels(ctx.key.address).set(balance)

    @at_start(app)
    async def export_metrics() -> None:
        await read_wallet_balance()  # first, so that the first scrape has it
        serve_metrics(metrics.registry, settings.metrics.host, settings.metrics.worker_port)

    every(app, settings.metrics.wallet_refresh_s)(read_wallet_balance)

    @every(app, LAG_REPORT_S)
    async def report_lag() -> None:
        log.info("assigned partitions and lag: %s", lag_report(app, settings.kafka.topic_prefix))

    return app


def lag_report(app: faust.App, prefix: str) -> dict[str, dict[int, int | None]]:
    """Topic (without prefix) → partition → messages past the committed offset (None
    until this worker has committed in that partition)."""
    consumer = app.consumer
    report: dict[str, dict[int, int | None]] = {}
    for tp in sorted(consumer.assignment()):
        if tp.topic.endswith("-changelog"):
            continue
        high = consumer.highwater(tp)
        committed = getattr(consumer, "_committed_offset", {}).get(tp)
        lag = None if high is None or committed is None else high - committed
        report.setdefault(tp.topic.removeprefix(prefix), {})[tp.partition] = lag
    return report
