"""Seed: BundlePosted → POST /chunk for every chunk, in order → BundleSeeded.

The merkle tree is rebuilt from the chunk hashes prepare stored (no rehash of the
bundle); only one chunk is in memory at a time. The table ``seed-progress`` (plan id →
next chunk) makes a redelivered or taken-over bundle resume where seeding stopped; a
plan leaves it once seeded, so it holds only the bundles being seeded.
"""

import functools
from datetime import UTC, datetime
from typing import Any

import faust

from bundlestream.adapters.arweave_gateway import GatewayError
from bundlestream.adapters.object_store import ObjectStoreError
from bundlestream.core.merkle import chunk_spans, chunk_upload, tree_from_chunk_hashes
from bundlestream.schemas import topics as catalogue
from bundlestream.schemas.events import BundlePosted, BundleSeeded
from bundlestream.streams.context import StageContext
from bundlestream.streams.crash import crash_worker
from bundlestream.streams.preparation import bundle_key, is_permanent, read_small
from bundlestream.streams.retrying import with_backoff


async def seed(ctx: StageContext, posted: BundlePosted, progress: Any) -> BundleSeeded:
    key = bundle_key(posted.plan_id, "bundle")
    size = await ctx.store.size(key)
    hashes = await read_small(ctx, bundle_key(posted.plan_id, "chunks"))
    if size is None or hashes is None:
        raise ObjectStoreError(f"{posted.plan_id}: bundle or chunk hashes missing")
    tree = tree_from_chunk_hashes(size, hashes)
    spans = [span for span in chunk_spans(size) if span.size > 0]
    for index in range(progress.get(posted.plan_id) or 0, len(spans)):
        span = spans[index]
        chunk = b"".join([p async for p in ctx.store.read(key, span.start, span.end)])
        body = chunk_upload(tree, index, chunk).to_json()
        await with_backoff(ctx, functools.partial(ctx.gateway.post_chunk, body))
        progress[posted.plan_id] = index + 1
    return BundleSeeded(
        plan_id=posted.plan_id,
        bundle_id=posted.bundle_id,
        chunk_count=len(spans),
        seeded_at=datetime.now(UTC),
    )


def register(app: faust.App, ctx: StageContext) -> None:
    progress = ctx.table(app, catalogue.SEED_PROGRESS)

    @app.agent(ctx.topics.posted, name="seed")
    async def seed_agent(stream: faust.StreamT[BundlePosted]) -> None:
        async for posted in stream:
            try:  # the permanence check reads the store too: see the post stage
                if await is_permanent(ctx, posted.plan_id):
                    continue
                seeded = await seed(ctx, posted, progress)
            except (GatewayError, ObjectStoreError) as exc:
                crash_worker("seed", exc)
            await ctx.topics.seeded.send(key=posted.plan_id, value=seeded)
            # Seeded: nothing to resume any more. Keeps the table to the bundles being
            # seeded; a redelivery after a crash here re-posts the chunks (idempotent).
            progress.pop(posted.plan_id, None)
