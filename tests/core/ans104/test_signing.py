"""Items we sign with every signature type parse back and verify; tampering is caught."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bundlestream.core.ans104 import DataItemParser, InvalidSignature, Tag, parse_data_item
from bundlestream.core.ans104.signing import DataItemSigner, MultiAptosSigner, sign_data_item
from bundlestream.core.ans104.verification import verify_multi_aptos

ALL_TYPES = [1, 2, 3, 4, 5, 6, 7]
TAGS = [Tag(b"Content-Type", b"text/plain"), Tag(b"\xff\xfe", b"not utf-8")]


@pytest.mark.parametrize("signature_type", ALL_TYPES)
def test_signed_item_round_trips(signers: dict[int, DataItemSigner], signature_type: int) -> None:
    signer = signers[signature_type]
    target, anchor = bytes(range(32)), b"a" * 32
    data = sign_data_item(signer, b"hello", tags=TAGS, target=target, anchor=anchor)
    item = parse_data_item(data)
    header = item.header
    assert (header.signature_type, header.owner) == (signature_type, signer.owner)
    assert (header.target, header.anchor, header.tags) == (target, anchor, tuple(TAGS))
    assert (item.payload_size, data[header.payload_start :]) == (5, b"hello")


@pytest.mark.parametrize("signature_type", ALL_TYPES)
def test_a_flipped_payload_bit_fails(
    signers: dict[int, DataItemSigner], signature_type: int
) -> None:
    data = bytearray(sign_data_item(signers[signature_type], b"hello"))
    data[-1] ^= 0x01
    with pytest.raises(InvalidSignature):
        parse_data_item(bytes(data))


@pytest.mark.parametrize("signature_type", ALL_TYPES)
def test_a_signature_by_another_type_fails(
    signers: dict[int, DataItemSigner], signature_type: int
) -> None:
    # Types 2, 4 and 5 share key and lengths: re-labelling the type must break the item.
    data = bytearray(sign_data_item(signers[signature_type], b"hello"))
    if signature_type in (2, 4, 5):
        data[0] = {2: 4, 4: 5, 5: 2}[signature_type]
    else:
        data[10] ^= 0x01  # a signature byte
    with pytest.raises(InvalidSignature):
        parse_data_item(bytes(data))


def test_native_addresses(signers: dict[int, DataItemSigner]) -> None:
    headers = {t: parse_data_item(sign_data_item(signers[t], b"")).header for t in ALL_TYPES}
    assert headers[3].native_address == headers[7].native_address
    assert headers[3].native_address.startswith("0x") and len(headers[3].native_address) == 42
    assert headers[7].owner == headers[7].native_address.lower().encode()
    assert headers[2].native_address == headers[4].native_address  # base58 of the same key
    assert headers[1].native_address == headers[1].owner_address


def test_multi_aptos_needs_the_threshold_and_at_least_one_signature(
    signers: dict[int, DataItemSigner],
) -> None:
    full = signers[6]
    assert isinstance(full, MultiAptosSigner)
    message = b"m" * 48
    one = MultiAptosSigner(full.keys, threshold=2, signing=[1])
    none = MultiAptosSigner(full.keys, threshold=0, signing=[])
    assert verify_multi_aptos(full.owner, full.sign(message), message)
    assert not verify_multi_aptos(one.owner, one.sign(message), message)
    assert not verify_multi_aptos(none.owner, none.sign(message), message)


@settings(max_examples=25, deadline=None)
@given(
    payload=st.binary(max_size=2000),
    tags=st.lists(st.builds(Tag, st.binary(max_size=20), st.binary(max_size=40)), max_size=8),
    signature_type=st.sampled_from([2, 3]),
)
def test_ed25519_and_ethereum_items_round_trip(
    signers: dict[int, DataItemSigner], payload: bytes, tags: list[Tag], signature_type: int
) -> None:
    item = parse_data_item(sign_data_item(signers[signature_type], payload, tags=tags))
    assert (item.header.tags, item.payload_size) == (tuple(tags), len(payload))


@pytest.mark.parametrize(
    ("signature_type", "bad_owner"),
    [
        (3, b"\x04" + b"\x01" * 64),  # not a point on secp256k1
        (7, b"0x" + b"zz" * 20),  # not a hex address
        (7, b"0x" + b"00" * 20),  # a valid address that did not sign
        (1, b"\x00" * 512),  # a zero modulus
        (2, b"\x00" * 32),  # a small-order Ed25519 point
    ],
)
def test_an_unusable_owner_is_an_invalid_signature(
    signers: dict[int, DataItemSigner], signature_type: int, bad_owner: bytes
) -> None:
    data = bytearray(sign_data_item(signers[signature_type], b"hello"))
    start = 2 + {1: 512, 2: 64, 3: 65, 7: 65}[signature_type]
    data[start : start + len(bad_owner)] = bad_owner
    with pytest.raises(InvalidSignature):
        parse_data_item(bytes(data))


@settings(max_examples=30, deadline=None)
@given(
    payload=st.binary(max_size=3000),
    tags=st.lists(st.builds(Tag, st.binary(max_size=30), st.binary(max_size=60)), max_size=10),
    target=st.none() | st.binary(min_size=32, max_size=32),
    anchor=st.none() | st.binary(min_size=32, max_size=32),
    signature_type=st.sampled_from(ALL_TYPES),
    data=st.data(),
)
def test_any_chunking_gives_the_same_item(
    signers: dict[int, DataItemSigner],
    payload: bytes,
    tags: list[Tag],
    target: bytes | None,
    anchor: bytes | None,
    signature_type: int,
    data: st.DataObject,
) -> None:
    raw = sign_data_item(signers[signature_type], payload, tags=tags, target=target, anchor=anchor)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=40)))
    parser = DataItemParser(len(raw))
    for start, end in zip([0, *cuts], [*cuts, len(raw)], strict=True):
        parser.feed(raw[start:end])
    assert parser.finish() == parse_data_item(raw)
