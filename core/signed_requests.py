"""Signed requests of the payment API: who sent ``x-signature`` over ``x-nonce``.

Upstream's scheme (PAYMENTS.md §1, "sig"): the client signs the nonce string alone with
its wallet and sends ``x-signature`` and ``x-public-key`` (base64url) with ``x-nonce``
and ``x-signature-type`` (1 Arweave, the default; 2 ED25519; 3 Ethereum; 4 Solana). The
signature is verified as a data item's would be over those bytes (each type's own
message envelope: EIP-191 for Ethereum, the hex text for Solana), so a wallet that signs
data items signs requests the same way; the address is the signer's native address.
"""

from collections.abc import Mapping

from bundlestream.core.ans104.addresses import native_address
from bundlestream.core.ans104.verification import verify_signature
from bundlestream.core.encoding import b64url_decode

# The signature types upstream's payment service accepts on signed requests.
REQUEST_SIGNATURE_TYPES = frozenset({1, 2, 3, 4})


def signer_address(headers: Mapping[str, str]) -> str | None:
    """The native address of the request's signer, or None when the request is not
    signed, or not validly (missing header, unknown type, bad encoding or signature)."""
    nonce, signature = headers.get("x-nonce"), headers.get("x-signature")
    public_key = headers.get("x-public-key")
    type_text = headers.get("x-signature-type") or "1"
    if not (nonce and signature and public_key) or not type_text.isdigit():
        return None
    signature_type = int(type_text)
    if signature_type not in REQUEST_SIGNATURE_TYPES:
        return None
    try:
        owner, raw_signature = b64url_decode(public_key), b64url_decode(signature)
    except ValueError:
        return None
    if not verify_signature(signature_type, owner, raw_signature, nonce.encode()):
        return None
    return native_address(signature_type, owner)
