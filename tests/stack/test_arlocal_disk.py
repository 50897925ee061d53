"""The stack's arlocal keeps posted bundles on disk, not in the node process.

Each test runs an arlocal of its own (the stack's launcher, on a port and in a stack
directory of its own), so its memory is that of a fresh process whatever the shared
stack has stored. A bundle of 64 MiB is posted as the post and seed stages do (POST /tx,
then every chunk), mined, and its items read back.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bundlestream.settings import Settings
from bundlestream.stack.arlocal import Arlocal
from bundlestream.stack.process import wait_until
from tests.bounds import CONDITION_S, GATEWAY_REQUEST_S
from tests.ports import PORT_ATTEMPTS, child_ports, port_taken
from tests.stack.test_arlocal_bundles import posted_bundle

MiB = 1024 * 1024
PAYLOAD = 32 * MiB  # per item; the bundle holds two


def started(arlocal: Arlocal) -> bool:
    arlocal.start()
    return wait_until(lambda: arlocal.is_ready() or arlocal.process.pid() is None, CONDITION_S)


@pytest.fixture
def own_arlocal(settings: Settings, tmp_path: Path) -> Iterator[Arlocal]:
    """An arlocal of our own, started again on another port when its port was taken."""
    for attempt in range(PORT_ATTEMPTS):
        arlocal = Arlocal(
            settings.updated(
                stack__dir=tmp_path / f"stack-{attempt}",
                arweave__gateway_url=f"http://127.0.0.1:{child_ports(1)[0]}",
            )
        )
        arlocal.install()
        if started(arlocal) and arlocal.is_ready():
            try:
                yield arlocal
            finally:
                arlocal.process.stop()
            return
        log = arlocal.process.log_tail(200)
        arlocal.process.stop()
        assert port_taken(log), log
    raise AssertionError(f"every port given to arlocal was taken ({PORT_ATTEMPTS} tries)")


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of ``pid``, in bytes."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {name: int(fields[name].split()[0]) * 1024 for name in ("VmRSS", "VmHWM")}


def reset_peak(pid: int) -> None:
    """Make VmHWM the current RSS (Linux's clear_refs, value 5), so it is the peak from now."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def mine_until_mined(gateway: httpx.Client, tx_id: str) -> None:
    deadline = time.monotonic() + CONDITION_S
    while time.monotonic() < deadline:
        gateway.get("/mine").raise_for_status()
        status = gateway.get(f"/tx/{tx_id}/status")
        if status.status_code == 200 and status.json()["block_height"] >= 1:
            return
        time.sleep(1)
    raise AssertionError(f"bundle {tx_id} was never mined")


def seeded(gateway: httpx.Client, payload: bytes) -> tuple[str, str]:
    """A bundle of two items (``payload`` + 0, ``payload`` + 1), posted and seeded; (its
    first item's id, the bundle's id)."""
    item_id, tx_id, chunks = posted_bundle(gateway, payload, items=2)
    for body in chunks:
        assert gateway.post("/chunk", json=body).status_code == 200
    return item_id, tx_id


def mined_items(gateway: httpx.Client, item_id: str, tx_id: str) -> list[str]:
    """Mine until the bundle is in a block; the ids of its items."""
    mine_until_mined(gateway, tx_id)
    # This arlocal holds nothing else: every transaction but the bundle is one of its items.
    answer = gateway.post("/graphql", json={"query": "{ transactions { edges { node { id } } } }"})
    edges = answer.raise_for_status().json()["data"]["transactions"]["edges"]
    ids = [edge["node"]["id"] for edge in edges if edge["node"]["id"] != tx_id]
    assert item_id in ids and len(ids) == 2, ids
    return ids


def digests(gateway: httpx.Client, ids: list[str]) -> set[bytes]:
    return {hashlib.sha256(gateway.get(f"/{item_id}").content).digest() for item_id in ids}


def expected_digests(payload: bytes) -> set[bytes]:
    return {hashlib.sha256(payload + bytes([index])).digest() for index in range(2)}


def test_a_bundle_is_unbundled_without_a_copy_in_memory(own_arlocal: Arlocal) -> None:
    """arlocal's own mine held the bundle about four times over (its chunks' text, the
    joined bundle, each item's data as text): its peak RSS while mining grew by several
    times the bundle's size (766 MiB for 64 MiB). Unbundled from disk, it grows by less
    than twice the bundle: seeding leaves garbage of its own, collected whenever V8
    chooses (the peak is taken from the start of the mine, and on a loaded host it
    included up to 104 MiB of it for this bundle); arlocal's own mine grew by 12 times.
    """
    pid = own_arlocal.process.pid()
    assert pid is not None
    payload = os.urandom(PAYLOAD)
    url = own_arlocal.settings.arweave.gateway_url
    with httpx.Client(base_url=url, timeout=GATEWAY_REQUEST_S) as gateway:
        item_id, tx_id = seeded(gateway, payload)
        reset_peak(pid)
        before_mine = memory(pid)
        ids = mined_items(gateway, item_id, tx_id)
        after_mine = memory(pid)
        assert digests(gateway, ids) == expected_digests(payload)
    bundle_size = 2 * PAYLOAD
    growth = after_mine["VmHWM"] - before_mine["VmRSS"]
    assert growth < 2 * bundle_size, (before_mine, after_mine)
    unbundling = own_arlocal.settings.stack.dir / "arlocal" / "db" / "unbundling"
    assert list(unbundling.iterdir()) == []  # the bundle's file is gone once it is indexed


def test_stored_items_survive_a_restart(own_arlocal: Arlocal) -> None:
    payload = os.urandom(MiB)
    url = own_arlocal.settings.arweave.gateway_url
    with httpx.Client(base_url=url, timeout=GATEWAY_REQUEST_S) as gateway:
        item_id, tx_id = seeded(gateway, payload)
        ids = mined_items(gateway, item_id, tx_id)
    own_arlocal.process.stop()
    assert started(own_arlocal) and own_arlocal.is_ready(), own_arlocal.process.log_tail()
    with httpx.Client(base_url=url, timeout=GATEWAY_REQUEST_S) as gateway:
        assert gateway.get(f"/tx/{tx_id}/status").json()["block_height"] >= 1
        assert digests(gateway, ids) == expected_digests(payload)
