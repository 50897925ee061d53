"""Shared values for the ANS-104 tests: one signer per type (the fixture directory is
``tests/conftest.py``'s)."""

import coincurve
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundlestream.core.ans104.signing import (
    ArweaveSigner,
    DataItemSigner,
    Ed25519Signer,
    EthereumSigner,
    MultiAptosSigner,
    TypedEthereumSigner,
)
from bundlestream.core.jwk import arweave_key_from_jwk, jwk_from_private_key


@pytest.fixture(scope="session")
def signers() -> dict[int, DataItemSigner]:
    """A fresh key of every signature type (keys are test inputs, drawn at random)."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    ed = Ed25519PrivateKey.generate()
    eth = coincurve.PrivateKey()
    aptos = [Ed25519PrivateKey.generate() for _ in range(3)]
    return {
        1: ArweaveSigner(arweave_key_from_jwk(jwk_from_private_key(rsa_key))),
        2: Ed25519Signer(ed),
        3: EthereumSigner(eth),
        4: Ed25519Signer(ed, signature_type=4),
        5: Ed25519Signer(ed, signature_type=5),
        6: MultiAptosSigner(aptos, threshold=2, signing=[0, 2]),
        7: TypedEthereumSigner(eth),
    }
