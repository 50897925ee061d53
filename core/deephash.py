"""Arweave's deep hash: the SHA-384 construction every Arweave and ANS-104 signature signs.

The rule (arweave-js ``lib/deepHash``):

* a blob ``b``:  ``SHA384(SHA384(b"blob" + ascii(len(b))) || SHA384(b))``
* a list ``xs``: start from ``acc = SHA384(b"list" + ascii(len(xs)))``, then for every
  element ``acc = SHA384(acc || deep_hash(x))``.

Data item payloads are streamed, and their length is known only at the end, so the blob
rule also exists in a streaming form (:class:`BlobHasher`), and a list can be finished from
element digests computed elsewhere (:func:`deep_hash_list_of_digests`,
:func:`deep_hash_list`).
"""

import hashlib
from collections.abc import Sequence
from typing import TypeAlias

BytesLike: TypeAlias = bytes | bytearray | memoryview
DeepHashable: TypeAlias = "bytes | bytearray | memoryview | Sequence[DeepHashable]"

DIGEST_SIZE = 48


def _sha384(data: BytesLike) -> bytes:
    return hashlib.sha384(data).digest()


def _blob_tag_digest(length: int) -> bytes:
    # "blob" followed by the decimal length in ASCII, as arweave-js stringToBytesLike(len).
    return _sha384(b"blob" + str(length).encode("ascii"))


def _list_tag_digest(count: int) -> bytes:
    return _sha384(b"list" + str(count).encode("ascii"))


def blob_digest(data: BytesLike) -> bytes:
    """The deep hash of one blob held in memory."""
    view = memoryview(data)
    return _sha384(_blob_tag_digest(view.nbytes) + _sha384(view))


def deep_hash_list_of_digests(element_digests: Sequence[bytes]) -> bytes:
    """The deep hash of a list whose elements' deep hashes are already known.

    ``element_digests[i]`` must be ``deep_hash(xs[i])``; the result equals ``deep_hash(xs)``.
    """
    acc = _list_tag_digest(len(element_digests))
    for digest in element_digests:
        acc = _sha384(acc + digest)
    return acc


def deep_hash(data: DeepHashable) -> bytes:
    """The 48-byte deep hash of a blob (``bytes``) or a (nested) sequence of them."""
    if isinstance(data, bytes | bytearray | memoryview):
        return blob_digest(data)
    if isinstance(data, str):
        # A str is a sequence of str: without this it would recurse forever.
        raise TypeError("deep_hash takes bytes, not str: encode it first")
    return deep_hash_list_of_digests([deep_hash(item) for item in data])


def deep_hash_list(prefix_items: Sequence[DeepHashable], last_blob_digest: bytes) -> bytes:
    """The deep hash of ``[*prefix_items, blob]`` given only ``blob_digest(blob)``.

    This is how a data item's signature message is finished once its streamed payload
    has been hashed with a :class:`BlobHasher`.
    """
    prefix_digests = [deep_hash(item) for item in prefix_items]
    return deep_hash_list_of_digests([*prefix_digests, last_blob_digest])


class BlobHasher:
    """The deep hash of a blob fed in chunks; the length is counted as the chunks pass.

    ``update`` hands each chunk to SHA-384 without copying it, so this runs at hashlib's
    speed. ``digest`` may be called once the last chunk has been fed (it does not
    consume the state; further updates continue the same blob).
    """

    __slots__ = ("_inner", "_length")

    def __init__(self) -> None:
        self._inner = hashlib.sha384()
        self._length = 0

    @property
    def length(self) -> int:
        """Bytes fed so far."""
        return self._length

    def update(self, chunk: BytesLike) -> None:
        """Feed the next chunk of the blob (any bytes-like object)."""
        self._inner.update(chunk)
        self._length += memoryview(chunk).nbytes

    def digest(self) -> bytes:
        """The blob's deep hash over everything fed so far."""
        return _sha384(_blob_tag_digest(self._length) + self._inner.digest())
