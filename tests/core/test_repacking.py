"""A dropped bundle's items go back to planning, one event per owner, until an item has
failed in ``max_bundles`` bundles: then it fails for good, once."""

from collections import Counter
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bundlestream.core.repacking import repack
from bundlestream.schemas.events import (
    BundleDropped,
    BundlePlanned,
    DataItemFailed,
    DataItemsRepacked,
    PlannedItem,
)
from tests.deterministic import DETERMINISTIC

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
DROPPED = BundleDropped(plan_id="p0-fast-3-x", reason="not mined", dropped_at=NOW, bundle_id="B")


def item(name: str, owner: str, failed: int = 0) -> PlannedItem:
    return PlannedItem(
        data_item_id=name,
        owner_address=owner,
        raw_size=100,
        payload_start=80,
        received_partition=0,
        received_offset=ord(name[0]),
        failed_bundles=failed,
    )


def plan(*items: PlannedItem) -> BundlePlanned:
    return BundlePlanned(
        plan_id="p0-fast-3-x", items=items, planned_at=NOW, premium_feature_type="fast"
    )


def test_items_go_back_to_planning_one_event_per_owner_in_plan_order() -> None:
    events = repack(plan(item("a", "A"), item("b", "B"), item("c", "A")), DROPPED, 3, NOW)
    assert events == [
        DataItemsRepacked(
            owner_address="A",
            plan_id="p0-fast-3-x",
            items=(item("a", "A", 1), item("c", "A", 1)),
            repacked_at=NOW,
            bundle_id="B",
            premium_feature_type="fast",
        ),
        DataItemsRepacked(
            owner_address="B",
            plan_id="p0-fast-3-x",
            items=(item("b", "B", 1),),
            repacked_at=NOW,
            bundle_id="B",
            premium_feature_type="fast",
        ),
    ]


def test_an_item_fails_for_good_in_its_max_bundles_th_bundle() -> None:
    assert [type(e) for e in repack(plan(item("a", "A", 1)), DROPPED, 3, NOW)] == [
        DataItemsRepacked
    ]
    assert repack(plan(item("a", "A", 2)), DROPPED, 3, NOW) == [
        DataItemFailed(
            data_item_id="a",
            owner_address="A",
            reason="failed in 3 bundles; last: not mined",
            failed_bundles=3,
            failed_at=NOW,
            last_plan_id="p0-fast-3-x",
        )
    ]


def test_failed_items_come_first_and_leave_their_owners_other_items_to_repack() -> None:
    events = repack(plan(item("a", "A"), item("b", "A", 9)), DROPPED, 10, NOW)
    assert [type(e) for e in events] == [DataItemFailed, DataItemsRepacked]
    assert isinstance(events[1], DataItemsRepacked)
    assert events[1].items == (item("a", "A", 1),)


def test_an_empty_plan_gives_nothing() -> None:
    assert repack(plan(), DROPPED, 10, NOW) == []


plans_st = st.lists(st.tuples(st.sampled_from("ABC"), st.integers(0, 12)), max_size=30).map(
    lambda rows: plan(*(item(f"{n:02d}", owner, f) for n, (owner, f) in enumerate(rows)))
)


@DETERMINISTIC
@given(plans_st, st.integers(1, 12))
def test_a_repack_never_places_an_item_twice_and_loses_none(
    planned: BundlePlanned, max_bundles: int
) -> None:
    events = repack(planned, DROPPED, max_bundles, NOW)
    repacked = [i for e in events if isinstance(e, DataItemsRepacked) for i in e.items]
    failed = [e.data_item_id for e in events if isinstance(e, DataItemFailed)]
    seen = Counter([i.data_item_id for i in repacked] + failed)
    assert seen == Counter(i.data_item_id for i in planned.items)
    assert all(count == 1 for count in seen.values())


@DETERMINISTIC
@given(plans_st, st.integers(1, 12))
def test_each_item_counts_one_more_failed_bundle_and_fails_at_the_limit(
    planned: BundlePlanned, max_bundles: int
) -> None:
    before = {i.data_item_id: i for i in planned.items}
    for event in repack(planned, DROPPED, max_bundles, NOW):
        if isinstance(event, DataItemFailed):
            assert event.failed_bundles == before[event.data_item_id].failed_bundles + 1
            assert event.failed_bundles >= max_bundles
            continue
        assert len({i.owner_address for i in event.items}) == 1
        assert [i.data_item_id for i in event.items] == sorted(i.data_item_id for i in event.items)
        for moved in event.items:
            assert moved.failed_bundles == before[moved.data_item_id].failed_bundles + 1
            assert moved.failed_bundles < max_bundles
