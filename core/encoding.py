"""Arweave's text encoding of bytes: unpadded base64url (RFC 4648 section 5)."""

import base64
import binascii


class EncodingError(ValueError):
    """A string is not valid unpadded base64url."""


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url, as Arweave does for ids, owners and tags."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded (or padded) base64url; raise EncodingError on anything else."""
    stripped = text.rstrip("=")
    if len(stripped) % 4 == 1:
        raise EncodingError(f"not base64url: length {len(text)}")
    try:
        return base64.b64decode(
            stripped + "=" * (-len(stripped) % 4), altchars=b"-_", validate=True
        )
    except binascii.Error as exc:
        raise EncodingError(f"not base64url: {exc}") from exc
