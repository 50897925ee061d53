"""ANS-104 bundles: the README's offsets, nested bundles, and the streaming writer."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from bundlestream.core.ans104 import BundleError, parse_data_item
from bundlestream.core.ans104.bundle_header import BundleEntry, encode_bundle_header
from bundlestream.core.ans104.bundle_reader import (
    BundledItem,
    ReadOptions,
    read_bundle,
    read_nested_bundle,
)
from bundlestream.core.ans104.bundle_writer import (
    BundleItemSource,
    bundle_bytes,
    item_source_from_bytes,
    write_bundle,
)
from bundlestream.core.ans104.signing import DataItemSigner, sign_data_item
from bundlestream.core.ans104.tags import Tag

BDI = "EWMpMP0DvN6sgn5ZtJ3emd47eMF8fsfpXGS5him5vJQ"
BDI2 = "3yKDnHSQIkvQ5SIm5AEDE7gimJljuKhB2UdrVwY60Jc"
NESTED_TAGS = [Tag(b"Bundle-Format", b"binary"), Tag(b"Bundle-Version", b"2.0.0")]


def offsets(items: list[BundledItem]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for bundled in items:
        assert bundled.valid and bundled.item is not None, bundled.error
        place = bundled.placement
        rows.append(
            (
                bundled.item.id,
                place.offset,
                bundled.entry.size,
                bundled.item.header.payload_start,
                place.parent_id,
                place.offset_in_parent_payload,
            )
        )
    return rows


def pieces_of(data: bytes, size: int) -> Iterator[bytes]:
    return (data[start : start + size] for start in range(0, len(data), size))


@pytest.mark.parametrize("piece_size", [1, 97, 1 << 20])
def test_bdi_alone_in_a_bundle_has_the_readme_offsets(fixtures: Path, piece_size: int) -> None:
    bundle = bundle_bytes([(fixtures / "bdiDataItem").read_bytes()])
    assert offsets(list(read_bundle(pieces_of(bundle, piece_size)))) == [
        (BDI, 96, 7427, 1126, None, None),
        ("e11DV0VmlAZtRFphzlphDBcP6XP4oHVyHuZFeQP9KF0", 1318, 6205, 1085, BDI, 96),
    ]


@pytest.mark.parametrize("piece_size", [1, 500, 1 << 20])
def test_bdi_with_two_nested_items_has_the_readme_offsets(fixtures: Path, piece_size: int) -> None:
    bundle = bundle_bytes([(fixtures / "bdiDataItemWithTwoNestedItems").read_bytes()])
    assert offsets(list(read_bundle(pieces_of(bundle, piece_size)))) == [
        (BDI2, 96, 13696, 1126, None, None),
        ("FMI1l58Kimu1LxYfKy4ge2jPQJf9axQIGIPpjrILiXc", 1382, 6205, 1085, BDI2, 160),
        ("WF2h3SgQxxKZRdqOBbLCMkz2yLIl2DPJLgaWfhxFmng", 7587, 6205, 1085, BDI2, 6365),
    ]


def test_ar_io_bundle_file_reads_as_a_bundle(fixtures: Path) -> None:
    bundle = (fixtures / "ar-io-bundler" / "bdiDataItem").read_bytes()
    items = list(read_bundle([bundle]))
    assert [(row[0], row[1], row[2]) for row in offsets(items)] == [
        ("5SLX-Vuzy90kg2DBv8yrOCfUPF-4KB43fFv5uUwxzYc", 160, 1485),
        ("Is7dfYMRMxxJTiKyxIoJHa-zBD6S58YwhkNEzqq22ww", 1645, 53133),
    ]
    owners = {item.item.header.owner_address for item in items if item.item}
    assert owners == {"31LPFYoow2G7j-eSSsrIh8OlNaARZ84-80J-8ba68d8"}
    assert items[1].item is not None and items[1].item.payload_size == 51987
    assert items[1].item.header.tag("Content-Type") == "image/gif"


def test_our_header_equals_the_bundle_header_vector(fixtures: Path) -> None:
    item = (fixtures / "stub1115ByteDataItem").read_bytes()
    bundle = bundle_bytes([item])
    assert bundle[:96] == (fixtures / "bundleHeaderStub").read_bytes()
    assert bundle[96:] == item and len(bundle) == 1211


def test_writer_streams_header_then_the_sources_chunks_unchanged(fixtures: Path) -> None:
    items = [(fixtures / name).read_bytes() for name in ("stubSolanaDataItem", "bdiDataItem")]

    def source(item: bytes) -> BundleItemSource:
        return BundleItemSource(item_source_from_bytes(item).entry, lambda: pieces_of(item, 100))

    sources = [source(item) for item in items]
    chunks = list(write_bundle(sources))
    assert len(chunks[0]) == 32 + 2 * 64
    assert max(len(chunk) for chunk in chunks[1:]) == 100
    assert b"".join(chunks) == bundle_bytes(items)


def test_writer_refuses_a_source_of_the_wrong_size(fixtures: Path) -> None:
    item = (fixtures / "stubSolanaDataItem").read_bytes()
    entry = BundleEntry(len(item) + 1, parse_data_item(item).header.raw_id)
    with pytest.raises(BundleError) as caught:
        b"".join(write_bundle([BundleItemSource(entry, lambda: [item])]))
    assert caught.value.rule == "bundle-item-size"


def test_nested_bundles_nest_recursively(signers: dict[int, DataItemSigner]) -> None:
    leaf = sign_data_item(signers[2], b"leaf")
    middle = sign_data_item(signers[3], bundle_bytes([leaf]), tags=NESTED_TAGS)
    root = sign_data_item(signers[1], bundle_bytes([middle, leaf]), tags=NESTED_TAGS)
    items = list(read_bundle(pieces_of(bundle_bytes([root]), 33)))
    ids = [parse_data_item(data).id for data in (root, middle, leaf)]
    depths = [(item.item.id if item.item else "", item.placement.depth) for item in items]
    assert depths == [(ids[0], 0), (ids[1], 1), (ids[2], 2), (ids[2], 1)]
    bundle = bundle_bytes([root])
    for item in items:  # every offset points at the item's own bytes in the root bundle
        start = item.placement.offset
        assert parse_data_item(bundle[start : start + item.entry.size]).id == item.entry.id


def test_max_depth_stops_unpacking(signers: dict[int, DataItemSigner]) -> None:
    leaf = sign_data_item(signers[2], b"leaf")
    root = sign_data_item(signers[2], bundle_bytes([leaf]), tags=NESTED_TAGS)
    items = list(read_bundle([bundle_bytes([root])], ReadOptions(max_depth=0)))
    assert len(items) == 1 and items[0].valid


def test_an_invalid_item_is_reported_and_reading_goes_on(
    fixtures: Path, signers: dict[int, DataItemSigner]
) -> None:
    good = sign_data_item(signers[2], b"good")
    bad = (fixtures / "stubInvalidDataItem").read_bytes()
    bundle = bundle_bytes([bad, good], verify=False)
    items = list(read_bundle([bundle]))
    assert [item.valid for item in items] == [False, True]
    assert items[0].error is not None and items[0].error.rule == "signature"


def test_an_id_the_header_does_not_list_is_an_item_error(
    signers: dict[int, DataItemSigner],
) -> None:
    item = sign_data_item(signers[2], b"x")
    bundle = encode_bundle_header([BundleEntry(len(item), bytes(32))]) + item
    [read] = list(read_bundle([bundle]))
    assert read.error is not None and read.error.rule == "bundle-item-id"


def test_a_truncated_bundle_is_a_bundle_error(fixtures: Path) -> None:
    bundle = bundle_bytes([(fixtures / "bdiDataItemWithTwoNestedItems").read_bytes()])
    for cut in (10, 100, 2000, len(bundle) - 1):
        with pytest.raises(BundleError) as caught:
            list(read_bundle([bundle[:cut]]))
        assert caught.value.rule == "bundle-truncated"


def test_a_nested_bundle_that_is_not_one_is_reported_on_its_parent(
    signers: dict[int, DataItemSigner],
) -> None:
    liar = sign_data_item(signers[2], b"\x05" + bytes(40), tags=NESTED_TAGS)
    [read] = list(read_bundle([bundle_bytes([liar])]))
    assert read.valid and read.nested_error is not None
    assert read.nested_error.rule == "bundle-truncated"


def test_item_count_limit(signers: dict[int, DataItemSigner]) -> None:
    item = sign_data_item(signers[2], b"x")
    with pytest.raises(BundleError) as caught:
        list(read_bundle([bundle_bytes([item, item])], ReadOptions(max_items=1)))
    assert caught.value.rule == "bundle-item-count"


def test_read_nested_bundle_counts_offsets_within_the_item(fixtures: Path) -> None:
    data = (fixtures / "bdiDataItemWithTwoNestedItems").read_bytes()
    header = parse_data_item(data).header
    payload = pieces_of(data[header.payload_start :], 1000)
    rows = [
        (item.entry.id, item.placement.offset, item.placement.offset_in_parent_payload)
        for item in read_nested_bundle(header, payload)
    ]
    assert rows == [
        ("FMI1l58Kimu1LxYfKy4ge2jPQJf9axQIGIPpjrILiXc", 1126 + 160, 160),
        ("WF2h3SgQxxKZRdqOBbLCMkz2yLIl2DPJLgaWfhxFmng", 1126 + 6365, 6365),
    ]
