"""``bundlestream item inspect PATH`` and ``bundlestream bundle inspect PATH``.

Both stream the file through the ANS-104 core and print one JSON object; the exit
status is 0 when everything verified and 1 otherwise.
"""

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bundlestream.core.ans104 import Ans104Error, DataItemHeader, DataItemParser, Tag
from bundlestream.core.ans104.bundle_reader import (
    BundledItem,
    is_nested_bundle,
    read_bundle,
    read_nested_bundle,
)
from bundlestream.core.encoding import b64url_encode
from bundlestream.settings import Settings

_READ_SIZE = 1024 * 1024
JsonObject = dict[str, Any]


def _file_chunks(path: Path, start: int = 0) -> Iterator[bytes]:
    with path.open("rb") as file:
        file.seek(start)
        while chunk := file.read(_READ_SIZE):
            yield chunk


def _tag_json(tag: Tag) -> JsonObject:
    """Name and value as UTF-8 text when both are valid UTF-8, else both base64url."""
    try:
        return {"name": tag.name.decode(), "value": tag.value.decode(), "encoding": "utf-8"}
    except UnicodeDecodeError:
        name, value = b64url_encode(tag.name), b64url_encode(tag.value)
        return {"name": name, "value": value, "encoding": "base64url"}


def _optional_b64url(value: bytes | None) -> str | None:
    return None if value is None else b64url_encode(value)


def header_json(header: DataItemHeader) -> JsonObject:
    """The header fields of a data item as inspect prints them."""
    return {
        "id": header.id,
        "signatureType": header.signature_type,
        "owner": header.owner_address,
        "nativeAddress": header.native_address,
        "target": _optional_b64url(header.target),
        "anchor": _optional_b64url(header.anchor),
        "tags": [_tag_json(tag) for tag in header.tags],
        "payloadStart": header.payload_start,
    }


def _error_json(error: Ans104Error | None) -> JsonObject:
    if error is None:
        return {"valid": True}
    return {"valid": False, "error": str(error), "rule": error.rule}


def inspect_item(path: Path) -> JsonObject:
    """Parse and verify the data item in ``path``; the JSON report, valid or not."""
    parser = DataItemParser(path.stat().st_size)
    error: Ans104Error | None = None
    try:
        for chunk in _file_chunks(path):
            parser.feed(chunk)
        parser.finish()
    except Ans104Error as caught:
        error = caught
    header = parser.header
    fields = header_json(header) if header else {}
    payload = {"payloadSize": parser.received - header.payload_start} if header else {}
    nested = _nested_json(path, header) if header and error is None else {}
    return {**fields, **payload, **_error_json(error), **nested}


def _nested_json(path: Path, header: DataItemHeader) -> JsonObject:
    """For an item whose payload is a bundle: its items, offsets counted within the item."""
    if not is_nested_bundle(header):
        return {}
    payload = _file_chunks(path, header.payload_start)
    try:
        items = [bundled_item_json(item) for item in read_nested_bundle(header, payload)]
    except Ans104Error as error:
        return {"nestedBundleError": str(error)}
    return {"nestedItems": items}


def bundled_item_json(bundled: BundledItem) -> JsonObject:
    """One item of a bundle: its placement, header fields and validity."""
    placement, item = bundled.placement, bundled.item
    fields = header_json(item.header) if item else {"id": bundled.entry.id}
    nested = {"nestedBundleError": str(bundled.nested_error)} if bundled.nested_error else {}
    return {
        **fields,
        "offset": placement.offset,
        "size": bundled.entry.size,
        "payloadSize": item.payload_size if item else None,
        "parentId": placement.parent_id,
        "offsetInParentPayload": placement.offset_in_parent_payload,
        "depth": placement.depth,
        **_error_json(bundled.error),
        **nested,
    }


def inspect_bundle(path: Path) -> JsonObject:
    """Read the bundle in ``path`` with its nested bundles; the JSON report."""
    items: list[JsonObject] = []
    try:
        items.extend(bundled_item_json(item) for item in read_bundle(_file_chunks(path)))
    except Ans104Error as error:
        return {"items": items, **_error_json(error)}
    valid = all(item["valid"] and "nestedBundleError" not in item for item in items)
    return {"items": items, "valid": valid}


def _print_report(report: JsonObject) -> int:
    print(json.dumps(report, indent=2))
    return 0 if report["valid"] else 1


def run_item_inspect(args: argparse.Namespace, settings: Settings) -> int:
    return _print_report(inspect_item(Path(args.path)))


def run_bundle_inspect(args: argparse.Namespace, settings: Settings) -> int:
    return _print_report(inspect_bundle(Path(args.path)))


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``item inspect`` and ``bundle inspect``."""
    for noun, run, what in (
        ("item", run_item_inspect, "an ANS-104 data item file"),
        ("bundle", run_bundle_inspect, "an ANS-104 bundle file (nested bundles too)"),
    ):
        verbs = subparsers.add_parser(noun, help=f"work with {what}").add_subparsers(
            dest="verb", required=True
        )
        inspect = verbs.add_parser("inspect", help=f"parse and verify {what}; print JSON")
        inspect.add_argument("path")
        inspect.set_defaults(run=run)
