"""arlocal is a real Arweave node simulator: asking it to mine raises the block height."""

from __future__ import annotations

import httpx

from tests.bounds import GATEWAY_REQUEST_S


def test_arlocal_mines_a_block(gateway_url: str) -> None:
    with httpx.Client(base_url=gateway_url, timeout=GATEWAY_REQUEST_S) as client:
        before = client.get("/info").json()["height"]
        assert client.get("/mine").status_code == 200
        after = client.get("/info").json()["height"]
    # The stack's miner may mine too, so the height grows by at least our one block.
    assert after >= before + 1


def test_concurrent_mines_each_add_a_block(gateway_url: str) -> None:
    """The stack's miner and clients mine at the same time; every request must count."""
    from concurrent.futures import ThreadPoolExecutor

    def mine(_: int) -> int:
        return httpx.get(f"{gateway_url}/mine", timeout=GATEWAY_REQUEST_S).status_code

    before = httpx.get(f"{gateway_url}/info", timeout=GATEWAY_REQUEST_S).json()["height"]
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(mine, range(4)))
    after = httpx.get(f"{gateway_url}/info", timeout=GATEWAY_REQUEST_S).json()["height"]
    assert statuses == [200] * 4
    assert after >= before + 4
