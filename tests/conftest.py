"""Shared fixtures: the settings of the stack under test and checks that its services answer.

The stack is the one ``make up`` starts (or any stack the BUNDLESTREAM_* environment
points at). A test that needs a service FAILS, never skips, when it is not reachable:
a missing broker must not pass as a green run.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from psycopg.conninfo import conninfo_to_dict

from bundlestream.settings import Settings

# No per-example deadline and no too_slow health check anywhere: both are timing
# assertions, and these machines are shared.
# "ci" draws the same examples on every run (derandomize) and prints the reproduction blob
# of a failure, so a red CI run is red again on a laptop; it keeps no example database.
# "dev" (the default) draws afresh each run and replays past failures from .hypothesis/.
# HYPOTHESIS_PROFILE names one explicitly; CI=true selects "ci".
UNTIMED = hypothesis_settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.register_profile(
    "ci", UNTIMED, derandomize=True, print_blob=True, database=None
)
hypothesis_settings.register_profile("dev", UNTIMED)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") == "true" else "dev")
)

# The ANS-104 conformance vectors every project of the workplace shares, beside the
# checkout: ../shared/fixtures/ans104. Tests import this one path (``tests.conftest``).
FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "ans104"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """The conformance vectors' directory; the test fails when it is missing."""
    assert FIXTURES.is_dir(), f"ANS-104 conformance vectors missing at {FIXTURES}"
    return FIXTURES


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The settings every test shares, read once from the BUNDLESTREAM_* environment."""
    return Settings()


def require_reachable(service: str, host: str, port: int) -> None:
    """Fail the calling test with a clear hint when nothing listens on host:port."""
    try:
        # A bound, not a timing: the kernel answers a local connect at once unless the
        # machine is starved.
        with socket.create_connection((host, port), timeout=30):
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
