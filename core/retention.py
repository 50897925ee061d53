"""When the local copies of a permanent bundle may go: ``retention`` after permanence.

Times come from the events (``BundleConfirmed.confirmed_at``) and the caller's clock
(``now``); nothing here reads one.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any


def cleanup_due_at(confirmed_at: datetime, retention_s: float) -> datetime:
    """The first moment the copies of a bundle confirmed at ``confirmed_at`` may be deleted."""
    return confirmed_at + timedelta(seconds=max(0.0, retention_s))


def due_cleanups(
    pending: Iterable[tuple[str, Mapping[str, Any]]], now: datetime
) -> list[tuple[str, Mapping[str, Any]]]:
    """The pending cleanups (plan id, entry with an ISO ``due`` time) due at ``now``,
    earliest first."""
    timed = [(datetime.fromisoformat(entry["due"]), plan, entry) for plan, entry in pending]
    return [(plan, entry) for due, plan, entry in sorted(timed) if due <= now]
