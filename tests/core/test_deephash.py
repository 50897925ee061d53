"""Deep hash against vectors computed with arweave-js 1.15.7 (``lib/deepHash``)."""

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from bundlestream.core.deephash import BlobHasher, DeepHashable, deep_hash, deep_hash_list
from tests.conftest import FIXTURES

# Computed with node: require("arweave/node/lib/deepHash").default(value), arweave 1.15.7.
ARWEAVE_JS_VECTORS: list[tuple[DeepHashable, str]] = [
    (
        b"",
        "fbf00cc444f5fea9dc3bedf62a13fba8ae87e7445fc910567a23bec4"
        "eb82fadb1143c433069314d8362983dc3c2e4a38",
    ),
    (
        b"hello",
        "33ab2407a6c328c0bc1bbe5971f49af5c1908985f83c3d2bd89a9e22"
        "1dd8b068dc61ce968ba3f9ab12d5361ba3944382",
    ),
    (
        [],
        "a69e7d37fdc7f040a9ec16aae84de24fab4a653dac4de0bd247e36ba"
        "b9fe45d9289c5a04a893c95285812f5cefc9707a",
    ),
    (
        [b"a", [b"b", b""], []],
        "03371915016163f3e34c4326be972180d31f1157d39d536614593e8a"
        "6cb0b0d274ca236b330ebed27cb9e2eafa265711",
    ),
    (
        bytes(i % 251 for i in range(300_000)),
        "a3bad81870429b7b383ea26adf6f8f6f2e30e64273ea3540a29c9e48"
        "3afcb8edea766cd6e610cfaba28522f58099b1af",
    ),
]


def test_matches_arweave_js() -> None:
    for value, expected in ARWEAVE_JS_VECTORS:
        assert deep_hash(value).hex() == expected


def _data_item_parts(raw: bytes) -> tuple[bytes, bytes, list[bytes], bytes]:
    """Split an arweave-signed (type 1) ANS-104 item: signature, owner, prefix, payload."""
    signature, owner = raw[2:514], raw[514:1026]
    pos = 1026
    target = raw[pos + 1 : pos + 33] if raw[pos] else b""
    pos += 1 + len(target)
    anchor = raw[pos + 1 : pos + 33] if raw[pos] else b""
    pos += 1 + len(anchor)
    tag_bytes = int.from_bytes(raw[pos + 8 : pos + 16], "little")
    tags = raw[pos + 16 : pos + 16 + tag_bytes]
    prefix = [b"dataitem", b"1", b"1", owner, target, anchor, tags]
    return signature, owner, prefix, raw[pos + 16 + tag_bytes :]


def _rsa_pss_valid(owner: bytes, message: bytes, signature: bytes) -> bool:
    key = rsa.RSAPublicNumbers(65537, int.from_bytes(owner, "big")).public_key()
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
    try:
        key.verify(signature, message, pss, hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def test_signed_data_item_verifies_over_our_deep_hash() -> None:
    signature, owner, prefix, payload = _data_item_parts(
        (FIXTURES / "stub1115ByteDataItem").read_bytes()
    )
    assert _rsa_pss_valid(owner, deep_hash([*prefix, payload]), signature)


def test_streamed_payload_gives_the_same_signature_message() -> None:
    raw = (FIXTURES / "420KiBStubDataItem").read_bytes()
    signature, owner, prefix, payload = _data_item_parts(raw)
    hasher = BlobHasher()
    view = memoryview(payload)
    for start in range(0, len(payload), 65_536):
        hasher.update(view[start : start + 65_536])
    message = deep_hash_list(prefix, hasher.digest())
    assert message == deep_hash([*prefix, payload])
    assert _rsa_pss_valid(owner, message, signature)


def test_tampered_item_fails() -> None:
    signature, owner, prefix, payload = _data_item_parts(
        (FIXTURES / "stubInvalidDataItem").read_bytes()
    )
    assert not _rsa_pss_valid(owner, deep_hash([*prefix, payload]), signature)


@given(st.binary(max_size=5000), st.lists(st.integers(min_value=0, max_value=5000)))
def test_blob_hasher_is_independent_of_chunking(blob: bytes, cuts: list[int]) -> None:
    hasher = BlobHasher()
    start = 0
    for cut in sorted({min(c, len(blob)) for c in cuts}):
        hasher.update(blob[start:cut])
        start = cut
    hasher.update(blob[start:])
    assert hasher.length == len(blob)
    assert hasher.digest() == deep_hash(blob)


blobs = st.binary(max_size=64)
nested = st.recursive(blobs, lambda inner: st.lists(inner, max_size=4), max_leaves=12)


@given(st.lists(nested, max_size=5), blobs)
def test_list_finished_from_a_blob_digest(prefix: list[DeepHashable], last: bytes) -> None:
    hasher = BlobHasher()
    hasher.update(last)
    assert deep_hash_list(prefix, hasher.digest()) == deep_hash([*prefix, last])


def test_distinguishes_blob_from_list_and_nesting() -> None:
    assert deep_hash(b"ab") != deep_hash([b"ab"])
    assert deep_hash([b"a", b"b"]) != deep_hash([[b"a"], b"b"])
    assert deep_hash([b"ab", b""]) != deep_hash([b"a", b"b"])


def test_text_must_be_encoded_first() -> None:
    with pytest.raises(TypeError):
        deep_hash([b"a", "b"])  # a str type-checks as a Sequence of str
