"""Status and offsets answered from the projections, in upstream's JSON shapes.

Upstream (turbo-upload-service) maps its item tables to a status: permanent →
FINALIZED, failed → FAILED (with ``reason``), anything else (new, pending) →
CONFIRMED, and echoes the table as ``info``; our ``planned`` is upstream's ``pending``.
A projection that is down or behind answers None, and the routes fall back to the
fresh-receipt view.
"""

import logging

from bundlestream.adapters.projection_queries import (
    ItemOffsets,
    ItemStatus,
    ProjectionQueries,
    ProjectionsUnavailable,
)

log = logging.getLogger(__name__)

_STATUS = {"new": "CONFIRMED", "planned": "CONFIRMED", "permanent": "FINALIZED", "failed": "FAILED"}
_INFO = {"new": "new", "planned": "pending", "permanent": "permanent", "failed": "failed"}


def payload_facts(size: int, start: int, content_type: str | None) -> dict[str, object]:
    return {
        "rawContentLength": size,
        "payloadDataStart": start,
        "payloadContentType": content_type,
        "payloadContentLength": size - start,
    }


def status_json(item: ItemStatus) -> dict[str, object]:
    body: dict[str, object] = {
        "status": _STATUS[item.state],
        "bundleId": item.bundle_id,
        "info": _INFO[item.state],
        "winc": item.winc,
        **payload_facts(item.byte_count, item.payload_start, item.content_type),
    }
    if item.state == "failed":
        body["reason"] = item.failed_reason
    return body


def offsets_json(offsets: ItemOffsets) -> dict[str, object]:
    body: dict[str, object] = {
        "rootBundleId": offsets.root_bundle_id,
        "startOffsetInRootBundle": offsets.start_offset_in_root_bundle,
        **payload_facts(
            offsets.raw_content_length,
            offsets.payload_data_start,
            offsets.payload_content_type,
        ),
    }
    if offsets.parent_data_item_id is not None:
        body["parentDataItemId"] = offsets.parent_data_item_id
        body["startOffsetInParentDataItemPayload"] = offsets.start_offset_in_parent_payload
    return body


async def projected_status(
    queries: ProjectionQueries | None, item_id: str
) -> dict[str, object] | None:
    """The status body from the projections, or None (not projected yet, or unavailable)."""
    try:
        item = None if queries is None else await queries.item_status(item_id)
    except ProjectionsUnavailable as exc:
        log.warning("status of %s from the fresh view only: %s", item_id, exc)
        return None
    return None if item is None else status_json(item)


async def projected_offsets(
    queries: ProjectionQueries | None, item_id: str
) -> dict[str, object] | None:
    """The offsets body from the projections (the item's facts before it has a bundle)."""
    if queries is None:
        return None
    try:
        offsets = await queries.item_offsets(item_id)
        item = None if offsets is not None else await queries.item_status(item_id)
    except ProjectionsUnavailable as exc:
        log.warning("offsets of %s from the fresh view only: %s", item_id, exc)
        return None
    if offsets is not None:
        return offsets_json(offsets)
    return (
        None
        if item is None
        else payload_facts(item.byte_count, item.payload_start, item.content_type)
    )
