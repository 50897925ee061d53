"""Signing data items with every ANS-104 signature type, as arbundles 0.11 signers do.

A signer knows its signature type and owner bytes and signs the 48-byte deep hash,
wrapping it as its type requires (see ``signed_message``). Keys are made by the caller:
key generation draws randomness, which the core never does.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import coincurve
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bundlestream.core.ans104.ethereum import address_of_public_key, typed_data_digest
from bundlestream.core.ans104.serialization import raw_tags_of, serialize_header
from bundlestream.core.ans104.signature_data import header_digests, signature_data
from bundlestream.core.ans104.signature_types import SignatureType
from bundlestream.core.ans104.signed_message import (
    aptos_message,
    ethereum_message_hash,
    solana_message,
)
from bundlestream.core.ans104.tags import Tag
from bundlestream.core.deephash import blob_digest
from bundlestream.core.jwk import ArweaveKey

_ETHEREUM_V_OFFSET = 27  # Ethereum signatures carry the recovery id as v = 27 + id


class DataItemSigner(Protocol):
    """Anything that signs data items: its type, its owner field, and ``sign(deep hash)``."""

    @property
    def signature_type(self) -> int: ...

    @property
    def owner(self) -> bytes: ...

    def sign(self, deep_hash: bytes) -> bytes: ...


def _ed25519_public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class ArweaveSigner:
    """Type 1: RSA-PSS/SHA-256 by a 4096-bit Arweave wallet; the owner is the modulus."""

    key: ArweaveKey
    signature_type: int = SignatureType.ARWEAVE

    @property
    def owner(self) -> bytes:
        return self.key.owner_bytes

    def sign(self, deep_hash: bytes) -> bytes:
        return self.key.sign(deep_hash)


@dataclass(frozen=True)
class Ed25519Signer:
    """Types 2, 4 and 5: Ed25519 of the deep hash, its hex text, or the Aptos envelope."""

    key: Ed25519PrivateKey
    signature_type: int = SignatureType.ED25519

    @property
    def owner(self) -> bytes:
        return _ed25519_public_bytes(self.key)

    def sign(self, deep_hash: bytes) -> bytes:
        if self.signature_type == SignatureType.SOLANA:
            return self.key.sign(solana_message(deep_hash))
        if self.signature_type == SignatureType.INJECTED_APTOS:
            return self.key.sign(aptos_message(deep_hash))
        return self.key.sign(deep_hash)


def _recoverable_signature(key: coincurve.PrivateKey, digest: bytes) -> bytes:
    signature = key.sign_recoverable(digest, hasher=None)
    return signature[:64] + bytes([signature[64] + _ETHEREUM_V_OFFSET])


@dataclass(frozen=True)
class EthereumSigner:
    """Type 3: secp256k1 of the EIP-191 personal message; the owner is the uncompressed key."""

    key: coincurve.PrivateKey
    signature_type: int = SignatureType.ETHEREUM

    @property
    def owner(self) -> bytes:
        return self.key.public_key.format(compressed=False)

    def sign(self, deep_hash: bytes) -> bytes:
        return _recoverable_signature(self.key, ethereum_message_hash(deep_hash))


@dataclass(frozen=True)
class TypedEthereumSigner:
    """Type 7: EIP-712 Bundlr typed data; the owner is the lower-case "0x…" address."""

    key: coincurve.PrivateKey
    signature_type: int = SignatureType.TYPED_ETHEREUM

    @property
    def address(self) -> bytes:
        return address_of_public_key(self.key.public_key.format(compressed=False))

    @property
    def owner(self) -> bytes:
        return b"0x" + self.address.hex().encode("ascii")

    def sign(self, deep_hash: bytes) -> bytes:
        return _recoverable_signature(self.key, typed_data_digest(deep_hash, self.address))


@dataclass(frozen=True)
class MultiAptosSigner:
    """Type 6: up to 32 Ed25519 keys, a threshold, and the keys at ``signing`` positions sign.

    Owner: the keys, zero-padded to 32 slots of 32 bytes, then the threshold byte.
    Signature: 32 slots of 64 bytes (filled at the signing positions), then a 4-byte
    bitmap whose bit i (most significant bit first) marks slot i.
    """

    keys: Sequence[Ed25519PrivateKey]
    threshold: int
    signing: Sequence[int]
    signature_type: int = SignatureType.MULTI_APTOS

    @property
    def owner(self) -> bytes:
        public = b"".join(_ed25519_public_bytes(key) for key in self.keys)
        return public.ljust(32 * 32, b"\0") + bytes([self.threshold])

    def sign(self, deep_hash: bytes) -> bytes:
        slots, bitmap = bytearray(64 * 32), bytearray(4)
        for index in self.signing:
            slots[index * 64 : index * 64 + 64] = self.keys[index].sign(deep_hash)
            bitmap[index // 8] |= 0x80 >> (index % 8)
        return bytes(slots + bitmap)


def sign_data_item_header(
    signer: DataItemSigner,
    payload_digest: bytes,
    *,
    tags: Sequence[Tag] = (),
    target: bytes | None = None,
    anchor: bytes | None = None,
) -> bytes:
    """The header bytes of a signed item whose payload is streamed separately.

    ``payload_digest`` is the payload's blob deep hash (``core.deephash.BlobHasher``);
    the item is these bytes followed by the payload.
    """
    signature_type, owner = signer.signature_type, signer.owner
    digests = header_digests(signature_type, owner, target, anchor, raw_tags_of(tags))
    signature = signer.sign(signature_data(digests, payload_digest))
    return serialize_header(signature_type, signature, owner, target, anchor, tags)


def sign_data_item(
    signer: DataItemSigner,
    payload: bytes,
    *,
    tags: Sequence[Tag] = (),
    target: bytes | None = None,
    anchor: bytes | None = None,
) -> bytes:
    """The bytes of a data item carrying ``payload``, signed by ``signer``."""
    header = sign_data_item_header(
        signer, blob_digest(payload), tags=tags, target=target, anchor=anchor
    )
    return header + payload
