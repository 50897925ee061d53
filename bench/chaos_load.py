"""Open-loop upload load with client retries, and what every answer told the client.

Items are sent on schedule whatever earlier ones answered (a slow or dead server
cannot slow the offered rate down). Each upload retries a 5xx, a 408/429 or a
connection error with exponential backoff and jitter, as the turbo SDK does (axios
retries with an exponential delay on network errors and 5xx); a 200 is a receipt,
a 202 ("already uploaded") is what every SDK takes as success too.
"""

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

RETRIED = {408, 429} | set(range(500, 600))


@dataclass(frozen=True)
class Answer:
    item_id: str
    sent: float  # monotonic
    answered: float
    status: int  # 0: no HTTP answer (connection refused, reset, timeout)


@dataclass
class LoadRecord:
    """Everything the clients were told."""

    answers: list[Answer] = field(default_factory=list)
    receipts: dict[str, dict[str, object]] = field(default_factory=dict)
    already: set[str] = field(default_factory=set)  # answered 202 and never 200
    gave_up: dict[str, int] = field(default_factory=dict)  # id -> last status
    refused: dict[str, int] = field(default_factory=dict)  # a 4xx that is not retried

    def statuses(self) -> Counter[int]:
        return Counter(a.status for a in self.answers)

    def told_success(self) -> set[str]:
        return set(self.receipts) | self.already

    def first_200_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` to the first 200 of a request sent at or after it."""
        times = [a.answered for a in self.answers if a.status == 200 and a.sent >= moment]
        return min(times) - moment if times else None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 12
    base_s: float = 0.5
    max_s: float = 8.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return min(self.max_s, self.base_s * 2**attempt) * (0.5 + rng.random() / 2)


async def upload(
    client: httpx.AsyncClient,
    item_id: str,
    body: bytes,
    record: LoadRecord,
    policy: RetryPolicy,
    rng: random.Random,
) -> None:
    status = 0
    for attempt in range(policy.attempts):
        sent = time.monotonic()
        try:
            answer = await client.post("/tx", content=body)
            status = answer.status_code
        except httpx.TransportError:
            status = 0
        record.answers.append(Answer(item_id, sent, time.monotonic(), status))
        if status == 200:
            record.receipts[item_id] = answer.json()
            record.already.discard(item_id)
            return
        if status == 202:
            record.already.add(item_id)
            return
        if status and status not in RETRIED:
            record.refused[item_id] = status
            return
        await asyncio.sleep(policy.delay(attempt, rng))
    record.gave_up[item_id] = status


async def open_loop(
    url: str,
    items: list[tuple[str, bytes]],
    rate: float,
    record: LoadRecord,
    policy: RetryPolicy,
    rng: random.Random,
) -> None:
    """Send ``items`` at ``rate``/s from now, each with its retries; returns when every
    upload has ended (answered or given up)."""
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=256)
    headers = {"content-type": "application/octet-stream"}
    async with httpx.AsyncClient(
        base_url=url, timeout=30, limits=limits, headers=headers
    ) as client:
        tasks = []
        start = time.monotonic()
        for index, (item_id, body) in enumerate(items):
            await asyncio.sleep(max(0.0, start + index / rate - time.monotonic()))
            job = upload(client, item_id, body, record, policy, random.Random(rng.random()))
            tasks.append(asyncio.create_task(job))
        await asyncio.gather(*tasks)
