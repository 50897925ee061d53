"""The watchdog's decision: one look at a worker (plain values) and the time in, the
stalls out; walked along the time axis like the stall tracker's tests."""

from bundlestream.core.liveness import PartitionView, WorkerLiveness, WorkerStalls, WorkerView

STUCK = {"a": PartitionView(committed=5, read=5, start=0, end=9, in_flight=False)}
BUSY = {"a": PartitionView(committed=5, read=5, start=0, end=9, in_flight=True)}
ANSWER = WorkerView[str](None, STUCK)
NO_ANSWER = WorkerView[str](None, None)


def liveness(timeout_s: float = 30, rebalance_timeout_s: float = 10) -> WorkerLiveness[str]:
    return WorkerLiveness[str](timeout_s, rebalance_timeout_s)


def test_a_partition_waiting_without_progress_for_the_timeout_stops_the_worker() -> None:
    watch = liveness()
    assert watch.observe(ANSWER, 0.0) == WorkerStalls[str]()
    assert watch.observe(ANSWER, 29.0) == WorkerStalls[str]()
    assert watch.observe(ANSWER, 30.0) == WorkerStalls[str]({"a": 30.0})


def test_a_partition_an_agent_holds_is_busy_however_long() -> None:
    watch = liveness()
    watch.observe(WorkerView[str](None, BUSY), 0.0)
    assert watch.observe(WorkerView[str](None, BUSY), 600.0) == WorkerStalls[str]()


def test_a_broker_silent_for_the_timeout_stops_the_worker_and_an_answer_restarts_it() -> None:
    watch = liveness()
    watch.observe(NO_ANSWER, 0.0)
    assert watch.observe(NO_ANSWER, 30.0) == WorkerStalls[str](broker_silent_s=30.0)
    watch.observe(ANSWER, 31.0)
    assert watch.observe(NO_ANSWER, 40.0) == WorkerStalls[str]()
    assert watch.observe(NO_ANSWER, 70.0) == WorkerStalls[str](broker_silent_s=30.0)


def test_no_answer_forgets_the_partitions_clocks() -> None:
    watch = liveness()
    watch.observe(ANSWER, 0.0)
    watch.observe(NO_ANSWER, 20.0)
    assert watch.observe(ANSWER, 40.0) == WorkerStalls[str]()
    assert watch.observe(ANSWER, 70.0) == WorkerStalls[str]({"a": 30.0})


def test_a_rebalance_gets_twice_the_broker_s_rebalance_timeout_when_that_is_longer() -> None:
    watch = liveness(timeout_s=30, rebalance_timeout_s=60)
    watch.observe(WorkerView[str]((3, 100)), 0.0)
    assert watch.observe(WorkerView[str]((3, 100)), 119.0) == WorkerStalls[str]()
    assert watch.observe(WorkerView[str]((3, 100)), 120.0) == WorkerStalls[str](
        rebalance_stuck_s=120.0
    )


def test_a_rebalance_that_moves_on_is_no_stall_and_forgets_the_partitions() -> None:
    watch = liveness()
    watch.observe(ANSWER, 0.0)
    watch.observe(WorkerView[str]((3, 100)), 10.0)
    assert watch.observe(WorkerView[str]((3, 40)), 40.0) == WorkerStalls[str]()
    assert watch.observe(WorkerView[str]((4, 0)), 70.0) == WorkerStalls[str]()
    assert watch.observe(ANSWER, 80.0) == WorkerStalls[str]()
    assert watch.observe(ANSWER, 109.0) == WorkerStalls[str]()
    assert watch.observe(ANSWER, 110.0) == WorkerStalls[str]({"a": 30.0})


def test_an_answer_a_rebalance_interrupted_says_nothing_but_keeps_the_clocks() -> None:
    watch = liveness()
    watch.observe(ANSWER, 0.0)
    interrupted = WorkerView[str](None, STUCK, interrupted=True)
    assert watch.observe(interrupted, 30.0) == WorkerStalls[str]()
    assert watch.observe(ANSWER, 31.0) == WorkerStalls[str]({"a": 31.0})


def test_a_rebalance_interrupted_look_forgets_the_rebalance() -> None:
    watch = liveness(timeout_s=30, rebalance_timeout_s=10)
    watch.observe(WorkerView[str]((3, 100)), 0.0)
    watch.observe(WorkerView[str](None, STUCK, interrupted=True), 20.0)
    assert watch.observe(WorkerView[str]((3, 100)), 40.0) == WorkerStalls[str]()
    assert watch.observe(WorkerView[str]((3, 100)), 70.0) == WorkerStalls[str](
        rebalance_stuck_s=30.0
    )
