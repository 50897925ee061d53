"""The service's receipt signing key: an Arweave JWK file, generated on first run.

Key generation needs randomness, so it lives here at the edge; the core only signs with
the key it is given. Several processes may start at once: the first to publish the file
wins (a hard link refuses to replace an existing file) and the others load its key, so
every process of one deployment signs with the same key.
"""

import json
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from bundlestream.core.jwk import (
    ArweaveKey,
    InvalidKeyError,
    arweave_key_from_jwk,
    jwk_from_private_key,
)

MIN_KEY_SIZE = 2048


class ReceiptKeyError(Exception):
    """The receipt key file exists but cannot be read as an Arweave JWK."""


def load_receipt_key(path: Path) -> ArweaveKey:
    """The key stored at ``path``; raise :class:`ReceiptKeyError` if it is unusable."""
    try:
        jwk = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(jwk, dict):
            raise ReceiptKeyError(f"{path}: not a JSON object")
        return arweave_key_from_jwk(jwk)
    except (OSError, ValueError, InvalidKeyError) as exc:
        raise ReceiptKeyError(f"{path}: {exc}") from exc


def generate_jwk(key_size: int) -> dict[str, str]:
    """A fresh RSA wallet JWK (public exponent 65537, as Arweave requires)."""
    if key_size < MIN_KEY_SIZE:
        raise ValueError(f"receipt key size must be at least {MIN_KEY_SIZE} bits, got {key_size}")
    return jwk_from_private_key(rsa.generate_private_key(public_exponent=65537, key_size=key_size))


def _publish_private_file(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` mode 0600 unless it exists; True if this call wrote it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def load_or_create_receipt_key(path: Path, key_size: int) -> ArweaveKey:
    """The key at ``path``, generating and storing one of ``key_size`` bits if absent."""
    if not path.exists():
        _publish_private_file(path, json.dumps(generate_jwk(key_size)))
    return load_receipt_key(path)
