"""Read model of item offsets: where each item (nested ones too) lies in its root bundle."""

from bundlestream.projections.records import EventRecord
from bundlestream.projections.rows import Evolve, Position, Row
from bundlestream.projections.tables import ITEM_OFFSETS


def offsets_recorded(event: EventRecord, at: Position) -> list[Row]:
    """One row per item of the event; a bundle's offsets may span several events."""
    f = event.fields
    return [
        (
            ITEM_OFFSETS,
            ITEM_OFFSETS.row(
                root_bundle_id=f["root_bundle_id"],
                data_item_id=item["data_item_id"],
                plan_id=f["plan_id"],
                start_offset_in_root_bundle=item["start_offset_in_root_bundle"],
                raw_content_length=item["raw_content_length"],
                payload_data_start=item["payload_data_start"],
                payload_content_type=item["payload_content_type"],
                parent_data_item_id=item["parent_data_item_id"],
                start_offset_in_parent_payload=item["start_offset_in_parent_payload"],
                recorded_at=f["recorded_at"],
            ),
        )
        for item in f["items"]
    ]


EVOLVERS: dict[str, Evolve] = {"OffsetsRecorded": offsets_recorded}
