"""The Faust application every bundlestream worker runs."""

import functools
from collections.abc import Awaitable, Callable

import faust

from bundlestream.schemas.topics import Topic
from bundlestream.settings import Settings
from bundlestream.streams.avro_codec import CODEC_NAME, register_avro_codec
from bundlestream.streams.consumer_seek import use_seeking_consumer
from bundlestream.streams.crash import crash_worker


def create_app(settings: Settings) -> faust.App:
    """A Faust app on the settings' broker whose values are bundlestream events.

    Keys are strings (owner address or plan id). Faust's producer hashes them with the
    Java client's murmur2, like the confluent-kafka producers (``murmur2_random``), and
    waits for acks=all (Faust's default). Tables live in memory and are rebuilt from
    their changelog topics at start; nothing is shared between worker processes.
    """
    register_avro_codec()
    streams_dir = settings.stack.dir / "streams"
    # Faust creates its data directory but not the parents.
    streams_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.streams.app_id,
        broker=f"kafka://{settings.kafka.bootstrap}",
        autodiscover=False,
        key_serializer="raw",
        value_serializer=CODEC_NAME,
        topic_partitions=settings.kafka.topic_partitions,
        topic_replication_factor=settings.replication_factor(),
        producer_max_request_size=settings.kafka.max_message_bytes,
        # A worker killed with -9 holds its partitions until its session expires: keep
        # that short (Faust's default is 60 s).
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        # Standby copies of tables make every rebalance also restart standby recovery;
        # with kill -9 and quick rebalances that left partitions paused (measured here).
        # A taken-over partition restores its tables from the changelog instead.
        table_standby_replicas=0,
        # Faust's defaults already, but Faust also reads unprefixed environment variables
        # (PRODUCER_ACKS, ...): pin what durability and replay depend on.
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        store="memory://",
        datadir=str(streams_dir / settings.streams.app_id),
        web_enabled=settings.streams.web_enabled,
        web_port=settings.streams.web_port,
    )
    # Faust's seek after a rebalance skips partitions that were never committed, and
    # the records it then discards are lost to it (streams/consumer_seek.py).
    use_seeking_consumer(app)
    return app


def event_topic(app: faust.App, settings: Settings, topic: Topic) -> faust.TopicT:
    """The Faust channel of one catalogue topic under the settings' prefix."""
    return app.topic(
        topic.full_name(settings.kafka.topic_prefix),
        key_type=str,
        value_serializer=CODEC_NAME,
        partitions=settings.kafka.topic_partitions,
    )


# A background job of a worker: a coroutine function without arguments.
Job = Callable[[], Awaitable[None]]


def every(app: faust.App, seconds: float) -> Callable[[Job], Job]:
    """``app.timer(interval=seconds)``, typed (faust-streaming's decorators return Any),
    and an error of the job ends the worker (``crash_worker``).

    Escaping a timer, the error crashes the Faust app, whose orderly stop cancels the
    agents: a cancelled agent's stream acknowledges the message in its hands, and the
    stop commits it, unfinished (a chaos run lost a planned bundle so, the verify poller
    failing on the object store during an outage; ``tests/streams/test_timer_crash.py``).
    """
    register: Callable[[Job], Job] = app.timer(interval=seconds)
    return lambda job: register(_ending_the_worker(job))


def at_start(app: faust.App) -> Callable[[Job], Job]:
    """``app.task``, typed: the job runs once when the worker starts; an error of it
    ends the worker, as in ``every``."""
    register: Callable[[Job], Job] = app.task
    return lambda job: register(_ending_the_worker(job))


def _ending_the_worker(job: Job) -> Job:
    @functools.wraps(job)
    async def guarded() -> None:
        try:
            await job()
        except Exception as exc:
            crash_worker(job.__name__, exc)

    return guarded
