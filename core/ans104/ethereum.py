"""The Ethereum conventions ANS-104 signature types 3 and 7 rely on.

keccak-256, addresses (last 20 bytes of keccak-256 of the 64-byte public key, EIP-55
mixed-case checksum), EIP-191 personal-sign message hashing and the EIP-712 typed-data
digest that arbundles' TypedEthereumSigner signs.
"""

from Crypto.Hash import keccak

# EIP-712 types of arbundles' TypedEthereumSigner: domain {name: "Bundlr", version: "1"}
# and the primary type Bundlr{bytes "Transaction hash"; address address}. The type
# string joins "type name" pairs with commas, exactly as the field names are spelled.
_DOMAIN_TYPE = b"EIP712Domain(string name,string version)"
_BUNDLR_TYPE = b"Bundlr(bytes Transaction hash,address address)"
_DOMAIN_NAME = b"Bundlr"
_DOMAIN_VERSION = b"1"


def keccak256(data: bytes) -> bytes:
    """The 32-byte keccak-256 digest (Ethereum's hash, not NIST SHA3-256)."""
    return keccak.new(digest_bits=256, data=data).digest()


def address_of_public_key(uncompressed_key: bytes) -> bytes:
    """The 20-byte address of a 65-byte uncompressed (0x04-prefixed) secp256k1 key."""
    return keccak256(uncompressed_key[1:])[-20:]


def checksum_address(address: bytes) -> str:
    """EIP-55: hex address with letters upper-cased where the hash of the hex nibble is ≥ 8."""
    hex_address = address.hex()
    nibbles = keccak256(hex_address.encode("ascii")).hex()[: len(hex_address)]
    cased = (c.upper() if int(n, 16) >= 8 else c for c, n in zip(hex_address, nibbles, strict=True))
    return "0x" + "".join(cased)


def parse_hex_address(text: bytes) -> bytes | None:
    """The 20 bytes of a "0x" + 40 hex digit address (any case), or None if it is not one."""
    if len(text) != 42 or text[:2] not in (b"0x", b"0X"):
        return None
    try:
        return bytes.fromhex(text[2:].decode("ascii"))
    except ValueError:
        return None


def personal_message_hash(message: bytes) -> bytes:
    """EIP-191 version 0x45: keccak256("\\x19Ethereum Signed Message:\\n" + len + message)."""
    prefix = b"\x19Ethereum Signed Message:\n" + str(len(message)).encode("ascii")
    return keccak256(prefix + message)


def _domain_separator() -> bytes:
    return keccak256(keccak256(_DOMAIN_TYPE) + keccak256(_DOMAIN_NAME) + keccak256(_DOMAIN_VERSION))


def typed_data_digest(message: bytes, address: bytes) -> bytes:
    """EIP-712 digest of Bundlr{"Transaction hash": message, address} in the Bundlr domain.

    ``bytes`` members are encoded as their keccak-256, ``address`` left-padded to 32 bytes.
    """
    struct_hash = keccak256(keccak256(_BUNDLR_TYPE) + keccak256(message) + address.rjust(32, b"\0"))
    return keccak256(b"\x19\x01" + _domain_separator() + struct_hash)
