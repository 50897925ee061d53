"""docker-compose.yml configures bundlestream only through real settings, with valid values."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict

from bundlestream.settings import Settings, variables

COMPOSE = Path(__file__).resolve().parents[1] / "docker-compose.yml"
PREFIX = "BUNDLESTREAM_"
BUNDLESTREAM_SERVICES = {"api", "worker", "topics", "miner", "evm-token", "facilitator"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def bundlestream_env(name: str) -> dict[str, str]:
    env = environment(compose()["services"][name])
    return {key: value for key, value in env.items() if key.startswith(PREFIX)}


def test_every_bundlestream_variable_is_a_setting() -> None:
    known = variables()
    for name, service in compose()["services"].items():
        for key in environment(service):
            if key.startswith(PREFIX):
                assert key in known, f"{name}: {key} is no setting"


def test_bundlestream_services_get_settings_that_validate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in BUNDLESTREAM_SERVICES:
        for key in variables():
            monkeypatch.delenv(key, raising=False)
        for key, value in bundlestream_env(name).items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert settings.object_store.backend == "s3", name


def test_addresses_point_at_compose_services() -> None:
    services = set(compose()["services"])
    env = bundlestream_env("worker")
    hosts = {
        env[f"{PREFIX}KAFKA_BOOTSTRAP"].rpartition(":")[0],
        str(conninfo_to_dict(env[f"{PREFIX}POSTGRES_DSN"])["host"]),
        urlsplit(env[f"{PREFIX}REDIS_URL"]).hostname,
        urlsplit(env[f"{PREFIX}S3_ENDPOINT"]).hostname,
        urlsplit(env[f"{PREFIX}GATEWAY_URL"]).hostname,
    }
    assert hosts <= services


def test_api_listens_where_compose_publishes_it() -> None:
    env = bundlestream_env("api")
    port = env[f"{PREFIX}API_PORT"]
    assert env[f"{PREFIX}API_HOST"] == "0.0.0.0"
    assert f"127.0.0.1:{port}:{port}" in compose()["services"]["api"]["ports"]


def test_the_x402_parts_are_the_stack_s() -> None:
    """The EVM node, the token compiled by solc then deployed by ``stack token``, and the
    facilitator the API verifies and settles with, as ``bundlestream stack up`` has them."""
    services = compose()["services"]
    env = bundlestream_env("api")
    assert urlsplit(env[f"{PREFIX}EVM_RPC_URL"]).hostname == "evm"
    assert urlsplit(env[f"{PREFIX}X402_FACILITATOR_URL"]).hostname == "facilitator"
    assert "hardhat" in services["evm"]["command"][-1]
    compiled = services["evm-token"]["command"][-1]
    assert services["evm-token"]["command"][:2] == ["stack", "token"]
    assert f"> {compiled}" in services["evm-contract"]["command"][-1]
    assert services["facilitator"]["command"] == ["facilitator"]
    assert services["facilitator"]["depends_on"]["evm-token"] == {
        "condition": "service_completed_successfully"
    }
    assert "facilitator" in services["api"]["depends_on"]
