"""What becomes of the items of a dropped bundle: back to planning, or failed for good."""

from collections import defaultdict
from dataclasses import replace
from datetime import datetime

from bundlestream.schemas.events import (
    BundleDropped,
    BundlePlanned,
    DataItemFailed,
    DataItemsRepacked,
    PlannedItem,
)


def repack(
    plan: BundlePlanned, dropped: BundleDropped, max_bundles: int, now: datetime
) -> list[DataItemsRepacked | DataItemFailed]:
    """One DataItemsRepacked per owner for items that may try again, one DataItemFailed
    for each item that has now failed in ``max_bundles`` bundles (upstream: 10)."""
    again: dict[str, list[PlannedItem]] = defaultdict(list)
    out: list[DataItemsRepacked | DataItemFailed] = []
    for item in plan.items:
        failed = replace(item, failed_bundles=item.failed_bundles + 1)
        if failed.failed_bundles >= max_bundles:
            out.append(_failed(failed, plan, dropped, now))
        else:
            again[item.owner_address].append(failed)
    out += [
        DataItemsRepacked(
            owner_address=owner,
            plan_id=plan.plan_id,
            items=tuple(items),
            repacked_at=now,
            bundle_id=dropped.bundle_id,
            premium_feature_type=plan.premium_feature_type,
        )
        for owner, items in again.items()
    ]
    return out


def _failed(
    item: PlannedItem, plan: BundlePlanned, dropped: BundleDropped, now: datetime
) -> DataItemFailed:
    return DataItemFailed(
        data_item_id=item.data_item_id,
        owner_address=item.owner_address,
        reason=f"failed in {item.failed_bundles} bundles; last: {dropped.reason}",
        failed_bundles=item.failed_bundles,
        failed_at=now,
        last_plan_id=plan.plan_id,
    )
