"""Lists (failed items, dropped and repacked bundles, dead letters) and the re-drive of
dead letters: a GET that shows what a re-drive would do, then the confirmed POST."""

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bundlestream.adapters.dead_letters import redrive
from bundlestream.adapters.event_log import message_json, reader
from bundlestream.adapters.kafka_config import KafkaConnection
from bundlestream.adapters.log_search import read_whole
from bundlestream.console.context import context_of
from bundlestream.console.rendering import checked_form, render
from bundlestream.schemas.topics import DEAD_LETTERS

_SHOWN = 50


def dead_letters(kafka: KafkaConnection, topic_prefix: str) -> list[dict[str, Any]]:
    """The newest messages of the dead-letter topic, newest first."""
    consumer = reader(kafka)
    try:
        found = [
            message_json(m) for m in read_whole(consumer, DEAD_LETTERS.full_name(topic_prefix))
        ]
    finally:
        consumer.close()
    return sorted(found, key=lambda m: m["timestamp"], reverse=True)[:_SHOWN]


async def failures(request: Request) -> Response:
    queries = context_of(request).queries
    return render(
        request,
        "failures.html",
        failed=await queries.rows("failed_items"),
        dropped=await queries.rows("dropped_bundles"),
        repacked=await queries.rows("repacked_items"),
    )


async def dead_letter_list(request: Request) -> Response:
    context = context_of(request)
    letters = await asyncio.to_thread(dead_letters, context.kafka, context.topic_prefix)
    return render(request, "dead_letters.html", letters=letters)


async def redrive_confirmation(request: Request) -> Response:
    """What a re-drive would do now (a dry run: nothing written, nothing committed)."""
    context = context_of(request)
    plan = await asyncio.to_thread(redrive, context.kafka, context.topic_prefix, True)
    return render(request, "redrive.html", plan=plan, done=None)


async def redrive_now(request: Request) -> Response:
    """The confirmed re-drive: decodable dead letters are appended to their topics."""
    form = await checked_form(request)
    if form.get("confirm") != "yes":
        return await redrive_confirmation(request)
    context = context_of(request)
    done = await asyncio.to_thread(redrive, context.kafka, context.topic_prefix)
    return render(request, "redrive.html", plan=None, done=done)
