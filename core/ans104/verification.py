"""Signature verification for every ANS-104 signature type.

Each verifier takes (owner, signature, deep hash) and answers True or False; malformed
keys or signatures answer False, never raise.
"""

from collections.abc import Callable

import coincurve
from coincurve.ecdsa import cdata_to_der, deserialize_compact
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from nacl.bindings import crypto_sign_open
from nacl.exceptions import CryptoError

from bundlestream.core.ans104.ethereum import (
    address_of_public_key,
    parse_hex_address,
    typed_data_digest,
)
from bundlestream.core.ans104.signature_types import SignatureType
from bundlestream.core.ans104.signed_message import (
    aptos_message,
    ethereum_message_hash,
    solana_message,
)

Verifier = Callable[[bytes, bytes, bytes], bool]

# Arweave wallets are RSA keys with the fixed public exponent 65537; the owner field is
# the 512-byte big-endian modulus.
_ARWEAVE_EXPONENT = 65537
# arweave-js signs RSA-PSS/SHA-256 with the maximum salt (node) or 32 bytes (webcrypto);
# the salt length is recovered from the signature, as arweave-js verification does.
_ARWEAVE_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)


def verify_arweave(owner: bytes, signature: bytes, message: bytes) -> bool:
    """RSA-PSS with SHA-256 over the deep hash, key = (owner modulus, 65537)."""
    try:
        numbers = rsa.RSAPublicNumbers(_ARWEAVE_EXPONENT, int.from_bytes(owner, "big"))
        numbers.public_key().verify(signature, message, _ARWEAVE_PSS, hashes.SHA256())
    except (ValueError, CryptoInvalidSignature):
        return False
    return True


def verify_ed25519(owner: bytes, signature: bytes, message: bytes) -> bool:
    """Plain Ed25519 (RFC 8032) of ``message`` under the 32-byte public key ``owner``.

    libsodium (PyNaCl) verifies about twice as fast as OpenSSL here; it takes the
    signature and message as one "signed message".
    """
    try:
        crypto_sign_open(signature + message, owner)
    except (CryptoError, ValueError, TypeError):
        return False
    return True


def verify_solana(owner: bytes, signature: bytes, message: bytes) -> bool:
    """Ed25519 over the hex text of the deep hash (type 4)."""
    return verify_ed25519(owner, signature, solana_message(message))


def verify_injected_aptos(owner: bytes, signature: bytes, message: bytes) -> bool:
    """Ed25519 over the Aptos signMessage envelope of the deep hash (type 5)."""
    return verify_ed25519(owner, signature, aptos_message(message))


def _multi_aptos_signers(bitmap: bytes) -> list[int]:
    # The bitmap is read from the most significant bit of its first byte: bit i is
    # (bitmap[i // 8] >> (7 - i % 8)) & 1, as arbundles' MultiSignatureAptosSigner.
    return [i for i in range(32) if bitmap[i // 8] & (0x80 >> (i % 8))]


def verify_multi_aptos(owner: bytes, signature: bytes, message: bytes) -> bool:
    """Type 6: every signature the bitmap selects verifies, and there are ≥ threshold of them.

    Owner = 32 keys of 32 bytes (zero-padded) + a 1-byte threshold; signature = 32 slots
    of 64 bytes + a 4-byte bitmap. arbundles checks only the selected signatures; we also
    require at least one and at least ``threshold``, or an empty bitmap would verify.
    """
    signers = _multi_aptos_signers(signature[-4:])
    if not signers or len(signers) < owner[-1]:
        return False
    return all(
        verify_ed25519(owner[i * 32 : i * 32 + 32], signature[i * 64 : i * 64 + 64], message)
        for i in signers
    )


def verify_ethereum(owner: bytes, signature: bytes, message: bytes) -> bool:
    """Type 3: secp256k1 ECDSA (r, s; v ignored) of the EIP-191 hash, key = owner."""
    try:
        der = cdata_to_der(deserialize_compact(signature[:64]))
        key = coincurve.PublicKey(owner)
        return bool(key.verify(der, ethereum_message_hash(message), hasher=None))
    except (ValueError, TypeError):
        return False


def _recovery_id(v: int) -> int | None:
    # Ethereum signatures carry v as 27/28; 0/1 are accepted as ethers does.
    return {0: 0, 1: 1, 27: 0, 28: 1}.get(v)


def verify_typed_ethereum(owner: bytes, signature: bytes, message: bytes) -> bool:
    """Type 7: the EIP-712 signer recovered from the signature is the owner address."""
    address, recovery_id = parse_hex_address(owner), _recovery_id(signature[64])
    if address is None or recovery_id is None:
        return False
    digest = typed_data_digest(message, address)
    try:
        key = coincurve.PublicKey.from_signature_and_message(
            signature[:64] + bytes([recovery_id]), digest, hasher=None
        )
    except (ValueError, TypeError):
        return False
    return address_of_public_key(key.format(compressed=False)) == address


VERIFIERS: dict[SignatureType, Verifier] = {
    SignatureType.ARWEAVE: verify_arweave,
    SignatureType.ED25519: verify_ed25519,
    SignatureType.ETHEREUM: verify_ethereum,
    SignatureType.SOLANA: verify_solana,
    SignatureType.INJECTED_APTOS: verify_injected_aptos,
    SignatureType.MULTI_APTOS: verify_multi_aptos,
    SignatureType.TYPED_ETHEREUM: verify_typed_ethereum,
}


def verify_signature(signature_type: int, owner: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` by ``owner`` verifies over the deep hash ``message``."""
    return VERIFIERS[SignatureType(signature_type)](owner, signature, message)
