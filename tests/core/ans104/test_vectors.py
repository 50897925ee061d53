"""Every conformance vector in ../shared/fixtures/ans104 gives what its README states."""

from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bundlestream.core.ans104 import (
    DataItem,
    DataItemParser,
    InvalidSignature,
    Tag,
    parse_data_item,
)
from bundlestream.core.encoding import b64url_encode

OWNER_J40 = "J40R1BgFSI1_7p25QW49T7P46BePJJnlDrsFGY1YWbM"
OWNER_JAXL = "jaxl_dxqJ00gEgQazGASFXVRvO4h-Q0_vnaLtuOUoWU"
OWNER_BDI = "9ODOd-_ZT9oWoRMVmmD4G5f9Z6MjvYxO3Nen-T5OXvU"
TEXT_TAGS = (
    Tag(b"Content-Type", b"text/plain"),
    Tag(b"App-Name", b"ArDrive-CLI"),
    Tag(b"App-Version", b"1.21.0"),
)
BDI_TAGS = (
    Tag(b"Bundle-Format", b"binary"),
    Tag(b"Bundle-Version", b"2.0.0"),
    Tag(b"Content-Type", b"application/octet-stream"),
)


@dataclass(frozen=True)
class Vector:
    file: str
    size: int
    signature_type: int
    id: str
    owner: str
    tag_count: int
    payload_start: int
    payload_size: int
    tags: tuple[Tag, ...] | None = None


VECTORS = [
    Vector(
        "stub1115ByteDataItem",
        1115,
        1,
        "QpmY8mZmFEC8RxNsgbxSV6e36OF6quIYaPRKzvUco0o",
        OWNER_J40,
        3,
        1110,
        5,
        TEXT_TAGS,
    ),
    Vector(
        "stubSolanaDataItem",
        211,
        2,
        "35jbLhCGEfXLWe2H3VZr2i7f610kwP8Nkw-bFfx14-E",
        "VrRCYEai_2IveGr0lCiivqLGqenh4wpBnfZNgL-FtWY",
        1,
        206,
        5,
        (Tag(b"Content-Type", b"text/plain"),),
    ),
    Vector(
        "stubEthereumDataItem",
        245,
        3,
        "7j-sF0lsslGVZ8lhEGXe5CtueB4iRYM3_oZ9m4GY_40",
        "xsi06LVwuRe2SaNFo0Yc1UtF3GSyi-GtzUtTkjLXrEw",
        1,
        240,
        5,
        (Tag(b"Content-Type", b"text/plain"),),
    ),
    Vector(
        "anotherStubDataItem",
        1464,
        1,
        "PPqimlPSz890fAufmEs7XnpReEq_o70FvJvz-Leiw1A",
        OWNER_J40,
        9,
        1309,
        155,
    ),
    Vector(
        "stubDataItemFromNonAllowListedWallet",
        1464,
        1,
        "4fQZvrmOiRCRIvm_DdtN-EokUKz9DVuFRi1ajtjDMOI",
        OWNER_JAXL,
        9,
        1309,
        155,
    ),
    Vector(
        "stubDataItemWithEmptyStringsForTagNamesAndValues",
        2325,
        1,
        "hSIHAdxTDUpW9oJb26nb2zhQkJn3yNBtTakMOwJuXC0",
        OWNER_JAXL,
        127,
        1301,
        1024,
        (Tag(b"", b""),) * 127,
    ),
    Vector(
        "zeroBytePayloadDataItem",
        1064,
        1,
        "Bl4U2crG6JTNNfJIs3CBzGvljYoKkIvwx8NRBdlV1vw",
        "r1arec2OJlU2lrkkbqU3G6-mNHEmgQjIq9E3ZZQUtTo",
        2,
        1064,
        0,
        (Tag(b"best", b"tag"), Tag(b"test", b"bag")),
    ),
    Vector(
        "integrationStubDataItem0",
        1469,
        1,
        "xxvKexf6Izzpw5M2C_D72PDqoagm-y3G7mLntU24gZ4",
        OWNER_J40,
        9,
        1309,
        160,
    ),
    Vector(
        "integrationStubDataItem1",
        263258,
        1,
        "FlBcECSi-ZuQFHNg9R5-DdOY9dKFZkREw6dVuw10j4E",
        OWNER_J40,
        3,
        1110,
        262148,
    ),
    Vector(
        "integrationStubDataItem2",
        1464,
        1,
        "k9ehYJ8RsDpqZCruB-moZtK0hCxnEpVHfLblepIWgjk",
        OWNER_J40,
        9,
        1309,
        155,
    ),
    Vector(
        "integrationStubDataItem3",
        1115,
        1,
        "SmyiKu327Q17wlXq6ZjeJPldShuOEQ13YEHf4oZGnSc",
        OWNER_J40,
        3,
        1110,
        5,
        TEXT_TAGS,
    ),
    Vector(
        "1ChunkStubDataItem",
        263258,
        1,
        "DWV_gF-eGhe1Z5cvEdHB_6WW2bvmwePF9cqPWhvk-7E",
        OWNER_JAXL,
        3,
        1110,
        262148,
    ),
    Vector(
        "420KiBStubDataItem",
        435191,
        1,
        "rjKVFyLM-uYYeyzt0jjLNfWmQyv-_S0CsKlasF8CATM",
        "1KzC-BAGgAttTwjSiktuCwWRjKQzfPqIrzhw2GNZ7Yw",
        127,
        5111,
        430080,
        (Tag(b"aaaaaaaaaaaaaaa", b"bbbbbbbbbbbbbbb"),) * 127,
    ),
    Vector(
        "505KiBStubDataItem",
        518176,
        1,
        "hwXVTN_bEw0qBVk6Rc_7_HdhJbmxysY8mzIICjW7fTo",
        "o-1BsgWZ-pY-0GC-w7b441ybCplzwCKf8AgT4TsJPH0",
        1,
        1056,
        517120,
        (Tag(b"test", b"test"),),
    ),
    Vector(
        "bdiDataItem",
        7427,
        1,
        "EWMpMP0DvN6sgn5ZtJ3emd47eMF8fsfpXGS5him5vJQ",
        OWNER_BDI,
        3,
        1126,
        6301,
        BDI_TAGS,
    ),
    Vector(
        "bdiDataItemWithTwoNestedItems",
        13696,
        1,
        "3yKDnHSQIkvQ5SIm5AEDE7gimJljuKhB2UdrVwY60Jc",
        OWNER_BDI,
        3,
        1126,
        12570,
        BDI_TAGS,
    ),
]
SMALL_VECTORS = [vector for vector in VECTORS if vector.size < 20_000]


def check(item: DataItem, vector: Vector) -> None:
    header = item.header
    assert (header.id, header.owner_address) == (vector.id, vector.owner)
    assert header.signature_type == vector.signature_type
    assert (len(header.tags), header.payload_start) == (vector.tag_count, vector.payload_start)
    assert (item.payload_size, item.size) == (vector.payload_size, vector.size)
    if vector.tags is not None:
        assert header.tags == vector.tags


def feed_in_pieces(data: bytes, cuts: list[int]) -> DataItem:
    parser = DataItemParser(len(data))
    start = 0
    for cut in sorted(set(cuts)):
        parser.feed(data[start:cut])
        start = cut
    parser.feed(data[start:])
    return parser.finish()


@pytest.mark.parametrize("vector", VECTORS, ids=lambda vector: vector.file)
def test_vector_parses_and_verifies_whole(fixtures: Path, vector: Vector) -> None:
    check(parse_data_item((fixtures / vector.file).read_bytes()), vector)


@pytest.mark.parametrize("vector", SMALL_VECTORS, ids=lambda vector: vector.file)
def test_vector_parses_one_byte_at_a_time(fixtures: Path, vector: Vector) -> None:
    data = (fixtures / vector.file).read_bytes()
    check(feed_in_pieces(data, list(range(len(data)))), vector)


@settings(max_examples=40, deadline=None)
@given(vector=st.sampled_from(VECTORS), data=st.data())
def test_vector_parses_in_random_chunks(
    fixtures: Path, vector: Vector, data: st.DataObject
) -> None:
    raw = (fixtures / vector.file).read_bytes()
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=30))
    check(feed_in_pieces(raw, cuts), vector)


@pytest.mark.parametrize("file", ["stubSolanaDataItem", "stubEthereumDataItem"])
def test_target_and_anchor_of_the_turbo_vectors(fixtures: Path, file: str) -> None:
    header = parse_data_item((fixtures / file).read_bytes()).header
    assert header.target is not None
    assert b64url_encode(header.target) == "1234567890123456789012345678901234567890abc"
    assert header.anchor == b"abcdefghijklmnopqrstuvwxyz123456"
    assert header.tag("Content-Type") == "text/plain"
    assert header.tag("content-type") is None


def test_native_addresses_of_the_turbo_vectors(fixtures: Path) -> None:
    ethereum = parse_data_item((fixtures / "stubEthereumDataItem").read_bytes()).header
    assert ethereum.native_address.lower() == "0xa2355a969ce55c70c76e4c76e6d6a5e63a4d63c3"
    assert ethereum.native_address == "0xA2355A969Ce55C70C76E4c76E6D6a5E63A4d63C3"  # EIP-55
    arweave = parse_data_item((fixtures / "stub1115ByteDataItem").read_bytes()).header
    assert arweave.native_address == OWNER_J40


def test_payload_bytes_are_handed_on_as_they_stream(fixtures: Path) -> None:
    data = (fixtures / "stub1115ByteDataItem").read_bytes()
    received: list[bytes] = []
    parser = DataItemParser(len(data), on_payload=lambda piece: received.append(bytes(piece)))
    for start in range(0, len(data), 7):
        parser.feed(data[start : start + 7])
    parser.finish()
    assert b"".join(received) == b"5670\n"


def test_header_is_available_before_the_payload_ends(fixtures: Path) -> None:
    data = (fixtures / "integrationStubDataItem1").read_bytes()
    parser = DataItemParser(len(data))
    parser.feed(data[:1110])
    assert parser.header is not None
    assert parser.header.id == "FlBcECSi-ZuQFHNg9R5-DdOY9dKFZkREw6dVuw10j4E"
    parser.feed(data[1110:])
    assert parser.received == len(data)
    assert parser.finish().payload_size == 262148


@pytest.mark.parametrize("pieces", [1, 13, 1115])
def test_invalid_vector_is_rejected_with_invalid_signature(fixtures: Path, pieces: int) -> None:
    data = (fixtures / "stubInvalidDataItem").read_bytes()
    parser = DataItemParser(len(data))
    for start in range(0, len(data), pieces):
        parser.feed(data[start : start + pieces])
    assert parser.header is not None
    assert parser.header.id == "7k5uy7r1kNW6Yts4syoliHhiTGdCFMC_XI56bn2MzPE"
    assert parser.header.owner_address == OWNER_J40
    with pytest.raises(InvalidSignature) as caught:
        parser.finish()
    assert caught.value.rule == "signature"


def test_invalid_vector_parses_when_not_verifying(fixtures: Path) -> None:
    data = (fixtures / "stubInvalidDataItem").read_bytes()
    item = parse_data_item(data, verify=False)
    assert (item.header.payload_start, item.payload_size) == (1110, 5)


def test_a_bundle_file_is_not_a_valid_data_item(fixtures: Path) -> None:
    # The README: read as a data item, the ar-io bundle looks like sig type 2 and fails.
    data = (fixtures / "ar-io-bundler" / "bdiDataItem").read_bytes()
    with pytest.raises(InvalidSignature):
        parse_data_item(data)
