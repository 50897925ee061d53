"""Arweave format-2 transactions: signature message, signing, id, JSON and verification.

A format-2 transaction carries its data by reference: ``data_size`` and ``data_root`` (the
merkle root of its chunks, see :mod:`core.merkle`) are signed, and the data is uploaded
separately as chunks, so the JSON posted to ``POST /tx`` has ``"data": ""``.

The signed message (arweave-js ``Transaction.getSignatureData``, format 2) is the deep
hash of::

    [utf8 "2", owner, target, utf8 quantity, utf8 reward, last_tx,
     [[tag name, tag value], ...], utf8 data_size, data_root]

where owner, target, last_tx, tag names and values and data_root are raw bytes (their
base64url forms decoded) and the numbers are decimal ASCII. The id is
base64url(SHA-256(signature)).
"""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bundlestream.core.deephash import deep_hash
from bundlestream.core.encoding import EncodingError, b64url_decode, b64url_encode
from bundlestream.core.jwk import ArweaveKey, verify_arweave_signature

FORMAT = 2


class TransactionFormatError(ValueError):
    """A transaction's JSON is not a well-formed format-2 transaction."""


@dataclass(frozen=True)
class Tag:
    """A transaction tag; Arweave tags are arbitrary bytes (usually UTF-8)."""

    name: bytes
    value: bytes

    @classmethod
    def text(cls, name: str, value: str) -> "Tag":
        return cls(name.encode("utf-8"), value.encode("utf-8"))


# The tags that tell gateways a transaction's data is an ANS-104 bundle (ANS-104 spec).
BUNDLE_TAGS = (Tag.text("Bundle-Format", "binary"), Tag.text("Bundle-Version", "2.0.0"))


@dataclass(frozen=True)
class Transaction:
    """A format-2 transaction; ``signature`` is empty until it is signed.

    ``quantity`` and ``reward`` are in winston; ``last_tx`` is the anchor (a recent block
    hash or the owner's last transaction id), raw bytes.
    """

    owner: bytes
    last_tx: bytes
    reward: int
    data_size: int
    data_root: bytes
    tags: tuple[Tag, ...] = ()
    target: bytes = b""
    quantity: int = 0
    signature: bytes = b""

    @property
    def id(self) -> str:
        """base64url(SHA-256(signature)); only meaningful once signed."""
        return b64url_encode(hashlib.sha256(self.signature).digest())

    def signature_message(self) -> bytes:
        """The 48-byte deep hash the owner signs."""
        return deep_hash(
            [
                str(FORMAT).encode(),
                self.owner,
                self.target,
                str(self.quantity).encode(),
                str(self.reward).encode(),
                self.last_tx,
                [[tag.name, tag.value] for tag in self.tags],
                str(self.data_size).encode(),
                self.data_root,
            ]
        )


def sign_transaction(tx: Transaction, key: ArweaveKey) -> Transaction:
    """``tx`` owned and signed by ``key``."""
    owned = replace(tx, owner=key.owner_bytes, signature=b"")
    return replace(owned, signature=key.sign(owned.signature_message()))


def verify_transaction(tx: Transaction) -> bool:
    """True when ``tx.signature`` is the owner's signature of the transaction's fields."""
    return verify_arweave_signature(tx.owner, tx.signature_message(), tx.signature)


def transaction_to_json(tx: Transaction) -> dict[str, object]:
    """The JSON body of ``POST /tx``, data to follow as chunks (arweave-js ``toJSON``)."""
    return {
        "format": FORMAT,
        "id": tx.id,
        "last_tx": b64url_encode(tx.last_tx),
        "owner": b64url_encode(tx.owner),
        "tags": [
            {"name": b64url_encode(tag.name), "value": b64url_encode(tag.value)} for tag in tx.tags
        ],
        "target": b64url_encode(tx.target),
        "quantity": str(tx.quantity),
        "data": "",
        "data_size": str(tx.data_size),
        "data_root": b64url_encode(tx.data_root),
        "reward": str(tx.reward),
        "signature": b64url_encode(tx.signature),
    }


def _text(obj: Mapping[str, object], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        raise TransactionFormatError(f"{name} must be a string, got {value!r}")
    return value


def _bytes(obj: Mapping[str, object], name: str) -> bytes:
    try:
        return b64url_decode(_text(obj, name))
    except EncodingError as exc:
        raise TransactionFormatError(f"{name}: {exc}") from exc


def _winston(obj: Mapping[str, object], name: str) -> int:
    # The decimal string is signed as is, so only its canonical form round-trips.
    text = _text(obj, name)
    if not text.isascii() or not text.isdigit() or str(int(text)) != text:
        raise TransactionFormatError(f"{name} must be a canonical decimal, got {text!r}")
    return int(text)


def _tags(obj: Mapping[str, object]) -> tuple[Tag, ...]:
    tags = obj.get("tags", [])
    if not isinstance(tags, Sequence) or isinstance(tags, str):
        raise TransactionFormatError("tags must be a list")
    pairs = [tag if isinstance(tag, Mapping) else {} for tag in tags]
    return tuple(Tag(_bytes(tag, "name"), _bytes(tag, "value")) for tag in pairs)


def transaction_from_json(obj: Mapping[str, object]) -> Transaction:
    """Parse a format-2 transaction as gateways and arweave-js serialise it.

    Raises :class:`TransactionFormatError` on anything malformed (the id is not trusted;
    compare it with :attr:`Transaction.id`).
    """
    if obj.get("format") != FORMAT:
        raise TransactionFormatError(f"format must be {FORMAT}, got {obj.get('format')!r}")
    return Transaction(
        owner=_bytes(obj, "owner"),
        last_tx=_bytes(obj, "last_tx"),
        reward=_winston(obj, "reward"),
        data_size=_winston(obj, "data_size"),
        data_root=_bytes(obj, "data_root"),
        tags=_tags(obj),
        target=_bytes(obj, "target"),
        quantity=_winston(obj, "quantity"),
        signature=_bytes(obj, "signature"),
    )


def verify_transaction_json(obj: Mapping[str, object]) -> bool:
    """True when ``obj`` is a well-formed format-2 transaction whose ``id`` is the hash
    of its signature and whose signature is the owner's over its fields."""
    try:
        tx = transaction_from_json(obj)
    except TransactionFormatError:
        return False
    return obj.get("id") == tx.id and verify_transaction(tx)
