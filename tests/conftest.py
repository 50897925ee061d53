"""Shared fixtures: the settings of the stack under test and checks that its services answer.

The stack is the one ``make up`` starts (or any stack the BUNDLESTREAM_* environment
points at). A test that needs a service FAILS, never skips, when it is not reachable:
a missing broker must not pass as a green run.
"""

from __future__ import annotations

import socket
import uuid
from urllib.parse import urlsplit

import pytest
from hypothesis import settings as hypothesis_settings
from psycopg.conninfo import conninfo_to_dict

from bundlestream.settings import Settings

# No per-example deadline: it is a timing assertion, and these machines are shared.
hypothesis_settings.register_profile("bundlestream", deadline=None)
hypothesis_settings.load_profile("bundlestream")


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The settings every test shares, read once from the BUNDLESTREAM_* environment."""
    return Settings()


def require_reachable(service: str, host: str, port: int) -> None:
    """Fail the calling test with a clear hint when nothing listens on host:port."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        pytest.fail(
            f"{service} is not reachable at {host}:{port} ({exc}); start it with make up",
            pytrace=False,
        )


def _url_address(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


@pytest.fixture(scope="session")
def kafka_bootstrap(settings: Settings) -> str:
    """``host:port`` of a reachable Kafka broker."""
    host, _, port = settings.kafka.bootstrap.split(",")[0].rpartition(":")
    require_reachable("Kafka", host, int(port))
    return settings.kafka.bootstrap


@pytest.fixture(scope="session")
def postgres_dsn(settings: Settings) -> str:
    """The DSN of a reachable Postgres."""
    params = conninfo_to_dict(settings.postgres.dsn.get_secret_value())
    require_reachable("Postgres", str(params.get("host")), int(str(params.get("port", 5432))))
    return settings.postgres.dsn.get_secret_value()


@pytest.fixture(scope="session")
def redis_url(settings: Settings) -> str:
    """The URL of a reachable Redis."""
    require_reachable("Redis", *_url_address(settings.redis.url.get_secret_value(), 6379))
    return settings.redis.url.get_secret_value()


@pytest.fixture(scope="session")
def s3_endpoint(settings: Settings) -> str:
    """The endpoint of a reachable S3-compatible server."""
    require_reachable("S3 server (s3rver)", *_url_address(settings.object_store.s3_endpoint, 443))
    return settings.object_store.s3_endpoint


@pytest.fixture(scope="session")
def gateway_url(settings: Settings) -> str:
    """The URL of a reachable Arweave gateway (arlocal in the local stack)."""
    require_reachable("Arweave gateway (arlocal)", *_url_address(settings.arweave.gateway_url, 80))
    return settings.arweave.gateway_url


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A name no other test uses (topic, bucket, schema, key prefix): test name + random."""
    stem = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:30]
    return f"{stem.strip('-')}-{uuid.uuid4().hex[:8]}"
