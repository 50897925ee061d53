"""The planner: items join the open plan of their lane until it is full, too big or
overdue; an item too big for any bundle is a plan of its own; a replay cuts the same."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bundlestream.core.planning import (
    Cut,
    LaneState,
    OpenPlan,
    Place,
    PlanLimits,
    Step,
    plan_id,
    plan_item,
    plan_tick,
)
from tests.deterministic import DETERMINISTIC

T0 = datetime(2026, 12, 1, tzinfo=UTC)
# A bundle is a 32-byte count, one 64-byte entry per item, then the items.
HEADER, ENTRY = 32, 64
OVERDUE = timedelta(seconds=60)
LIMITS = PlanLimits(max_bytes=HEADER + 3 * (ENTRY + 100), max_items=4, overdue=OVERDUE)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def feed(sizes: list[int], limits: PlanLimits = LIMITS) -> tuple[LaneState, list[Step]]:
    state, steps = LaneState(), []
    for n, size in enumerate(sizes):
        state, new = plan_item(state, size, at(n), limits)
        steps += new
    return state, steps


def test_items_join_the_open_plan_in_upload_order() -> None:
    state, steps = feed([100, 100])
    assert steps == [Place(0, 0), Place(0, 1)]
    assert state == LaneState(next_seq=1, open=OpenPlan(0, 2, HEADER + 2 * (ENTRY + 100), at(0)))


def test_a_plan_is_cut_when_it_reaches_max_bytes_exactly() -> None:
    _, steps = feed([100, 100, 100, 100])
    assert steps == [Place(0, 0), Place(0, 1), Place(0, 2), Cut(0, 3), Place(1, 0)]


def test_a_plan_is_cut_before_an_item_that_would_not_fit() -> None:
    _, steps = feed([100, 100, 101])
    assert steps == [Place(0, 0), Place(0, 1), Cut(0, 2), Place(1, 0)]


def test_a_plan_is_cut_when_it_holds_max_items() -> None:
    _, steps = feed([1, 1, 1, 1, 1])
    assert steps == [Place(0, 0), Place(0, 1), Place(0, 2), Place(0, 3), Cut(0, 4), Place(1, 0)]


def test_an_item_too_big_for_any_bundle_is_a_plan_of_its_own_and_leaves_the_open_one() -> None:
    too_big = LIMITS.max_bytes - HEADER - ENTRY + 1
    state, steps = feed([100, too_big, 100])
    assert steps == [Place(0, 0), Place(1, 0), Cut(1, 1), Place(0, 1)]
    assert state.next_seq == 2 and state.open is not None and state.open.count == 2


def test_the_largest_item_that_fits_alone_fills_a_plan() -> None:
    largest = LIMITS.max_bytes - HEADER - ENTRY
    assert feed([largest])[1] == [Place(0, 0), Cut(0, 1)]


def test_a_tick_cuts_the_open_plan_once_its_oldest_item_is_overdue() -> None:
    state, _ = feed([100])  # accepted at T0
    for seconds in (0, 30, 59.999):
        assert plan_tick(state, at(seconds), LIMITS) == (state, [])
    assert plan_tick(state, at(60), LIMITS) == (LaneState(next_seq=1), [Cut(0, 1)])


def test_the_overdue_clock_starts_at_the_oldest_item_not_the_latest() -> None:
    state = LaneState()
    state, _ = plan_item(state, 10, at(0), LIMITS)
    state, _ = plan_item(state, 10, at(50), LIMITS)
    assert plan_tick(state, at(59), LIMITS)[1] == []
    assert plan_tick(state, at(60), LIMITS)[1] == [Cut(0, 2)]


def test_a_tick_without_an_open_plan_does_nothing() -> None:
    assert plan_tick(LaneState(next_seq=7), at(10**6), LIMITS) == (LaneState(next_seq=7), [])


def test_after_a_cut_the_next_item_opens_a_new_plan_at_its_own_time() -> None:
    state, _ = feed([100])
    state, _ = plan_tick(state, at(60), LIMITS)
    state, steps = plan_item(state, 5, at(61), LIMITS)
    assert steps == [Place(1, 0)]
    assert state.open == OpenPlan(1, 1, HEADER + ENTRY + 5, at(61))


def test_plan_id_is_the_same_for_the_same_plan_and_differs_between_deployments() -> None:
    items = ["a" * 43, "b" * 43]
    first = plan_id("app.", 3, "default", 9, items)
    assert first == plan_id("app.", 3, "default", 9, items)
    assert first.startswith("p3-default-9-")
    assert first != plan_id("other.", 3, "default", 9, items)
    assert first != plan_id("app.", 3, "default", 9, items[::-1])


limits_st = st.builds(
    PlanLimits,
    max_bytes=st.integers(HEADER + ENTRY, 4000),
    max_items=st.integers(1, 8),
    overdue=st.just(OVERDUE),
)
# An input is an item of some size, or a clock tick some seconds after the last input.
inputs_st = st.lists(
    st.one_of(st.tuples(st.just("item"), st.integers(0, 5000)), st.tuples(st.just("tick"))),
    max_size=60,
)


def run(inputs: list[tuple[object, ...]], limits: PlanLimits) -> tuple[list[Step], list[int]]:
    """Steps of the inputs, then of a final tick after everything is overdue; and the
    size of every item in input order."""
    state, steps, sizes = LaneState(), [], []
    for n, entry in enumerate(inputs):
        if entry[0] == "item":
            size = int(str(entry[1]))
            sizes.append(size)
            state, new = plan_item(state, size, at(n), limits)
        else:
            state, new = plan_tick(state, at(n), limits)
        steps += new
    state, new = plan_tick(state, at(len(inputs)) + limits.overdue, limits)
    return steps + new, sizes


def plans_of(steps: list[Step], sizes: list[int]) -> dict[int, list[int]]:
    """seq → sizes of its items, by entry index, checking indexes run 0, 1, 2 ..."""
    plans: dict[int, list[int]] = {}
    placed = iter(sizes)
    for step in steps:
        if isinstance(step, Place):
            entries = plans.setdefault(step.seq, [])
            assert step.index == len(entries)
            entries.append(next(placed))
    return plans


@DETERMINISTIC
@given(inputs_st, limits_st)
def test_every_placed_item_is_cut_exactly_once_in_one_plan(
    inputs: list[tuple[object, ...]], limits: PlanLimits
) -> None:
    steps, sizes = run(inputs, limits)
    plans = plans_of(steps, sizes)
    assert sum(len(entries) for entries in plans.values()) == len(sizes)
    cuts = [step for step in steps if isinstance(step, Cut)]
    assert sorted(cut.seq for cut in cuts) == sorted(plans)  # one cut per plan, no more
    for cut in cuts:
        assert cut.count == len(plans[cut.seq])
    cut_at = {step.seq: n for n, step in enumerate(steps) if isinstance(step, Cut)}
    for n, step in enumerate(steps):
        if isinstance(step, Place):
            assert n < cut_at[step.seq]  # nothing joins a plan after its cut


@DETERMINISTIC
@given(inputs_st, limits_st)
def test_no_plan_exceeds_its_limits_unless_one_item_alone_does(
    inputs: list[tuple[object, ...]], limits: PlanLimits
) -> None:
    steps, sizes = run(inputs, limits)
    for entries in plans_of(steps, sizes).values():
        assert len(entries) <= limits.max_items
        bundle = HEADER + ENTRY * len(entries) + sum(entries)
        assert bundle <= limits.max_bytes or len(entries) == 1


@DETERMINISTIC
@given(inputs_st, limits_st)
def test_plans_are_numbered_in_order_and_never_reused(
    inputs: list[tuple[object, ...]], limits: PlanLimits
) -> None:
    steps, _ = run(inputs, limits)
    opened = [step.seq for step in steps if isinstance(step, Place) and step.index == 0]
    assert opened == list(range(len(opened)))


@DETERMINISTIC
@given(inputs_st, limits_st)
def test_a_replay_of_the_same_inputs_gives_the_same_steps(
    inputs: list[tuple[object, ...]], limits: PlanLimits
) -> None:
    assert run(inputs, limits) == run(list(inputs), limits)
