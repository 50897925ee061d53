"""Prepare: BundlePlanned → the bundle object, its signed transaction, OffsetsRecorded
and BundlePrepared (or BundleDropped when an item's bytes are gone).

Idempotent under redelivery: the bundle bytes are a function of the plan, and the
signed transaction is stored beside them before any event names it, so a plan prepared
again reuses it (RSA-PSS signatures are randomised: signing again would make a second
transaction id for one plan).
"""

import json
from datetime import UTC, datetime
from typing import assert_never

import faust

from bundlestream.adapters.arweave_gateway import GatewayError
from bundlestream.adapters.object_store import ObjectStoreError
from bundlestream.adapters.received_items import ReceivedItemError
from bundlestream.core.arweave_tx import Transaction, transaction_from_json, transaction_to_json
from bundlestream.core.bundle_tx import bundle_transaction
from bundlestream.core.encoding import b64url_encode
from bundlestream.core.merkle import chunk_hashes
from bundlestream.schemas.codec import encode
from bundlestream.schemas.events import (
    BundleDropped,
    BundlePlanned,
    BundlePrepared,
    OffsetsRecorded,
)
from bundlestream.streams.bundle_assembly import Assembled, UnpreparablePlan, assemble
from bundlestream.streams.context import StageContext, Topics
from bundlestream.streams.crash import crash_worker
from bundlestream.streams.retrying import with_backoff

# What preparing a plan writes: each to its own topic (``destination``).
PreparationEvent = OffsetsRecorded | BundlePrepared | BundleDropped


def destination(topics: Topics, event: PreparationEvent) -> faust.TopicT:
    """The topic an event of preparation goes to, chosen by its type (mypy checks that
    every type of ``PreparationEvent`` has one)."""
    match event:
        case OffsetsRecorded():
            return topics.offsets
        case BundlePrepared():
            return topics.prepared
        case BundleDropped():
            return topics.settled
        case _:
            assert_never(event)


def bundle_key(plan_id: str, name: str) -> str:
    """Object-store keys of a plan's bundle, transaction, chunk hashes and plan."""
    return f"bundles/{plan_id}/{name}"


async def read_small(ctx: StageContext, key: str) -> bytes | None:
    if await ctx.store.size(key) is None:
        return None
    return b"".join([piece async for piece in ctx.store.read(key)])


async def is_permanent(ctx: StageContext, plan_id: str) -> bool:
    """Whether the plan's bundle is already permanent (its copies may be cleaned up).

    A plan's events can be delivered again after its bundle was confirmed (a stage that
    crashed before committing); every stage then has nothing left to do.
    """
    return await ctx.store.size(bundle_key(plan_id, "permanent")) is not None


async def _transaction(ctx: StageContext, plan_id: str, built: Assembled) -> Transaction:
    stored = await read_small(ctx, bundle_key(plan_id, "tx.json"))
    if stored is not None:
        tx = transaction_from_json(json.loads(stored))
        if tx.data_root == built.tree.data_root and tx.data_size == built.data_size:
            return tx
    reward = await with_backoff(ctx, lambda: ctx.gateway.price(built.data_size))
    anchor = await with_backoff(ctx, ctx.gateway.tx_anchor)
    tx = bundle_transaction(ctx.key, built.data_size, built.tree.data_root, reward, anchor)
    await ctx.store.put(
        bundle_key(plan_id, "tx.json"), json.dumps(transaction_to_json(tx)).encode()
    )
    return tx


async def prepare(ctx: StageContext, plan: BundlePlanned) -> list[PreparationEvent]:
    """The events of preparing ``plan``: offsets then prepared, or a drop."""
    now = datetime.now(UTC)
    key = bundle_key(plan.plan_id, "bundle")
    if await is_permanent(ctx, plan.plan_id):
        return []
    try:
        built = await assemble(ctx.store, ctx.received, plan, key)
    except UnpreparablePlan as exc:
        return [BundleDropped(plan_id=plan.plan_id, reason=str(exc), dropped_at=now)]
    await ctx.store.put(bundle_key(plan.plan_id, "plan"), encode(plan))
    await ctx.store.put(bundle_key(plan.plan_id, "chunks"), chunk_hashes(built.tree))
    tx = await _transaction(ctx, plan.plan_id, built)
    offsets = OffsetsRecorded(
        plan_id=plan.plan_id, root_bundle_id=tx.id, items=tuple(built.offsets), recorded_at=now
    )
    prepared = BundlePrepared(
        plan_id=plan.plan_id,
        bundle_id=tx.id,
        bundle_object_key=key,
        data_size=built.data_size,
        data_root=b64url_encode(built.tree.data_root),
        reward=str(tx.reward),
        anchor=b64url_encode(tx.last_tx),
        item_count=len(plan.items),
        tx_header=json.dumps(transaction_to_json(tx)).encode(),
        prepared_at=now,
    )
    return [offsets, prepared]


def register(app: faust.App, ctx: StageContext) -> None:
    @app.agent(ctx.topics.planned, name="prepare")
    async def prepare_agent(stream: faust.StreamT[BundlePlanned]) -> None:
        async for plan in stream:
            try:
                events = await prepare(ctx, plan)
            except (GatewayError, ObjectStoreError, ReceivedItemError) as exc:
                crash_worker("prepare", exc)
            for event in events:
                await destination(ctx.topics, event).send(key=plan.plan_id, value=event)
