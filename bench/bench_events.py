"""Event path throughput: Avro codec rates and acknowledged sends through the broker.

Run on purpose against a running stack (``make up`` or any BUNDLESTREAM_* stack):
``.venv/bin/python bench/bench_events.py [--sends 20000] [--concurrency 200]``.
Prints encode/decode rates of a DataItemReceived carrying a 1 KiB inline item, then
acks=all sends per second and send latency percentiles of EventProducer.
"""

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from bundlestream.adapters.kafka_producer import EventProducer
from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.schemas.codec import decode, encode
from bundlestream.schemas.events import DataItemReceived
from bundlestream.schemas.topics import DATA_ITEMS_RECEIVED
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout


def sample_event(n: int) -> DataItemReceived:
    return DataItemReceived(
        data_item_id=f"{n:043d}",
        owner_address=uuid.UUID(int=n).hex.ljust(43, "o"),
        signature_type=1,
        raw_size=2068,
        payload_start=1044,
        payload_size=1024,
        inline_item=bytes(2068),
        received_at=datetime.now(UTC),
        deadline_height=1_600_000,
        winc="0",
    )


def rate(work: Callable[[], object], seconds: float = 2.0) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        work()
        count += 1
    return count / (time.perf_counter() - start)


async def timed_send(producer: EventProducer, topic: str, event: DataItemReceived) -> float:
    start = time.perf_counter()
    await producer.send(topic, event.owner_address, encode(event))
    return time.perf_counter() - start


async def send_all(settings: Settings, sends: int, concurrency: int) -> None:
    topic = DATA_ITEMS_RECEIVED.full_name(settings.kafka.topic_prefix)
    producer = EventProducer(kafka_connection(settings))
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> float:
        async with gate:
            return await timed_send(producer, topic, sample_event(n))

    await one(sends)  # connection and producer id before the clock starts
    start = time.perf_counter()
    latencies = sorted(await asyncio.gather(*(one(n) for n in range(sends))))
    elapsed = time.perf_counter() - start
    await producer.close()
    q = statistics.quantiles(latencies, n=100)
    print(f"acked sends/s: {sends / elapsed:,.0f}  ({sends} sends, concurrency {concurrency})")
    print(f"send latency ms: p50 {q[49] * 1e3:.1f}  p95 {q[94] * 1e3:.1f}  p99 {q[98] * 1e3:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sends", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=200)
    args = parser.parse_args()
    event = sample_event(1)
    data = encode(event)
    print(f"event bytes: {len(data)}")
    print(
        f"encode/s: {rate(lambda: encode(event)):,.0f}  decode/s: {rate(lambda: decode(data)):,.0f}"
    )
    settings = Settings().updated(kafka__topic_prefix=f"bench-{uuid.uuid4().hex[:8]}.")
    create_topics(kafka_connection(settings), topic_layout(settings))
    asyncio.run(send_all(settings, args.sends, args.concurrency))


if __name__ == "__main__":
    main()
