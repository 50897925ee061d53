"""The stall tracker: waiting partitions with no progress for the timeout are stalls;
busy or caught-up partitions and any progress are not."""

from bundlestream.core.liveness import PartitionView, StallTracker, waiting_partitions


def view(
    committed: int | None, end: int, read: int | None = None, busy: bool = False
) -> PartitionView:
    return PartitionView(committed=committed, read=read, start=0, end=end, in_flight=busy)


def test_a_partition_waiting_without_progress_for_the_timeout_is_a_stall() -> None:
    tracker = StallTracker[str](timeout_s=30)
    waiting = waiting_partitions({"a": view(5, 9)})
    assert tracker.observe(100.0, waiting) == {}
    assert tracker.observe(129.0, waiting) == {}
    assert tracker.observe(130.0, waiting) == {"a": 30.0}


def test_never_committed_counts_from_the_start_of_the_log() -> None:
    assert waiting_partitions({"a": view(None, 3)}) == {"a": (None, None)}
    assert waiting_partitions({"a": PartitionView(None, None, 3, 3, False)}) == {}


def test_progress_of_the_committed_or_the_read_offset_restarts_the_clock() -> None:
    tracker = StallTracker[str](timeout_s=30)
    tracker.observe(0.0, waiting_partitions({"a": view(5, 9)}))
    assert tracker.observe(20.0, waiting_partitions({"a": view(6, 9)})) == {}
    assert tracker.observe(45.0, waiting_partitions({"a": view(6, 9, read=7)})) == {}
    assert tracker.observe(74.0, waiting_partitions({"a": view(6, 9, read=7)})) == {}
    assert tracker.observe(75.0, waiting_partitions({"a": view(6, 9, read=7)})) == {"a": 30.0}


def test_a_caught_up_or_busy_partition_is_not_waiting() -> None:
    tracker = StallTracker[str](timeout_s=30)
    views = {"caught-up": view(9, 9), "busy": view(2, 9, read=2, busy=True), "stuck": view(2, 9)}
    assert set(waiting_partitions(views)) == {"stuck"}
    tracker.observe(0.0, waiting_partitions(views))
    assert set(tracker.observe(60.0, waiting_partitions(views))) == {"stuck"}


def test_a_pause_in_waiting_restarts_the_clock_and_forget_starts_over() -> None:
    tracker = StallTracker[str](timeout_s=30)
    tracker.observe(0.0, {"a": (5, None)})
    tracker.observe(20.0, {})  # caught up or busy for a moment
    assert tracker.observe(40.0, {"a": (5, None)}) == {}
    tracker.forget()
    assert tracker.observe(69.0, {"a": (5, None)}) == {}
    assert tracker.observe(99.0, {"a": (5, None)}) == {"a": 30.0}
