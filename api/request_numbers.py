"""Numbers and ids taken from a request (headers, query, path), checked before use.

A size or an offset here is at most ``MAX_DIGITS`` ASCII digits: 20 digits exceed any
object size (2**64 has 20), keep object keys short (a file name is at most 255 bytes on
Linux) and stay far below Python's int-conversion limit (4,300 digits, CVE-2020-10735).
``str.isdigit`` alone is not enough: it accepts '²' and other digits ``int`` refuses.
"""

import re

MAX_DIGITS = 20

# A data item id is the base64url SHA-256 of its signature, unpadded (ANS-104): 43 chars.
ITEM_ID = re.compile(r"[A-Za-z0-9_-]{43}")
# Chunked upload ids are the str() of a uuid4 (``resources.chunked_uploads``).
UPLOAD_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def decimal(raw: str | None) -> int | None:
    """A non-negative decimal of 1 to ``MAX_DIGITS`` ASCII digits, else None."""
    if raw is None or not 0 < len(raw) <= MAX_DIGITS or not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


def is_item_id(raw: str) -> bool:
    return ITEM_ID.fullmatch(raw) is not None


def is_upload_id(raw: str) -> bool:
    return UPLOAD_ID.fullmatch(raw) is not None
