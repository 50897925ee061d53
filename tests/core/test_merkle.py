"""Arweave chunking and merkle proofs: arweave-js vectors, the bundleTxStub, properties."""

import itertools
import json
import random
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bundlestream.core.encoding import b64url_decode, b64url_encode
from bundlestream.core.merkle import (
    MAX_CHUNK_SIZE,
    MIN_CHUNK_SIZE,
    ChunkSpan,
    DataRootBuilder,
    ValidatedChunk,
    chunk_hashes,
    chunk_spans,
    chunk_upload,
    chunk_uploads,
    merkle_tree,
    tree_from_chunk_hashes,
    uploaded_chunk_spans,
    validate_path,
)
from tests.conftest import FIXTURES

# Produced by tests/node/merkle_vectors.cjs with arweave 1.15.7 (generateTransactionChunks).
VECTORS = Path(__file__).parent / "vectors" / "arweave_js_merkle.jsonl"


def vector_data(size: int) -> bytes:
    return bytes((i * 7 + 3) % 256 for i in range(size))


def stub_bundle() -> bytes:
    header = (FIXTURES / "bundleHeaderStub").read_bytes()
    return header + (FIXTURES / "stub1115ByteDataItem").read_bytes()


def test_bundle_tx_stub_data_root_is_ours() -> None:
    bundle = stub_bundle()
    stub = json.loads((FIXTURES / "bundleTxStub").read_text())
    assert len(bundle) == int(stub["data_size"]) == 1211
    assert b64url_encode(merkle_tree(bundle).data_root) == stub["data_root"]


@pytest.mark.parametrize("line", VECTORS.read_text().splitlines())
def test_matches_arweave_js(line: str) -> None:
    vector = json.loads(line)
    size = vector["n"]
    tree = merkle_tree(vector_data(size))
    assert b64url_encode(tree.data_root) == vector["root"]
    assert [[s.start, s.end] for s in uploaded_chunk_spans(size)] == vector["chunks"]
    for index, (offset, proof) in enumerate(vector["proofs"]):
        assert tree.leaves[index].end - 1 == offset
        assert b64url_encode(tree.data_path(index)) == proof


def _check_spans(size: int, spans: list[ChunkSpan]) -> None:
    assert spans[0].start == 0 and spans[-1].end == size
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    assert all(s.size <= MAX_CHUNK_SIZE for s in spans)
    uploaded = [s for s in spans if s.size > 0]
    if size >= MIN_CHUNK_SIZE:
        # No chunk is under 32 KiB unless the whole data is.
        assert all(s.size >= MIN_CHUNK_SIZE for s in uploaded)
    # Only the last two chunks may differ from 256 KiB.
    assert all(s.size == MAX_CHUNK_SIZE for s in spans[:-2])


BOUNDARIES = [
    k * MAX_CHUNK_SIZE + d
    for k in range(0, 5)
    for d in (-1, 0, 1, MIN_CHUNK_SIZE - 1, MIN_CHUNK_SIZE, MIN_CHUNK_SIZE + 1)
    if k * MAX_CHUNK_SIZE + d >= 0
]


@given(st.sampled_from(BOUNDARIES) | st.integers(min_value=0, max_value=40 * MAX_CHUNK_SIZE))
def test_chunk_size_rule(size: int) -> None:
    _check_spans(size, chunk_spans(size))


def test_last_two_chunks_share_a_small_remainder() -> None:
    spans = chunk_spans(MAX_CHUNK_SIZE + MIN_CHUNK_SIZE - 1)
    assert [s.size for s in spans] == [147456, 147455]
    spans = chunk_spans(3 * MAX_CHUNK_SIZE + 1)
    assert [s.size for s in spans] == [MAX_CHUNK_SIZE, MAX_CHUNK_SIZE, 131073, 131072]


def test_exact_multiple_ends_with_an_empty_chunk_that_is_not_uploaded() -> None:
    spans = chunk_spans(2 * MAX_CHUNK_SIZE)
    assert [s.size for s in spans] == [MAX_CHUNK_SIZE, MAX_CHUNK_SIZE, 0]
    assert [s.size for s in uploaded_chunk_spans(2 * MAX_CHUNK_SIZE)] == [MAX_CHUNK_SIZE] * 2


sizes = st.sampled_from(BOUNDARIES[1:]) | st.integers(min_value=1, max_value=6 * MAX_CHUNK_SIZE)


@cache
def random_data() -> bytes:
    return random.Random(1984).randbytes(6 * MAX_CHUNK_SIZE)


@settings(max_examples=25, deadline=None)
@given(sizes)
def test_every_chunk_proof_validates(size: int) -> None:
    data = random_data()[:size]
    tree = merkle_tree(data)
    for index, span in enumerate(uploaded_chunk_spans(size)):
        proven = ValidatedChunk(tree.leaves[index].data_hash, span.start, span.end)
        path = tree.data_path(index)
        for offset in {span.start, span.end - 1, (span.start + span.end) // 2}:
            assert validate_path(tree.data_root, offset, size, path) == proven
        upload = chunk_upload(tree, index, data[span.start : span.end]).to_json()
        assert b64url_decode(upload["data_path"]) == path
        assert upload["offset"] == str(span.end - 1)
        assert upload["data_size"] == str(size)


@settings(max_examples=25, deadline=None)
@given(sizes, st.lists(st.integers(min_value=0, max_value=6 * MAX_CHUNK_SIZE), max_size=30))
def test_streaming_equals_in_memory(size: int, cuts: list[int]) -> None:
    data = memoryview(random_data())[:size]
    builder = DataRootBuilder(size)
    bounds = [0, *sorted(min(cut, size) for cut in cuts), size]
    for start, end in itertools.pairwise(bounds):
        builder.update(data[start:end])
    assert builder.finish().data_root == merkle_tree(data).data_root


def test_proofs_do_not_validate_elsewhere() -> None:
    data = random.Random(7).randbytes(3 * MAX_CHUNK_SIZE + 100)
    tree = merkle_tree(data)
    path = tree.data_path(1)
    assert validate_path(tree.data_root, MAX_CHUNK_SIZE, len(data), path) is not None
    # For an offset in another chunk the walk takes the other branch and fails.
    assert validate_path(tree.data_root, 0, len(data), path) is None
    flipped = bytes([path[0] ^ 1]) + path[1:]
    assert validate_path(tree.data_root, MAX_CHUNK_SIZE, len(data), flipped) is None
    assert validate_path(tree.data_root, MAX_CHUNK_SIZE, len(data), path[:-1]) is None
    other_root = merkle_tree(data[:-1]).data_root
    assert validate_path(other_root, MAX_CHUNK_SIZE, len(data), path) is None


def test_tree_survives_storage_as_chunk_hashes() -> None:
    data = random_data()[: 3 * MAX_CHUNK_SIZE]  # an exact multiple: the empty chunk counts
    tree = merkle_tree(data)
    stored = chunk_hashes(tree)
    assert len(stored) == 32 * 4
    rebuilt = tree_from_chunk_hashes(len(data), stored)
    assert rebuilt.data_root == tree.data_root
    assert [rebuilt.data_path(i) for i in range(3)] == [tree.data_path(i) for i in range(3)]
    with pytest.raises(ValueError):
        tree_from_chunk_hashes(len(data) - 1, stored)


def test_stream_size_is_enforced() -> None:
    builder = DataRootBuilder(10)
    builder.update(b"12345")
    with pytest.raises(ValueError):
        builder.finish()
    with pytest.raises(ValueError):
        builder.update(b"123456")


def test_chunk_upload_rejects_the_wrong_bytes() -> None:
    tree = merkle_tree(b"abc")
    with pytest.raises(ValueError):
        chunk_upload(tree, 0, b"abd")


def test_chunk_uploads_read_each_chunk_once_in_order() -> None:
    data = random_data()[: 2 * MAX_CHUNK_SIZE + 5]
    tree = merkle_tree(data)
    reads: list[ChunkSpan] = []

    def read(span: ChunkSpan) -> bytes:
        reads.append(span)
        return data[span.start : span.end]

    uploads = list(chunk_uploads(tree, read))
    assert reads == uploaded_chunk_spans(len(data))
    assert b"".join(upload.chunk for upload in uploads) == data
    assert all(
        validate_path(tree.data_root, u.offset, len(data), u.data_path) is not None for u in uploads
    )
