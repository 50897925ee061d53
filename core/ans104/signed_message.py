"""What each signature type actually signs, given the 48-byte deep hash.

arbundles 0.11 signers wrap the deep hash differently per type; verification and our
own signing must build the same bytes:

* arweave, ed25519, multiAptos: the deep hash itself.
* ethereum: EIP-191 personal message of the deep hash (keccak-256 of the prefixed bytes).
* solana (type 4, arbundles HexSolanaSigner): the deep hash as lower-case hex text.
* injectedAptos: ``"APTOS\\nmessage: <hex>\\nnonce: bundlr"`` (the Aptos wallet format).
* typedEthereum: the EIP-712 digest of Bundlr{"Transaction hash", address}.
"""

from bundlestream.core.ans104.ethereum import personal_message_hash


def solana_message(deep_hash: bytes) -> bytes:
    """Type 4 signs the hex text of the deep hash."""
    return deep_hash.hex().encode("ascii")


def aptos_message(deep_hash: bytes) -> bytes:
    """Type 5 signs the Aptos wallet signMessage envelope with nonce "bundlr"."""
    return b"APTOS\nmessage: " + deep_hash.hex().encode("ascii") + b"\nnonce: bundlr"


def ethereum_message_hash(deep_hash: bytes) -> bytes:
    """Type 3 signs keccak-256 of the EIP-191 personal message of the deep hash."""
    return personal_message_hash(deep_hash)
