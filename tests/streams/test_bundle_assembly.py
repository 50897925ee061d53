"""Assembling a bundle whose item cannot be read ends with the plan dropped, never hangs.

The bundle reader on its thread sees the bundle cut short (it takes the end mark that
``finish`` sends); it used to wait for a second end mark and ``finish`` waited for it,
so the prepare agent held its message for good (a stall with nothing to restart).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundlestream.adapters.filesystem import FilesystemObjectStore
from bundlestream.core.ans104.parser import parse_data_item
from bundlestream.core.ans104.signing import Ed25519Signer, sign_data_item
from bundlestream.schemas.events import BundlePlanned, PlannedItem
from bundlestream.settings import Settings
from bundlestream.streams.bundle_assembly import UnpreparablePlan, assemble
from bundlestream.wiring import received_item_reader


def planned(raw: bytes, key: str) -> PlannedItem:
    item = parse_data_item(raw)
    return PlannedItem(
        data_item_id=item.id,
        owner_address="owner",
        raw_size=len(raw),
        payload_start=len(raw) - item.payload_size,
        received_partition=0,
        received_offset=0,
        object_key=key,
    )


async def test_an_item_gone_mid_bundle_drops_the_plan(tmp_path: Path) -> None:
    store = FilesystemObjectStore(tmp_path / "objects")
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    first, second = (sign_data_item(signer, bytes(10) * n) for n in (1, 2))
    await store.put("items/first", first)  # the second item's object is gone
    plan = BundlePlanned(
        plan_id="p",
        items=(planned(first, "items/first"), planned(second, "items/second")),
        planned_at=datetime.now(UTC),
    )
    reader = received_item_reader(Settings())
    try:
        # A generous bound only so that a regression fails instead of hanging the suite.
        with pytest.raises(UnpreparablePlan, match="object gone"):
            await asyncio.wait_for(assemble(store, reader, plan, "bundles/p/bundle"), 120)
    finally:
        reader.close()
    assert await store.size("bundles/p/bundle") is None
