"""Cleanup that must neither be cut short nor mask the outcome being reported."""

import asyncio
import logging
from collections.abc import Awaitable

log = logging.getLogger(__name__)


async def quietly(step: Awaitable[object]) -> None:
    """Run a best-effort cleanup ``step`` (abort a writer, delete a part, unlock).

    Shielded: cleanups run from ``except``/``finally`` blocks, often because the request
    or task is being cancelled, and a cancelled cleanup would leave a multipart upload
    open or a finalize lock held until its TTL. Its failure is logged, never raised: the
    outcome already decided is what the caller must report. Cancellation of the caller
    still propagates (the step runs on).
    """
    try:
        await asyncio.shield(step)
    except Exception as exc:
        log.warning("cleanup step failed: %s", exc)
