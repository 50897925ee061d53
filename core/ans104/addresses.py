"""The addresses a data item owner is known by.

The *owner address* is base64url(SHA-256(owner bytes)) for every signature type: the
normalized address upstream bundlers store and return in receipts. The *native address*
is what the owner's own chain calls it, as upstream's ``ownerToNativeAddress`` does:
base58 of the key for ed25519 and solana, the EIP-55 address for ethereum, the owner
field itself (an address string) for typedEthereum, and the normalized address for the
rest (arweave, whose address is exactly that, and the aptos types).
"""

import hashlib

import base58

from bundlestream.core.ans104.ethereum import (
    address_of_public_key,
    checksum_address,
    parse_hex_address,
)
from bundlestream.core.ans104.signature_types import SignatureType
from bundlestream.core.encoding import b64url_encode


def owner_address(owner: bytes) -> str:
    """base64url(SHA-256(owner)): the Arweave wallet address for an RSA modulus."""
    return b64url_encode(hashlib.sha256(owner).digest())


def _typed_ethereum_address(owner: bytes) -> str:
    address = parse_hex_address(owner)
    if address is None:
        return owner.decode("ascii", errors="replace")
    return checksum_address(address)


def native_address(signature_type: int, owner: bytes) -> str:
    """The owner's address in its own chain's notation (see the module docstring)."""
    if signature_type in (SignatureType.ED25519, SignatureType.SOLANA):
        return base58.b58encode(owner).decode("ascii")
    if signature_type == SignatureType.ETHEREUM:
        return checksum_address(address_of_public_key(owner))
    if signature_type == SignatureType.TYPED_ETHEREUM:
        return _typed_ethereum_address(owner)
    return owner_address(owner)


def normalised_address(address: str) -> str:
    """An EVM hex address (any case) in its EIP-55 form, as balances are kept; any other
    address as given."""
    parsed = parse_hex_address(address.encode("utf-8", errors="replace"))
    return address if parsed is None else checksum_address(parsed)
