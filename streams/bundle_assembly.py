"""Assembling a bundle object from its items' objects in one streaming pass.

Each piece goes three ways at once: to the object store writer, to the data_root
builder, and to a bundle reader on a worker thread that finds every item's offsets
(nested bundles too). A bounded queue between the two keeps memory at a few pieces,
whatever the bundle's size.
"""

import asyncio
import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from bundlestream.adapters.object_store import ObjectNotFoundError, ObjectStore, ObjectWriter
from bundlestream.adapters.received_items import ReceivedItemReader
from bundlestream.core.ans104.bundle_header import BundleEntry, encode_bundle_header
from bundlestream.core.ans104.bundle_reader import ReadOptions, read_bundle
from bundlestream.core.bundle_tx import item_offsets
from bundlestream.core.encoding import b64url_decode
from bundlestream.core.merkle import DataRootBuilder, MerkleTree
from bundlestream.schemas.events import BundlePlanned, ItemOffset

_QUEUE_PIECES = 8


class UnpreparablePlan(Exception):
    """An item's bytes are missing or are not what the plan says: the plan must drop."""


@dataclass(frozen=True)
class Assembled:
    data_size: int
    tree: MerkleTree
    offsets: list[ItemOffset]


class _OffsetReader:
    """Runs the bundle reader on a thread, fed piece by piece through a bounded queue."""

    def __init__(self) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(_QUEUE_PIECES)
        self._result: list[ItemOffset] = []
        self._error: BaseException | None = None
        self._ended = False  # the reader took the end mark
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _pieces(self) -> Iterator[bytes]:
        while (piece := self._queue.get()) is not None:
            yield piece
        self._ended = True

    def _run(self) -> None:
        try:
            self._result = item_offsets(read_bundle(self._pieces(), ReadOptions(verify=False)))
        except BaseException as exc:  # reported to the caller in finish()
            self._error = exc
            # Drain so the feeder never blocks, up to the end mark unless the reader
            # already took it (a bundle cut short by a failed item): waiting for a
            # second one hung finish() and the prepare agent with it, for good.
            if not self._ended:
                for _ in self._pieces():
                    pass

    async def feed(self, piece: bytes) -> None:
        await asyncio.to_thread(self._queue.put, piece)

    async def finish(self) -> list[ItemOffset]:
        await asyncio.to_thread(self._queue.put, None)
        await asyncio.to_thread(self._thread.join)
        if self._error is not None:
            raise UnpreparablePlan(f"bundle unreadable: {self._error!r}") from self._error
        return self._result


async def _item_pieces(
    store: ObjectStore, inline: ReceivedItemReader, plan: BundlePlanned
) -> AsyncIterator[bytes]:
    for item in plan.items:
        if item.object_key is None:  # travelled inside its DataItemReceived
            raw = await asyncio.to_thread(
                inline.read, item.received_partition, item.received_offset
            )
            if len(raw) != item.raw_size:
                raise UnpreparablePlan(f"item {item.data_item_id}: inline size {len(raw)}")
            yield raw
            continue
        seen = 0
        try:
            async for piece in store.read(item.object_key):
                seen += len(piece)
                yield piece
        except ObjectNotFoundError as exc:
            raise UnpreparablePlan(f"item {item.data_item_id}: object gone") from exc
        if seen != item.raw_size:
            raise UnpreparablePlan(
                f"item {item.data_item_id}: {seen} bytes, plan says {item.raw_size}"
            )


async def _tee(
    piece: bytes, builder: DataRootBuilder, writer: ObjectWriter, reader: _OffsetReader
) -> None:
    builder.update(piece)
    await writer.write(piece)
    await reader.feed(piece)


async def assemble(
    store: ObjectStore, inline: ReceivedItemReader, plan: BundlePlanned, key: str
) -> Assembled:
    """Write the bundle of ``plan`` to ``key``; its size, merkle tree and offsets."""
    entries = [BundleEntry(i.raw_size, b64url_decode(i.data_item_id)) for i in plan.items]
    header = encode_bundle_header(entries)
    size = len(header) + sum(item.raw_size for item in plan.items)
    builder, reader, writer = DataRootBuilder(size), _OffsetReader(), await store.writer(key)
    try:
        await _tee(header, builder, writer, reader)
        async for piece in _item_pieces(store, inline, plan):
            await _tee(piece, builder, writer, reader)
    except BaseException:
        await writer.abort()
        with contextlib.suppress(UnpreparablePlan):  # cut short: the first error tells why
            await reader.finish()
        raise
    offsets = await reader.finish()
    await writer.commit()
    return Assembled(size, builder.finish(), offsets)
