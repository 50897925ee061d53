"""What a parsed data item is: its header fields and where its payload lies."""

import hashlib
from dataclasses import dataclass

from bundlestream.core.ans104.addresses import native_address, owner_address
from bundlestream.core.ans104.tags import Tag
from bundlestream.core.encoding import b64url_encode


@dataclass(frozen=True)
class DataItemHeader:
    """Every field before the payload, decoded, plus the offset the payload starts at.

    ``target`` and ``anchor`` are the 32 raw bytes when present, else None.
    ``raw_tags`` are the Avro bytes exactly as signed.
    """

    signature_type: int
    signature: bytes
    owner: bytes
    target: bytes | None
    anchor: bytes | None
    tags: tuple[Tag, ...]
    raw_tags: bytes
    payload_start: int

    @property
    def raw_id(self) -> bytes:
        """SHA-256 of the signature: the 32 bytes a bundle header lists."""
        return hashlib.sha256(self.signature).digest()

    @property
    def id(self) -> str:
        """The data item id: base64url(SHA-256(signature))."""
        return b64url_encode(self.raw_id)

    @property
    def owner_address(self) -> str:
        """base64url(SHA-256(owner)), the normalized address of every signature type."""
        return owner_address(self.owner)

    @property
    def native_address(self) -> str:
        """The owner's address in its own chain's notation."""
        return native_address(self.signature_type, self.owner)

    def tag(self, name: str) -> str | None:
        """The value of the first tag called ``name`` (UTF-8), or None if there is none."""
        wanted = name.encode("utf-8")
        for tag in self.tags:
            if tag.name == wanted:
                return tag.value.decode("utf-8", errors="replace")
        return None


@dataclass(frozen=True)
class DataItem:
    """A complete data item: its header and the payload length; ``size`` is the whole item."""

    header: DataItemHeader
    payload_size: int
    size: int

    @property
    def id(self) -> str:
        """The data item id (see :attr:`DataItemHeader.id`)."""
        return self.header.id
