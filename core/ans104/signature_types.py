"""ANS-104 signature types: the number on the wire and the byte lengths it fixes.

ANS-104 "Signature types": the 2-byte type selects the signature and owner lengths.
Lengths follow arbundles 0.11 ``SIG_CONFIG``, the reference every client signs with.
"""

from dataclasses import dataclass
from enum import IntEnum


class SignatureType(IntEnum):
    """The signature schemes a data item may be signed with."""

    ARWEAVE = 1
    ED25519 = 2
    ETHEREUM = 3
    SOLANA = 4
    INJECTED_APTOS = 5
    MULTI_APTOS = 6
    TYPED_ETHEREUM = 7


@dataclass(frozen=True)
class SignatureLayout:
    """How many bytes the signature and the owner field take for one signature type."""

    signature_length: int
    owner_length: int
    name: str


# MULTI_APTOS: up to 32 ed25519 signatures of 64 bytes + a 4-byte bitmap, and up to
# 32 public keys of 32 bytes + a 1-byte threshold. TYPED_ETHEREUM's owner is the
# 42-character "0x…" address in ASCII, not a public key.
SIGNATURE_LAYOUTS: dict[SignatureType, SignatureLayout] = {
    SignatureType.ARWEAVE: SignatureLayout(512, 512, "arweave"),
    SignatureType.ED25519: SignatureLayout(64, 32, "ed25519"),
    SignatureType.ETHEREUM: SignatureLayout(65, 65, "ethereum"),
    SignatureType.SOLANA: SignatureLayout(64, 32, "solana"),
    SignatureType.INJECTED_APTOS: SignatureLayout(64, 32, "injectedAptos"),
    SignatureType.MULTI_APTOS: SignatureLayout(64 * 32 + 4, 32 * 32 + 1, "multiAptos"),
    SignatureType.TYPED_ETHEREUM: SignatureLayout(65, 42, "typedEthereum"),
}


def layout_of(signature_type: int) -> SignatureLayout | None:
    """The layout of a known signature type, or None for a number ANS-104 does not define."""
    if signature_type not in SignatureType._value2member_map_:
        return None
    return SIGNATURE_LAYOUTS[SignatureType(signature_type)]
