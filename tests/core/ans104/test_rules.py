"""Each ANS-104 rule, broken on purpose, gives the error that names it, as early as it can."""

import pytest

from bundlestream.core.ans104 import (
    DataItemParseError,
    DataItemParser,
    DataItemTooLarge,
    InvalidSignature,
    Tag,
    parse_data_item,
)
from bundlestream.core.ans104.signing import DataItemSigner, sign_data_item
from bundlestream.core.ans104.tags import decode_tags, encode_tags

# An ed25519 item header: type(2) sig(64) owner(32), so the target presence byte is at 98.
TARGET_AT = 2 + 64 + 32


def ed25519_item(signers: dict[int, DataItemSigner], **options: object) -> bytes:
    return sign_data_item(signers[2], b"payload", **options)  # type: ignore[arg-type]


def rule_broken_by(data: bytes | bytearray) -> str:
    with pytest.raises(DataItemParseError) as caught:
        parse_data_item(bytes(data))
    return caught.value.rule


def header_with_tag_sizes(tag_count: int, tag_bytes: int) -> bytes:
    """An ed25519 header up to and including its tag sizes, no tags yet."""
    prefix = (2).to_bytes(2, "little") + bytes(64 + 32) + b"\x00\x00"
    return prefix + tag_count.to_bytes(8, "little") + tag_bytes.to_bytes(8, "little")


@pytest.mark.parametrize("signature_type", [0, 8, 9, 0xFFFF])
def test_unknown_signature_type_fails_after_two_bytes(signature_type: int) -> None:
    parser = DataItemParser(10_000)
    parser.feed(signature_type.to_bytes(2, "little")[:1])
    with pytest.raises(DataItemParseError) as caught:
        parser.feed(signature_type.to_bytes(2, "little")[1:])
    assert caught.value.rule == "signature-type"


@pytest.mark.parametrize("flag", [2, 0x80, 0xFF])
def test_target_presence_must_be_0_or_1(signers: dict[int, DataItemSigner], flag: int) -> None:
    data = bytearray(ed25519_item(signers))
    data[TARGET_AT] = flag
    parser = DataItemParser(len(data))
    with pytest.raises(DataItemParseError) as caught:
        parser.feed(data[: TARGET_AT + 1])  # fails on the presence byte itself
    assert caught.value.rule == "target-presence"


def test_anchor_presence_must_be_0_or_1(signers: dict[int, DataItemSigner]) -> None:
    data = bytearray(ed25519_item(signers, target=bytes(range(32))))
    data[TARGET_AT + 33] = 7
    assert rule_broken_by(data) == "anchor-presence"


def test_more_than_128_tags_fails_before_the_tags_are_read() -> None:
    parser = DataItemParser(100_000)
    with pytest.raises(DataItemParseError) as caught:
        parser.feed(header_with_tag_sizes(129, 10))
    assert caught.value.rule == "tag-count"


def test_more_than_4096_tag_bytes_fails_before_the_tags_are_read() -> None:
    parser = DataItemParser(100_000)
    with pytest.raises(DataItemParseError) as caught:
        parser.feed(header_with_tag_sizes(1, 4097))
    assert caught.value.rule == "tag-bytes"


def test_the_limits_themselves_are_allowed(signers: dict[int, DataItemSigner]) -> None:
    for tag in (Tag(b"n" * 1024, b"v" * 3000), Tag(b"n" * 1000, b"v" * 3072)):
        item = parse_data_item(ed25519_item(signers, tags=[tag]))
        assert item.header.tags == (tag,)
    many = [Tag(b"", b"")] * 128
    assert len(parse_data_item(ed25519_item(signers, tags=many)).header.tags) == 128


def forged_tags(raw_tags: bytes, count: int) -> bytes:
    """An ed25519 item whose tag section is ``raw_tags`` (signature left zero)."""
    return header_with_tag_sizes(count, 0)[:-16] + (
        count.to_bytes(8, "little") + len(raw_tags).to_bytes(8, "little") + raw_tags
    )


def test_tag_name_over_1024_bytes() -> None:
    raw = encode_tags([Tag(b"n" * 1025, b"v")])
    assert rule_broken_by(forged_tags(raw, 1)) == "tag-name-size"


def test_tag_value_over_3072_bytes_is_caught_from_its_length() -> None:
    # Only the length prefix is present: the limit is checked before the bytes are read.
    raw = b"\x02\x02n" + b"\x82\x30"  # one tag, name "n", value length 3073
    assert rule_broken_by(forged_tags(raw, 1)) == "tag-value-size"


def test_declared_count_must_match_the_decoded_tags() -> None:
    raw = encode_tags([Tag(b"a", b"b"), Tag(b"c", b"d")])
    assert rule_broken_by(forged_tags(raw, 3)) == "tag-count-mismatch"
    assert rule_broken_by(forged_tags(raw, 1)) == "tag-count-mismatch"
    assert rule_broken_by(forged_tags(b"", 1)) == "tag-count-mismatch"


@pytest.mark.parametrize(
    "raw",
    [
        b"\x02\x02a",  # value missing
        b"\x02\x02a\x02b",  # array terminator missing
        b"\x02\x02a\x02b\x00\x00",  # bytes after the array
        b"\x02\x03a\x02b\x00",  # negative string length
        b"\x02" + b"\xff" * 11,  # varint longer than 10 bytes
    ],
)
def test_malformed_avro_is_a_tag_encoding_error(raw: bytes) -> None:
    assert rule_broken_by(forged_tags(raw, 1)) == "tag-encoding"


def test_avro_blocks_and_negative_block_counts_decode() -> None:
    # Two blocks: count 1; then count -1 with a block byte size (4), then the terminator.
    raw = b"\x02\x02a\x02b" + b"\x01\x08\x02c\x02d" + b"\x00"
    assert decode_tags(raw, 2) == (Tag(b"a", b"b"), Tag(b"c", b"d"))


def test_truncated_item_fails_at_finish(signers: dict[int, DataItemSigner]) -> None:
    data = ed25519_item(signers)
    parser = DataItemParser(len(data))
    parser.feed(data[:TARGET_AT])
    with pytest.raises(DataItemParseError) as caught:
        parser.finish()
    assert caught.value.rule == "truncated"


def test_empty_input_is_truncated() -> None:
    assert rule_broken_by(b"") == "truncated"


def test_max_item_size_fails_as_soon_as_it_is_exceeded(signers: dict[int, DataItemSigner]) -> None:
    data = ed25519_item(signers)
    parser = DataItemParser(len(data) - 1)
    parser.feed(data[:-1])
    with pytest.raises(DataItemTooLarge) as caught:
        parser.feed(data[-1:])
    assert caught.value.rule == "max-item-size"
    assert parse_data_item(data, max_item_size=len(data)).size == len(data)


def test_errors_are_sticky(signers: dict[int, DataItemSigner]) -> None:
    parser = DataItemParser(10)
    with pytest.raises(DataItemTooLarge):
        parser.feed(ed25519_item(signers))
    with pytest.raises(DataItemTooLarge):
        parser.feed(b"x")
    with pytest.raises(DataItemTooLarge):
        parser.finish()


def test_tampered_payload_fails_verification(signers: dict[int, DataItemSigner]) -> None:
    data = bytearray(ed25519_item(signers))
    data[-1] ^= 1
    with pytest.raises(InvalidSignature):
        parse_data_item(bytes(data))
