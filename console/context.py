"""What the console's routes use, opened in its lifespan onto one AsyncExitStack."""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis
from starlette.requests import Request

from bundlestream.adapters.console_queries import ConsoleQueries
from bundlestream.adapters.kafka_config import KafkaConnection
from bundlestream.adapters.login_throttle import LoginThrottle, ThrottleLimits
from bundlestream.adapters.operator_accounts import OperatorAccounts
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection


@dataclass(frozen=True)
class ConsoleContext:
    queries: ConsoleQueries
    accounts: OperatorAccounts
    throttle: LoginThrottle
    kafka: KafkaConnection
    topic_prefix: str
    pipeline_group: str
    projector_group: str
    session_max_age_s: int


def context_of(request: Request) -> ConsoleContext:
    """The context the lifespan put into the app state."""
    context: ConsoleContext = request.app.state.console
    return context


@contextlib.asynccontextmanager
async def open_context(settings: Settings) -> AsyncIterator[ConsoleContext]:
    """The Postgres pool, the Redis client and the adapters over them."""
    async with contextlib.AsyncExitStack() as stack:
        pool = AsyncConnectionPool(
            settings.postgres.dsn.get_secret_value(),
            min_size=1,
            max_size=4,
            open=False,
            kwargs={"prepare_threshold": None, "autocommit": True},
        )
        await pool.open(wait=False)
        stack.push_async_callback(pool.close)
        redis = Redis.from_url(settings.redis.url.get_secret_value())
        stack.push_async_callback(redis.aclose)
        limits = ThrottleLimits(
            settings.console.login_user_limit,
            settings.console.login_ip_limit,
            settings.console.login_window_s,
        )
        yield ConsoleContext(
            queries=ConsoleQueries(pool, settings.postgres.projections_schema),
            accounts=OperatorAccounts(pool, settings.console.schema_name),
            throttle=LoginThrottle(redis, settings.kafka.topic_prefix, limits),
            kafka=kafka_connection(settings),
            topic_prefix=settings.kafka.topic_prefix,
            pipeline_group=settings.streams.app_id,
            projector_group=settings.postgres.projector_group_id,
            session_max_age_s=settings.console.session_max_age_s,
        )
