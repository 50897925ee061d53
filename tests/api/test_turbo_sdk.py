"""End to end with the real npm @ardrive/turbo-sdk: a pre-signed item, a 1 MiB file it
signs itself and a 100 MiB file through its chunked path; every receipt verifies with
our verify function and with arweave-js, and every receipted item has its event."""

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bundlestream.core.receipts import verify_receipt

pytestmark = [pytest.mark.stack, pytest.mark.node]

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / "stack" / "node" / "node_modules"
SCRIPT = REPO / "tests" / "node" / "turbo_e2e.cjs"


async def run_turbo_sdk(url: str, big_mib: int) -> list[dict[str, Any]]:
    assert (NODE_MODULES / "@ardrive" / "turbo-sdk").is_dir(), "run make up (installs npm deps)"
    process = await asyncio.create_subprocess_exec(
        "node",
        str(SCRIPT),
        url,
        str(big_mib),
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()[-4000:]
    return [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]


async def test_turbo_sdk_uploads_and_gets_verifiable_receipts(
    make_api: Callable[..., Any],
) -> None:
    async with make_api(api__free_upload_limit_bytes=1 << 40) as api:
        results = await run_turbo_sdk(api.url, 100)
        events = {event.data_item_id: event for event in api.events()}
    assert [r["case"] for r in results] == ["pre-signed", "signed-1MiB", "chunked-100MiB"]
    for result in results:
        receipt = result["receipt"]
        assert result["arweaveJsValid"] is True
        assert verify_receipt(receipt), result["case"]
        assert receipt["id"] in events, result["case"]
    sizes = [events[r["receipt"]["id"]].payload_size for r in results]
    assert sizes == [1024, 1024 * 1024, 100 * 1024 * 1024]
