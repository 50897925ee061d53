"""arlocal is a real Arweave node simulator: asking it to mine raises the block height."""

from __future__ import annotations

import httpx


def test_arlocal_mines_a_block(gateway_url: str) -> None:
    with httpx.Client(base_url=gateway_url, timeout=10) as client:
        before = client.get("/info").json()["height"]
        assert client.get("/mine").status_code == 200
        after = client.get("/info").json()["height"]
    # The stack's miner may mine too, so the height grows by at least our one block.
    assert after >= before + 1
