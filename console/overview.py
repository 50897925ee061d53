"""The overview: items and bundles by state, uploads, failures, lag, the oldest waiting."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bundlestream.adapters.consumer_lag import group_lag
from bundlestream.console.context import ConsoleContext, context_of
from bundlestream.console.rendering import render
from bundlestream.schemas import topics
from bundlestream.schemas.topics import STAGE_INPUTS


def lags(context: ConsoleContext) -> dict[str, int]:
    """Uncommitted messages per pipeline stage, and the projector's over its topics."""
    prefix = context.topic_prefix
    by_topic = group_lag(
        context.kafka, context.pipeline_group, [t.full_name(prefix) for t in STAGE_INPUTS.values()]
    )
    projected = [
        t.full_name(prefix)
        for t in topics.CATALOGUE
        if any(c.startswith("projections:") for c in t.consumers)
    ]
    projector = group_lag(context.kafka, context.projector_group, projected)
    stages = {stage: by_topic[t.full_name(prefix)] for stage, t in STAGE_INPUTS.items()}
    return {**stages, "projector": sum(projector.values())}


async def overview_facts(context: ConsoleContext, now: datetime) -> dict[str, Any]:
    """Everything the overview shows, read at ``now``."""
    queries = context.queries
    # The broker's answers (two consumer groups' offsets) come while Postgres answers.
    lagging = asyncio.create_task(asyncio.to_thread(lags, context))
    per_minute = await queries.received_per_minute(now)
    [total] = await queries.rows("received_total")
    return {
        "items": await queries.counts("items_by_state"),
        "bundles": await queries.counts("bundles_by_state"),
        "received_total": int(total["n"]),
        "received_last_hour": sum(n for _, n in per_minute),
        "throughput": {
            "t": [int(m.timestamp()) for m, _ in per_minute],
            "n": [n for _, n in per_minute],
        },
        "failures": (await queries.rows("failed_items"))[:10],
        "oldest_waiting": next(iter(await queries.rows("oldest_waiting")), None),
        "lags": await lagging,
        "now": now,
    }


async def overview(request: Request) -> Response:
    facts = await overview_facts(context_of(request), datetime.now(UTC))
    return render(request, "overview.html", **facts)
