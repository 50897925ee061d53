"""The local Redis is a real server: values round-trip and expire."""

from __future__ import annotations

import redis


def test_redis_answers(redis_url: str, unique_name: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.ping()
        client.set(unique_name, b"receipt", px=60_000)
        assert client.get(unique_name) == b"receipt"
        assert 0 < client.pttl(unique_name) <= 60_000
    finally:
        client.delete(unique_name)
        client.close()
