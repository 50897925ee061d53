"""When a permanent bundle's local copies become due for deletion."""

from datetime import UTC, datetime, timedelta

from bundlestream.core.retention import cleanup_due_at, due_cleanups

CONFIRMED = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)


def test_due_after_the_retention_counted_from_confirmation() -> None:
    assert cleanup_due_at(CONFIRMED, 3600) == CONFIRMED + timedelta(hours=1)
    assert cleanup_due_at(CONFIRMED, 0) == CONFIRMED
    assert cleanup_due_at(CONFIRMED, -5) == CONFIRMED  # never before permanence


def test_only_the_due_ones_earliest_first() -> None:
    def entry(seconds: float) -> dict[str, str]:
        return {"due": cleanup_due_at(CONFIRMED, seconds).isoformat()}

    pending = [("late", entry(10.5)), ("now", entry(10)), ("early", entry(0.25))]
    now = CONFIRMED + timedelta(seconds=10)
    assert [plan for plan, _ in due_cleanups(pending, now)] == ["early", "now"]
    assert due_cleanups(pending, CONFIRMED) == []
