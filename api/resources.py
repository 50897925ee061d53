"""The upload API's resources, opened once in the app lifespan and passed down.

Redis, the Kafka producer, the object store, the gateway client and the receipt key
live here for the life of the process; routes reach them through ``request.state.api``.
Nothing is created at import time. Each resource goes onto one ``AsyncExitStack`` as it
opens, so whatever start-up got through is closed, in reverse order, if a later step
fails, and at shutdown.
"""

import asyncio
import contextlib
import functools
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
from redis.asyncio import BlockingConnectionPool, Redis

from bundlestream.adapters.block_height import BlockHeight
from bundlestream.adapters.fresh_receipts import FreshReceipts
from bundlestream.adapters.kafka_producer import BrokerUnavailable, EventProducer
from bundlestream.adapters.ledger_feed import LedgerFeed
from bundlestream.adapters.multipart_sessions import MultipartSessions
from bundlestream.adapters.object_store import ObjectStore
from bundlestream.adapters.projection_queries import open_projection_queries
from bundlestream.adapters.rate_limiter import RateLimiter
from bundlestream.adapters.receipt_key import load_or_create_receipt_key
from bundlestream.adapters.spendable_view import SpendableView
from bundlestream.adapters.tasks import stop
from bundlestream.api.capacity import BodyMemory, Capacity, object_store_disk
from bundlestream.api.charging import Charging
from bundlestream.api.chunked import ChunkBounds, ChunkedUploads
from bundlestream.api.context import ApiContext
from bundlestream.api.credit_sharing import ApprovalEnds
from bundlestream.api.event_messages import received_message
from bundlestream.api.metrics import ApiMetrics
from bundlestream.api.sweeper import Sweeper
from bundlestream.api.upload_path import Publish, PublishFailed, UploadPath
from bundlestream.core.admission import AdmissionPolicy, UploadPrice
from bundlestream.core.jwk import ArweaveKey
from bundlestream.core.receipts import RECEIPT_VERSION, sign_receipt
from bundlestream.schemas.events import DataItemReceived
from bundlestream.schemas.topics import DATA_ITEMS_RECEIVED, LEDGER_EVENTS
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, open_object_store, payment_addresses


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def publisher(producer: EventProducer, topic: str) -> Publish:
    """DataItemReceived to its topic, keyed by owner address; waits for acks=all."""

    async def publish(event: DataItemReceived) -> None:
        [sent] = await producer.send_all([received_message(topic, event)])
        if isinstance(sent, BrokerUnavailable):
            raise PublishFailed(str(sent)) from sent

    return publish


def admission_of(settings: Settings, price: UploadPrice) -> AdmissionPolicy:
    return AdmissionPolicy(
        blocklist=frozenset(settings.api.blocklisted_addresses),
        allow_list=frozenset(settings.api.allow_listed_addresses),
        free_upload_limit_bytes=settings.api.free_upload_limit_bytes,
        price=price,
    )


def settle_after_s(settings: Settings) -> float:
    """How long after a charge's send its fate is known: librdkafka fails a send after
    the delivery timeout; twice that covers the clock skew between API processes."""
    return 2 * settings.kafka.delivery_timeout_s


def charging_of(settings: Settings, producer: EventProducer, view: SpendableView) -> Charging:
    prefix = settings.kafka.topic_prefix
    topics = (LEDGER_EVENTS.full_name(prefix), DATA_ITEMS_RECEIVED.full_name(prefix))
    now = functools.partial(datetime.now, UTC)
    return Charging(view, producer, *topics, now, settle_after_s(settings))


async def start_ledger(
    stack: contextlib.AsyncExitStack, settings: Settings, charging: Charging
) -> None:
    """The feed of the spendable view, the settler of unsettled charges and the timer
    that ends approvals."""
    topic = LEDGER_EVENTS.full_name(settings.kafka.topic_prefix)
    feed = LedgerFeed(kafka_connection(settings), topic, charging.view, settle_after_s(settings))
    stack.push_async_callback(stop, asyncio.create_task(feed.run()))
    settler = charging.run_settler(settings.api.charge_settle_every_s)
    stack.push_async_callback(stop, asyncio.create_task(settler))
    ends = ApprovalEnds(
        charging.view, charging.producer, topic, charging.now, settle_after_s(settings)
    )
    expiry = ends.run(settings.api.approval_expiry_every_s)
    stack.push_async_callback(stop, asyncio.create_task(expiry))


def capacity_of(settings: Settings) -> Capacity:
    api = settings.api
    return Capacity(
        memory=BodyMemory(api.max_buffered_bytes),
        max_requests=api.max_inflight_requests,
        max_loop_lag_s=api.max_event_loop_lag_s,
        min_free_disk=api.min_free_disk_bytes,
        max_item_size=api.max_data_item_size,
        disk_free=object_store_disk(settings.object_store.backend, settings.object_store.dir),
    )


def upload_path(
    settings: Settings,
    store: ObjectStore,
    producer: EventProducer,
    redis: Redis,
    height: BlockHeight,
    key: ArweaveKey,
    price: UploadPrice,
    charging: Charging,
    memory: BodyMemory,
) -> UploadPath:
    fresh = FreshReceipts(redis, settings.kafka.topic_prefix, settings.api.fresh_receipt_ttl_s)
    return UploadPath(
        store=store,
        publish=publisher(producer, DATA_ITEMS_RECEIVED.full_name(settings.kafka.topic_prefix)),
        fresh=fresh,
        height=height.current,
        sign=functools.partial(sign_receipt, key),
        admission=admission_of(settings, price),
        charging=charging,
        now_ms=now_ms,
        max_item_size=settings.api.max_data_item_size,
        inline_max=settings.api.inline_item_max_bytes,
        deadline_margin=settings.api.deadline_height_margin,
        data_caches=tuple(settings.api.data_caches),
        fast_finality_indexes=tuple(settings.api.fast_finality_indexes),
        memory=memory,
    )


def chunked_uploads(settings: Settings, redis: Redis, path: UploadPath) -> ChunkedUploads:
    return ChunkedUploads(
        sessions=MultipartSessions(
            redis, settings.kafka.topic_prefix, settings.api.multipart_ttl_s
        ),
        store=path.store,
        upload=path,
        bounds=ChunkBounds(
            min=settings.api.multipart_chunk_min_bytes,
            max=settings.api.multipart_chunk_max_bytes,
            default=settings.api.multipart_default_chunk_bytes,
        ),
        now_ms=now_ms,
        new_id=lambda: str(uuid.uuid4()),
    )


def sweeper_of(settings: Settings, chunked: ChunkedUploads, metrics: ApiMetrics) -> Sweeper:
    return Sweeper(
        chunked.store,
        chunked.sessions,
        metrics,
        settings.api.abandoned_write_age_s,
        settings.api.sweep_interval_s,
    )


def info_of(settings: Settings, key: ArweaveKey) -> dict[str, Any]:
    """GET /info: upstream's fields, then our limits."""
    return {
        "version": RECEIPT_VERSION,
        "addresses": payment_addresses(settings, key.address),
        "gateway": settings.arweave.gateway_url,
        "freeUploadLimitBytes": settings.api.free_upload_limit_bytes,
        "maxDataItemSizeBytes": settings.api.max_data_item_size,
        "maxBundleSizeBytes": settings.streams.max_bundle_size,
        "maxItemsPerBundle": settings.streams.max_items_per_bundle,
        "multipartChunkMinBytes": settings.api.multipart_chunk_min_bytes,
        "multipartChunkMaxBytes": settings.api.multipart_chunk_max_bytes,
    }


def redis_of(settings: Settings) -> Redis:
    """A client that owns its pool (``aclose`` closes the pool's connections)."""
    # A bounded pool that makes callers wait for a connection (the default pool raises
    # "Too many connections" under load, which would turn a burst into 503s).
    pool = BlockingConnectionPool.from_url(
        settings.redis.url.get_secret_value(),
        max_connections=64,
        timeout=5,
        socket_timeout=5,
        socket_connect_timeout=2,
    )
    return Redis.from_pool(pool)


@contextlib.asynccontextmanager
async def upload_api(
    settings: Settings, metrics: ApiMetrics, price: UploadPrice
) -> AsyncIterator[dict[str, Any]]:
    """Open everything the upload API needs; yields the lifespan state entries.

    Everything opened is closed on exit, or as soon as a later step of start-up fails.
    The object store (``state["api"].upload.store``) has no close: the filesystem
    backend holds no handle between calls, and boto3's pool goes with its client.
    """
    key = await asyncio.to_thread(
        load_or_create_receipt_key,
        settings.arweave.receipt_key_path,
        settings.arweave.receipt_key_size,
    )
    async with contextlib.AsyncExitStack() as stack:
        redis = redis_of(settings)
        stack.push_async_callback(redis.aclose)
        http = await stack.enter_async_context(httpx.AsyncClient())
        producer = EventProducer(kafka_connection(settings))
        stack.push_async_callback(producer.close)
        height = BlockHeight(
            http, settings.arweave.gateway_url, settings.api.block_height_refresh_s
        )
        stack.push_async_callback(stop, asyncio.create_task(height.run()))
        charging = charging_of(
            settings, producer, SpendableView(redis, settings.kafka.topic_prefix)
        )
        await start_ledger(stack, settings, charging)
        store = open_object_store(settings)
        capacity = await stack.enter_async_context(capacity_of(settings).watching())
        metrics.watch(capacity)
        path = upload_path(
            settings, store, producer, redis, height, key, price, charging, capacity.memory
        )
        chunked = chunked_uploads(settings, redis, path)
        stack.push_async_callback(chunked.close)
        stack.push_async_callback(
            stop, asyncio.create_task(sweeper_of(settings, chunked, metrics).run())
        )
        projections = await stack.enter_async_context(
            open_projection_queries(
                settings.postgres.dsn.get_secret_value(), settings.postgres.projections_schema
            )
        )
        limiter = RateLimiter(
            redis,
            settings.kafka.topic_prefix,
            settings.api.rate_limit_requests,
            settings.api.rate_limit_window_s,
        )
        context = ApiContext(
            path, chunked, metrics, info_of(settings, key), settings.api.retry_after_s, projections
        )
        yield {"api": context, "rate_limiter": limiter, "capacity": capacity}
