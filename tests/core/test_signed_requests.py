"""Signed requests: the signer of a nonce for each signature type upstream accepts (1-4)."""

import coincurve
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundlestream.core.ans104.addresses import native_address
from bundlestream.core.ans104.signature_types import SignatureType
from bundlestream.core.ans104.signing import (
    ArweaveSigner,
    DataItemSigner,
    Ed25519Signer,
    EthereumSigner,
    TypedEthereumSigner,
)
from bundlestream.core.encoding import b64url_encode
from bundlestream.core.jwk import arweave_key_from_jwk, jwk_from_private_key
from bundlestream.core.signed_requests import signer_address

NONCE = "4e2f0f6c8a1b3d5e7f90a1b2c3d4e5f6"


def headers(signer: DataItemSigner, nonce: str = NONCE) -> dict[str, str]:
    """What the turbo-sdk's generateSignedRequestHeaders sends for ``signer``."""
    return {
        "x-public-key": b64url_encode(signer.owner),
        "x-nonce": nonce,
        "x-signature": b64url_encode(signer.sign(nonce.encode())),
        "x-signature-type": str(signer.signature_type),
    }


def signers() -> list[DataItemSigner]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return [
        ArweaveSigner(arweave_key_from_jwk(jwk_from_private_key(rsa_key))),
        Ed25519Signer(Ed25519PrivateKey.generate()),
        EthereumSigner(coincurve.PrivateKey()),
        Ed25519Signer(Ed25519PrivateKey.generate(), SignatureType.SOLANA),
    ]


def test_each_accepted_type_names_its_signer_by_native_address() -> None:
    for signer in signers():
        expected = native_address(signer.signature_type, signer.owner)
        assert signer_address(headers(signer)) == expected, signer.signature_type


def test_arweave_is_the_type_when_none_is_sent() -> None:
    [arweave, *_] = signers()
    untyped = {k: v for k, v in headers(arweave).items() if k != "x-signature-type"}
    assert signer_address(untyped) == native_address(1, arweave.owner)


def test_a_signature_over_another_nonce_or_key_is_no_signer() -> None:
    for signer in signers():
        signed = headers(signer)
        assert signer_address({**signed, "x-nonce": NONCE + "0"}) is None
        other = headers(Ed25519Signer(Ed25519PrivateKey.generate()))
        assert signer_address({**signed, "x-public-key": other["x-public-key"]}) is None


def test_missing_headers_bad_encodings_and_other_types_are_no_signer() -> None:
    signed = headers(Ed25519Signer(Ed25519PrivateKey.generate()))
    for name in ("x-nonce", "x-signature", "x-public-key"):
        assert signer_address({k: v for k, v in signed.items() if k != name}) is None
    assert signer_address({**signed, "x-signature": "!!"}) is None
    assert signer_address({**signed, "x-signature-type": "two"}) is None
    typed = TypedEthereumSigner(coincurve.PrivateKey())
    assert signer_address(headers(typed)) is None  # type 7: not a request signature type
