"""Optical headers built from the upstream conformance vectors (facts in the fixtures'
README), from the header bytes alone, and signed as gateways verify them."""

import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bundlestream.core.ans104.errors import DataItemParseError
from bundlestream.core.ans104.parser import parse_data_item
from bundlestream.core.encoding import b64url_decode, b64url_encode
from bundlestream.core.jwk import (
    arweave_key_from_jwk,
    jwk_from_private_key,
    verify_arweave_signature,
)
from bundlestream.core.optical import (
    RecentIds,
    optical_body,
    optical_message,
    parse_item_header,
    signed_header,
    unsigned_header,
)
from tests.conftest import FIXTURES

AT = datetime(2026, 11, 29, 5, 0, 0, 123000, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def header_of(name: str) -> dict[str, object]:
    raw = fixture(name)
    start = parse_data_item(raw).header.payload_start
    return unsigned_header(parse_item_header(raw[:start]), len(raw) - start, AT)


def test_an_arweave_item_header_from_its_header_bytes_alone() -> None:
    header = header_of("stub1115ByteDataItem")
    assert header["id"] == "QpmY8mZmFEC8RxNsgbxSV6e36OF6quIYaPRKzvUco0o"
    assert header["owner_address"] == "J40R1BgFSI1_7p25QW49T7P46BePJJnlDrsFGY1YWbM"
    assert header["data_size"] == 5
    assert header["content_type"] == "text/plain"
    assert header["target"] == ""
    assert header["uploaded_at"] == 1795928400123
    assert [(b64url_decode(t["name"]), b64url_decode(t["value"])) for t in header["tags"]] == [  # type: ignore[attr-defined]
        (b"Content-Type", b"text/plain"),
        (b"App-Name", b"ArDrive-CLI"),
        (b"App-Version", b"1.21.0"),
    ]
    owner = b64url_decode(str(header["owner"]))
    assert len(owner) == 512  # RSA-4096 modulus
    assert len(b64url_decode(str(header["signature"]))) == 512


def test_target_and_other_signature_types() -> None:
    solana = header_of("stubSolanaDataItem")
    assert solana["id"] == "35jbLhCGEfXLWe2H3VZr2i7f610kwP8Nkw-bFfx14-E"
    assert solana["owner_address"] == "VrRCYEai_2IveGr0lCiivqLGqenh4wpBnfZNgL-FtWY"
    assert solana["target"] == "1234567890123456789012345678901234567890abc"
    ethereum = header_of("stubEthereumDataItem")
    assert ethereum["owner_address"] == "xsi06LVwuRe2SaNFo0Yc1UtF3GSyi-GtzUtTkjLXrEw"
    assert len(b64url_decode(str(ethereum["owner"]))) == 65


def test_no_content_type_tag_means_octet_stream_and_empty_tags_survive() -> None:
    assert header_of("zeroBytePayloadDataItem")["content_type"] == "application/octet-stream"
    assert header_of("zeroBytePayloadDataItem")["data_size"] == 0
    empty = header_of("stubDataItemWithEmptyStringsForTagNamesAndValues")
    assert len(empty["tags"]) == 127  # type: ignore[arg-type]
    assert all(t == {"name": "", "value": ""} for t in empty["tags"])  # type: ignore[attr-defined]


def test_a_near_limit_header_and_a_truncated_one() -> None:
    raw = fixture("420KiBStubDataItem")
    assert parse_item_header(raw[:5111]).payload_start == 5111
    with pytest.raises(DataItemParseError):
        parse_item_header(raw[:5110])


def test_the_bundler_signature_verifies_against_the_posted_public_key() -> None:
    key = arweave_key_from_jwk(
        jwk_from_private_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    )
    raw = fixture("stub1115ByteDataItem")
    header = parse_item_header(raw[:1110])
    signed = signed_header(key, header, 5, AT)
    assert {k: v for k, v in signed.items() if k != "bundlr_signature"} == unsigned_header(
        header, 5, AT
    )
    message = optical_message("QpmY8mZmFEC8RxNsgbxSV6e36OF6quIYaPRKzvUco0o")
    signature = b64url_decode(signed["bundlr_signature"])
    assert verify_arweave_signature(key.owner_bytes, message, signature)
    assert not verify_arweave_signature(key.owner_bytes, optical_message("other"), signature)


def test_the_body_is_one_json_array() -> None:
    headers = [header_of("stub1115ByteDataItem"), header_of("stubEthereumDataItem")]
    body = json.loads(optical_body(headers))
    assert [h["id"] for h in body] == [headers[0]["id"], headers[1]["id"]]
    assert body[0]["tags"][0] == {"name": b64url_encode(b"Content-Type"), "value": "dGV4dC9wbGFpbg"}


def test_recent_ids_forget_the_oldest_beyond_capacity() -> None:
    recent = RecentIds(2)
    for item_id in ("a", "b", "a", "c"):
        recent.add(item_id)
    assert "a" in recent and "c" in recent and "b" not in recent
    assert len(recent) == 2
