"""Arweave chunking and merkle proofs: data_root and data_path of format-2 transactions.

The rules (arweave-js ``lib/merkle``, after the node's ``ar_merkle`` / ``ar_tx``):

* Data is cut into chunks of ``MAX_CHUNK_SIZE`` (256 KiB). If what would remain after a
  full chunk is non-empty but smaller than ``MIN_CHUNK_SIZE`` (32 KiB), the last two
  chunks share the remainder: the first takes ``ceil(rest / 2)``. A size that is an
  exact multiple of 256 KiB ends with an empty chunk: it counts in the tree but is never
  uploaded.
* Offsets ("notes") are 32-byte big-endian integers.
* leaf   = SHA256(SHA256(SHA256(chunk)) || SHA256(note(chunk end)))
* branch = SHA256(SHA256(left) || SHA256(right) || SHA256(note(left end)))
  built pairwise layer by layer; an unpaired last node moves up unchanged.
* A chunk's data_path lists, from the root down, ``left || right || note(left end)`` of
  every branch above it, then ``SHA256(chunk) || note(chunk end)``.

Everything here works on sizes and 32-byte hashes: the chunk layout is a function of the
data size alone, so a stream can be cut and hashed as it passes (:class:`DataRootBuilder`)
and a proof needs only the tree, not the data (the chunk body itself is read again by the
caller when it is uploaded).
"""

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bundlestream.core.deephash import BytesLike
from bundlestream.core.encoding import b64url_encode

MAX_CHUNK_SIZE = 256 * 1024
MIN_CHUNK_SIZE = 32 * 1024
NOTE_SIZE = 32
HASH_SIZE = 32


def note(offset: int) -> bytes:
    """An offset as Arweave's 32-byte big-endian note."""
    return offset.to_bytes(NOTE_SIZE, "big")


def _sha256(data: BytesLike) -> bytes:
    return hashlib.sha256(data).digest()


@dataclass(frozen=True)
class ChunkSpan:
    """The bytes ``[start, end)`` of the data that form one chunk."""

    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


def chunk_spans(data_size: int) -> list[ChunkSpan]:
    """The chunks of ``data_size`` bytes, including the empty trailing chunk if any.

    Follows arweave-js ``chunkData``: full chunks while at least 256 KiB remain, except
    that a remainder under 32 KiB is avoided by halving the last two chunks.
    """
    if data_size < 0:
        raise ValueError(f"data size must not be negative: {data_size}")
    spans: list[ChunkSpan] = []
    cursor = 0
    while data_size - cursor >= MAX_CHUNK_SIZE:
        rest = data_size - cursor
        size = MAX_CHUNK_SIZE
        if 0 < rest - MAX_CHUNK_SIZE < MIN_CHUNK_SIZE:
            size = -(-rest // 2)
        spans.append(ChunkSpan(cursor, cursor + size))
        cursor += size
    spans.append(ChunkSpan(cursor, data_size))
    return spans


def uploaded_chunk_spans(data_size: int) -> list[ChunkSpan]:
    """The chunks that are POSTed: every chunk except an empty trailing one."""
    return [span for span in chunk_spans(data_size) if span.size > 0]


@dataclass(frozen=True)
class Leaf:
    """One chunk in the tree: SHA-256 of its bytes and its end offset in the data."""

    data_hash: bytes
    end: int

    @property
    def node_id(self) -> bytes:
        return _sha256(_sha256(self.data_hash) + _sha256(note(self.end)))


@dataclass(frozen=True)
class _Node:
    node_id: bytes
    end: int


def _branch(left: _Node, right: _Node) -> _Node:
    node_id = _sha256(_sha256(left.node_id) + _sha256(right.node_id) + _sha256(note(left.end)))
    return _Node(node_id, right.end)


def _next_layer(layer: list[_Node]) -> list[_Node]:
    pairs = range(0, len(layer) - 1, 2)
    parents = [_branch(layer[i], layer[i + 1]) for i in pairs]
    return [*parents, layer[-1]] if len(layer) % 2 else parents


class MerkleTree:
    """The merkle tree over a transaction's chunks: data_root and each chunk's data_path.

    Holds only 32-byte hashes and offsets (about 64 bytes per 256 KiB chunk).
    """

    def __init__(self, leaves: list[Leaf]) -> None:
        if not leaves:
            raise ValueError("a merkle tree needs at least one leaf")
        self.leaves = leaves
        self._layers = [[_Node(leaf.node_id, leaf.end) for leaf in leaves]]
        while len(self._layers[-1]) > 1:
            self._layers.append(_next_layer(self._layers[-1]))

    @property
    def data_size(self) -> int:
        return self.leaves[-1].end

    @property
    def data_root(self) -> bytes:
        """The 32-byte root a format-2 transaction signs."""
        return self._layers[-1][0].node_id

    def data_path(self, index: int) -> bytes:
        """The proof that chunk ``index`` belongs under :attr:`data_root`."""
        leaf = self.leaves[index]
        branches: list[bytes] = []
        position = index
        for layer in self._layers[:-1]:
            sibling = position ^ 1
            if sibling < len(layer):
                left, right = layer[min(position, sibling)], layer[max(position, sibling)]
                branches.append(left.node_id + right.node_id + note(left.end))
            position //= 2
        return b"".join(reversed(branches)) + leaf.data_hash + note(leaf.end)


class DataRootBuilder:
    """Hashes a stream of ``data_size`` bytes into its merkle tree, chunk by chunk.

    Feed the data in pieces of any size with :meth:`update`; no piece is copied or
    kept. :meth:`finish` checks that exactly ``data_size`` bytes arrived.
    """

    def __init__(self, data_size: int) -> None:
        self._spans = chunk_spans(data_size)
        self._data_size = data_size
        self._leaves: list[Leaf] = []
        self._received = 0
        self._hasher = hashlib.sha256()

    @property
    def _span(self) -> ChunkSpan:
        return self._spans[len(self._leaves)]

    def update(self, piece: BytesLike) -> None:
        """Feed the next bytes of the data."""
        view = memoryview(piece).cast("B")
        if self._received + len(view) > self._data_size:
            raise ValueError(f"more than the declared {self._data_size} bytes")
        while len(view):
            take = min(len(view), self._span.end - self._received)
            self._hasher.update(view[:take])
            self._received += take
            view = view[take:]
            if self._received == self._span.end and len(self._leaves) < len(self._spans) - 1:
                self._close_chunk()

    def _close_chunk(self) -> None:
        self._leaves.append(Leaf(self._hasher.digest(), self._span.end))
        self._hasher = hashlib.sha256()

    def finish(self) -> MerkleTree:
        """The tree; raise ``ValueError`` if fewer than ``data_size`` bytes were fed."""
        if self._received != self._data_size:
            raise ValueError(f"got {self._received} of the declared {self._data_size} bytes")
        self._leaves.append(Leaf(self._hasher.digest(), self._span.end))
        return MerkleTree(self._leaves)


def chunk_hashes(tree: MerkleTree) -> bytes:
    """The tree in 32 bytes per chunk (SHA-256 of each chunk, in order), for storing.

    With the data size it is all :func:`tree_from_chunk_hashes` needs to rebuild the
    tree, so a later stage can produce proofs without hashing the data again.
    """
    return b"".join(leaf.data_hash for leaf in tree.leaves)


def tree_from_chunk_hashes(data_size: int, hashes: bytes) -> MerkleTree:
    """Rebuild a tree from :func:`chunk_hashes`; ``ValueError`` if the count is wrong."""
    spans = chunk_spans(data_size)
    if len(hashes) != HASH_SIZE * len(spans):
        raise ValueError(f"{len(spans)} chunks need {HASH_SIZE * len(spans)} hash bytes")
    return MerkleTree(
        [
            Leaf(hashes[i * HASH_SIZE : (i + 1) * HASH_SIZE], span.end)
            for i, span in enumerate(spans)
        ]
    )


def merkle_tree(data: BytesLike) -> MerkleTree:
    """The merkle tree of data held in memory."""
    view = memoryview(data).cast("B")
    builder = DataRootBuilder(len(view))
    builder.update(view)
    return builder.finish()


@dataclass(frozen=True)
class ValidatedChunk:
    """What a valid data_path proves: the chunk's hash and its byte range."""

    data_hash: bytes
    start: int
    end: int


def _note_value(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


def validate_path(
    data_root: bytes, offset: int, data_size: int, data_path: bytes
) -> ValidatedChunk | None:
    """Check ``data_path`` for the chunk holding byte ``offset`` (arweave-js ``validatePath``).

    Returns the proven chunk hash and range, or ``None`` when the proof does not hold.
    """
    if data_size <= 0:
        return None
    expected, left_bound, right_bound, path = data_root, 0, data_size, data_path
    offset = min(max(offset, 0), data_size - 1)
    branch_size = 2 * HASH_SIZE + NOTE_SIZE
    while len(path) > HASH_SIZE + NOTE_SIZE:
        left, right = path[:HASH_SIZE], path[HASH_SIZE : 2 * HASH_SIZE]
        boundary = path[2 * HASH_SIZE : branch_size]
        if _sha256(_sha256(left) + _sha256(right) + _sha256(boundary)) != expected:
            return None
        split = _note_value(boundary)
        if offset < split:
            expected, right_bound = left, min(right_bound, split)
        else:
            expected, left_bound = right, max(left_bound, split)
        path = path[branch_size:]
    if len(path) != HASH_SIZE + NOTE_SIZE:
        return None
    data_hash, end_note = path[:HASH_SIZE], path[HASH_SIZE:]
    if _sha256(_sha256(data_hash) + _sha256(end_note)) != expected:
        return None
    end = min(right_bound, _note_value(end_note))
    return ValidatedChunk(data_hash, left_bound, end) if end > left_bound else None


@dataclass(frozen=True)
class ChunkUpload:
    """A chunk and its proof, ready for ``POST /chunk``."""

    data_root: bytes
    data_size: int
    data_path: bytes
    offset: int
    chunk: bytes

    def to_json(self) -> dict[str, str]:
        """The JSON body of ``POST /chunk`` (arweave-js ``Transaction.getChunk``)."""
        return {
            "data_root": b64url_encode(self.data_root),
            "data_size": str(self.data_size),
            "data_path": b64url_encode(self.data_path),
            "offset": str(self.offset),
            "chunk": b64url_encode(self.chunk),
        }


def chunk_upload(tree: MerkleTree, index: int, chunk: bytes) -> ChunkUpload:
    """The upload of chunk ``index``; ``chunk`` is its bytes, read again by the caller.

    ``offset`` is the chunk's last byte, as arweave-js sends it.
    """
    leaf = tree.leaves[index]
    if _sha256(chunk) != leaf.data_hash:
        raise ValueError(f"chunk {index} does not match the tree")
    return ChunkUpload(tree.data_root, tree.data_size, tree.data_path(index), leaf.end - 1, chunk)


def chunk_uploads(tree: MerkleTree, read: Callable[[ChunkSpan], bytes]) -> Iterator[ChunkUpload]:
    """Every ``POST /chunk`` body of the data, in order, reading each chunk when needed.

    ``read(span)`` returns the bytes ``[span.start, span.end)`` of the data (a ranged read
    from the object store), so only one chunk is in memory at a time.
    """
    for index, span in enumerate(uploaded_chunk_spans(tree.data_size)):
        yield chunk_upload(tree, index, read(span))
