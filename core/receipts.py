"""Upload receipts in the Turbo format, version 0.2.0.

A receipt is the service's signed promise that a data item will be posted to Arweave by
``deadlineHeight``. The signed message is the deep hash of the UTF-8 strings
``["Bundlr", version, id, str(deadlineHeight), str(timestamp)]`` (Turbo keeps the Irys
("Bundlr") receipt construction; dataCaches, fastFinalityIndexes and winc are carried
but not signed), signed RSA-PSS SHA-256 with salt length 0 by the service's Arweave key;
``public`` is the key's modulus ``n``, ``owner`` the uploader's normalised address.
"""

from collections.abc import Mapping, Sequence
from typing import TypedDict

from bundlestream.core.deephash import deep_hash
from bundlestream.core.encoding import EncodingError, b64url_decode, b64url_encode
from bundlestream.core.jwk import ArweaveKey, verify_arweave_signature

RECEIPT_VERSION = "0.2.0"

# Turbo signs receipts with a zero-length PSS salt (deterministic signatures).
RECEIPT_SALT_LENGTH = 0


class Receipt(TypedDict):
    """A signed receipt as Turbo clients read it (JSON field names, Turbo's spelling)."""

    id: str
    timestamp: int
    winc: str
    version: str
    deadlineHeight: int
    dataCaches: list[str]
    fastFinalityIndexes: list[str]
    public: str
    signature: str
    owner: str


def receipt_message(*, version: str, id: str, deadline_height: int, timestamp: int) -> bytes:
    """The 48-byte deep hash a receipt signature signs."""
    fields = ["Bundlr", version, id, str(deadline_height), str(timestamp)]
    return deep_hash([field.encode("utf-8") for field in fields])


def sign_receipt(
    key: ArweaveKey,
    *,
    id: str,
    deadline_height: int,
    timestamp: int,
    winc: str,
    data_caches: Sequence[str],
    fast_finality_indexes: Sequence[str],
    owner: str,
) -> Receipt:
    """The signed receipt for data item ``id`` uploaded by ``owner`` (an address).

    ``timestamp`` is in milliseconds since the epoch, as Turbo sends it.
    """
    message = receipt_message(
        version=RECEIPT_VERSION, id=id, deadline_height=deadline_height, timestamp=timestamp
    )
    signature = key.sign(message, salt_length=RECEIPT_SALT_LENGTH)
    return {
        "id": id,
        "timestamp": timestamp,
        "winc": winc,
        "version": RECEIPT_VERSION,
        "deadlineHeight": deadline_height,
        "dataCaches": list(data_caches),
        "fastFinalityIndexes": list(fast_finality_indexes),
        "public": key.owner,
        "signature": b64url_encode(signature),
        "owner": owner,
    }


def verify_receipt(receipt: Mapping[str, object]) -> bool:
    """True when ``receipt`` carries a valid signature by its ``public`` key.

    Malformed receipts (missing fields, wrong types, bad base64url) are not valid.
    """
    texts = [receipt.get(name) for name in ("version", "id", "public", "signature")]
    numbers = [receipt.get(name) for name in ("deadlineHeight", "timestamp")]
    if not all(isinstance(v, str) for v in texts) or not all(_is_int(v) for v in numbers):
        return False
    version, id_, public, signature = (str(v) for v in texts)
    deadline_height, timestamp = (int(str(v)) for v in numbers)
    try:
        owner_n, raw_signature = b64url_decode(public), b64url_decode(signature)
    except EncodingError:
        return False
    message = receipt_message(
        version=version, id=id_, deadline_height=deadline_height, timestamp=timestamp
    )
    return verify_arweave_signature(owner_n, message, raw_signature)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
