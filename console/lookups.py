"""Lookups: an item id, a bundle (transaction or plan) id or an owner address → its
status from the projections and its story from the log."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bundlestream.adapters.log_search import events_mentioning
from bundlestream.console.context import ConsoleContext, context_of
from bundlestream.console.rendering import render

# The newest events a lookup lists: an item's story is a dozen, an owner's can run to
# thousands (decoding and rendering 2,000 of them took seconds, docs/benchmarks.md).
SHOWN_EVENTS = 500


def event_rows(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Log messages as the lookup lists them: time first, then where and what."""
    return [
        {**m, "time": datetime.fromtimestamp(m["timestamp"] / 1000, UTC).isoformat()}
        for m in messages
    ]


async def lookup_facts(context: ConsoleContext, wanted: str) -> dict[str, Any]:
    queries = context.queries
    item = await queries.rows("item", wanted)
    bundles = await queries.bundle(wanted)
    owned = await queries.rows("owner_items", wanted)
    kind = "item" if item else "bundle" if bundles else "owner" if owned else "unknown"
    # An item's bundle events name its plan, not the item: follow its plans too.
    plans = [row["plan_id"] for row in await queries.rows("item_plans", wanted)]
    needles = [wanted, *plans]
    found = await asyncio.to_thread(
        events_mentioning, context.kafka, context.topic_prefix, needles, SHOWN_EVENTS
    )
    return {
        "wanted": wanted,
        "kind": kind,
        "item": item[0] if item else None,
        "offsets": await queries.rows("item_offsets", wanted) if item else [],
        "bundles": bundles,
        "owned": owned,
        "events": event_rows(found.events),
        "events_total": found.total,
    }


async def lookup(request: Request) -> Response:
    wanted = request.query_params.get("id", "").strip()
    if not wanted:
        return render(request, "lookup.html", wanted="", kind=None)
    return render(request, "lookup.html", **await lookup_facts(context_of(request), wanted))
