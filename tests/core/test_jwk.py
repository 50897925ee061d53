"""Arweave wallet keys: JWK round trips, owner/address, signatures."""

import hashlib
import json
from functools import cache

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bundlestream.core.encoding import b64url_decode, b64url_encode
from bundlestream.core.jwk import (
    ArweaveKey,
    InvalidKeyError,
    arweave_key_from_jwk,
    jwk_from_private_key,
    verify_arweave_signature,
)
from tests.conftest import FIXTURES


@cache
def wallet() -> ArweaveKey:
    return arweave_key_from_jwk(jwk_from_private_key(rsa.generate_private_key(65537, 2048)))


def test_jwk_has_every_wallet_field_and_survives_json() -> None:
    jwk = wallet().jwk
    assert set(jwk) == {"kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"}
    assert jwk["e"] == "AQAB"
    assert arweave_key_from_jwk(json.loads(json.dumps(jwk))) == wallet()


def test_owner_and_address() -> None:
    key = wallet()
    assert key.owner == key.jwk["n"]
    assert len(key.owner_bytes) == 256
    assert key.address == b64url_encode(hashlib.sha256(b64url_decode(key.jwk["n"])).digest())


def test_known_owner_address() -> None:
    # stub1115ByteDataItem's owner (bytes 514..1026) has the address its README states.
    raw = (FIXTURES / "stub1115ByteDataItem").read_bytes()
    digest = hashlib.sha256(raw[514:1026]).digest()
    assert b64url_encode(digest) == "J40R1BgFSI1_7p25QW49T7P46BePJJnlDrsFGY1YWbM"


@pytest.mark.parametrize("salt_length", [None, 0, 32])
def test_signatures_verify_whatever_the_salt(salt_length: int | None) -> None:
    key = wallet()
    signature = key.sign(b"message", salt_length=salt_length)
    assert len(signature) == 256
    assert verify_arweave_signature(key.owner_bytes, b"message", signature)
    assert not verify_arweave_signature(key.owner_bytes, b"messagf", signature)
    other_owner = key.owner_bytes[:-1] + bytes([key.owner_bytes[-1] ^ 0x02])
    assert not verify_arweave_signature(other_owner, b"message", signature)


def test_garbage_signatures_and_owners_are_invalid_not_errors() -> None:
    owner = wallet().owner_bytes
    assert not verify_arweave_signature(owner, b"m", b"")
    assert not verify_arweave_signature(owner, b"m", b"\xff" * 300)
    assert not verify_arweave_signature(b"", b"m", b"\x01" * 256)


def test_bad_jwks_are_rejected() -> None:
    good = wallet().jwk
    with pytest.raises(InvalidKeyError):
        arweave_key_from_jwk({**good, "kty": "EC"})
    with pytest.raises(InvalidKeyError):
        arweave_key_from_jwk({k: v for k, v in good.items() if k != "d"})
    with pytest.raises(InvalidKeyError):
        arweave_key_from_jwk({**good, "p": good["q"]})
    with pytest.raises(InvalidKeyError):
        arweave_key_from_jwk({**good, "n": "!!"})
