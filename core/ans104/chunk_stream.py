"""A cursor over a stream of byte chunks: exact reads for headers, spans for bodies."""

from collections.abc import Iterable, Iterator

from bundlestream.core.ans104.errors import BundleError

BytesLike = bytes | bytearray | memoryview


class ChunkStream:
    """Reads an iterable of chunks in order; ``position`` counts the bytes consumed.

    Running out of chunks before a read is satisfied raises BundleError("bundle-truncated")
    and sets ``truncated``.
    """

    def __init__(self, chunks: Iterable[BytesLike]) -> None:
        self._chunks = iter(chunks)
        self._pending = memoryview(b"")
        self.position = 0
        self.truncated = False

    def _next_piece(self, limit: int) -> memoryview:
        while not self._pending.nbytes:
            chunk = next(self._chunks, None)
            if chunk is None:
                self.truncated = True
                raise BundleError("bundle-truncated", f"bundle ends after {self.position} bytes")
            self._pending = memoryview(chunk).cast("B")
        piece, self._pending = self._pending[:limit], self._pending[limit:]
        self.position += piece.nbytes
        return piece

    def spans(self, length: int) -> Iterator[memoryview]:
        """Yield the next ``length`` bytes as the pieces they arrive in."""
        remaining = length
        while remaining:
            piece = self._next_piece(remaining)
            remaining -= piece.nbytes
            yield piece

    def read_exact(self, length: int) -> bytes:
        """The next ``length`` bytes, copied into one bytes object."""
        return b"".join(self.spans(length))

    def drain(self) -> None:
        """Consume every remaining chunk (a nested reader hands its rest to the parent)."""
        self._pending = memoryview(b"")
        for _ in self._chunks:
            pass
