"""Run one of the end-to-end Node scripts (tests/node/*.cjs) that print a JSON line per
step, with the stack's node_modules; fails, with the script's output, unless it exits 0."""

import asyncio
import json
import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO / "stack" / "node" / "node_modules"


async def run_steps(script: Path, *args: str) -> dict[str, dict[str, Any]]:
    """``{step: line}`` of the JSON lines ``node script args...`` printed."""
    assert (NODE_MODULES / "@ardrive" / "turbo-sdk").is_dir(), "run make up (installs npm deps)"
    process = await asyncio.create_subprocess_exec(
        "node",
        str(script),
        *args,
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, (out.decode() + err.decode())[-4000:]
    lines = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    return {line["step"]: line for line in lines}
