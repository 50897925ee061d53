"""The upload path in process: real parser, signer, filesystem object store, and the
in-memory event log and fresh-receipt view (held to the real adapters' contract).

Order is the contract: payload durable, event acknowledged, then the receipt; any
failure before the acknowledgement leaves no receipt and lets the client retry.
"""

import dataclasses
import functools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundlestream.adapters.filesystem import FilesystemObjectStore
from bundlestream.api.ingest import ingest
from bundlestream.api.outcomes import (
    INVALID_ITEM,
    PARSE_ERROR,
    Accepted,
    Duplicate,
    Outcome,
    Rejected,
    Unavailable,
    fresh_status,
    too_large,
)
from bundlestream.api.upload_path import UploadPath, raw_key
from bundlestream.core.admission import FORBIDDEN, INSUFFICIENT_BALANCE, AdmissionPolicy, NoCredit
from bundlestream.core.ans104 import Tag, parse_data_item
from bundlestream.core.ans104.signing import Ed25519Signer, sign_data_item
from bundlestream.core.jwk import ArweaveKey, arweave_key_from_jwk, jwk_from_private_key
from bundlestream.core.receipts import sign_receipt, verify_receipt
from bundlestream.schemas.events import DataItemReceived
from tests.fakes import MemoryEventLog, MemoryFreshReceipts

HEIGHT, MARGIN, NOW_MS = 1_500_000, 200, 1_764_547_200_123
INLINE_MAX, FREE = 1024, 4096


@pytest.fixture(scope="module")
def service_key() -> ArweaveKey:
    return arweave_key_from_jwk(jwk_from_private_key(rsa.generate_private_key(65537, 2048)))


@pytest.fixture(scope="module")
def signer() -> Ed25519Signer:
    return Ed25519Signer(Ed25519PrivateKey.generate())


@pytest.fixture
def log() -> MemoryEventLog:
    return MemoryEventLog()


@pytest.fixture
def fresh() -> MemoryFreshReceipts:
    return MemoryFreshReceipts()


@pytest.fixture
def objects(tmp_path: Path) -> Path:
    return tmp_path / "objects"


@pytest.fixture
def path(
    objects: Path, service_key: ArweaveKey, log: MemoryEventLog, fresh: MemoryFreshReceipts
) -> UploadPath:
    return UploadPath(
        store=FilesystemObjectStore(objects),
        publish=log.publish,
        fresh=fresh,
        height=lambda: HEIGHT,
        sign=functools.partial(sign_receipt, service_key),
        admission=policy(),
        now_ms=lambda: NOW_MS,
        max_item_size=64 * 1024,
        inline_max=INLINE_MAX,
        deadline_margin=MARGIN,
        data_caches=("arweave.net",),
        fast_finality_indexes=("arweave.net",),
    )


def policy(
    blocked: frozenset[str] = frozenset(), allowed: frozenset[str] = frozenset()
) -> AdmissionPolicy:
    return AdmissionPolicy(blocked, allowed, free_upload_limit_bytes=FREE, price=NoCredit())


def item(signer: Ed25519Signer, payload_size: int = 100) -> bytes:
    payload = bytes(n % 251 for n in range(payload_size))
    return sign_data_item(signer, payload, tags=[Tag(b"Content-Type", b"text/plain")])


async def chunks(data: bytes, size: int = 300) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def upload(path: UploadPath, data: bytes, declared: int | None = None) -> Outcome:
    return await ingest(path, chunks(data), declared, paid_by=("payer",))


def files_under(root: Path) -> list[Path]:
    """Every file in the object store, temp files included."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def test_an_accepted_small_item_is_one_inline_event_and_a_signed_receipt(
    path: UploadPath,
    log: MemoryEventLog,
    fresh: MemoryFreshReceipts,
    signer: Ed25519Signer,
    objects: Path,
) -> None:
    data = item(signer)
    parsed = parse_data_item(data)
    outcome = await upload(path, data)
    assert isinstance(outcome, Accepted)
    receipt = outcome.receipt
    assert verify_receipt(receipt)
    assert (receipt["id"], receipt["owner"], receipt["winc"]) == (
        parsed.id,
        parsed.header.owner_address,
        "0",
    )
    assert (receipt["deadlineHeight"], receipt["timestamp"]) == (HEIGHT + MARGIN, NOW_MS)
    [(key, event)] = log.messages
    assert key == parsed.header.owner_address
    assert (event.data_item_id, event.raw_size, event.inline_item, event.object_key) == (
        parsed.id,
        len(data),
        data,
        None,
    )
    assert event.received_at == datetime(2025, 12, 1, 0, 0, 0, 123_000, tzinfo=UTC)
    assert (event.content_type, event.deadline_height, event.paid_by) == (
        "text/plain",
        HEIGHT + MARGIN,
        ("payer",),
    )
    assert await fresh.get(parsed.id) == fresh_status(parsed, receipt)
    assert files_under(objects) == []


async def test_a_large_item_is_stored_once_and_the_event_points_at_it(
    path: UploadPath, log: MemoryEventLog, signer: Ed25519Signer
) -> None:
    data = item(signer, payload_size=3 * INLINE_MAX)
    outcome = await upload(path, data)
    assert isinstance(outcome, Accepted)
    [event] = log.events
    assert (event.object_key, event.inline_item) == (raw_key(event.data_item_id), None)
    stored = b"".join([c async for c in path.store.read(raw_key(event.data_item_id))])
    assert stored == data


async def test_the_same_item_again_is_a_duplicate_and_publishes_nothing(
    path: UploadPath, log: MemoryEventLog, signer: Ed25519Signer
) -> None:
    data = item(signer)
    assert isinstance(await upload(path, data), Accepted)
    assert await upload(path, data) == Duplicate(parse_data_item(data).id)
    assert len(log.events) == 1


async def test_an_item_receipted_by_another_process_is_a_duplicate(
    path: UploadPath, log: MemoryEventLog, fresh: MemoryFreshReceipts, signer: Ed25519Signer
) -> None:
    data = item(signer)
    await fresh.remember(parse_data_item(data).id, {"winc": "0"})  # another API receipted it
    assert await upload(path, data) == Duplicate(parse_data_item(data).id)
    assert log.events == []


def flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda data: b"\xff\xff" + data[2:], Rejected(400, PARSE_ERROR)),  # signature type
        (lambda data: data[:100], Rejected(400, PARSE_ERROR)),  # ends inside its header
        (flip_last_byte, Rejected(400, INVALID_ITEM)),  # payload no longer signed
    ],
    ids=["unknown-signature-type", "truncated", "bad-signature"],
)
async def test_a_broken_item_is_rejected_and_leaves_nothing(
    path: UploadPath,
    log: MemoryEventLog,
    fresh: MemoryFreshReceipts,
    signer: Ed25519Signer,
    objects: Path,
    damage: Callable[[bytes], bytes],
    expected: Rejected,
) -> None:
    data = item(signer, payload_size=3 * INLINE_MAX)
    assert await upload(path, damage(data)) == expected
    assert log.events == [] and fresh.receipts == {} and files_under(objects) == []
    assert isinstance(await upload(path, data), Accepted)  # nothing of it stayed behind


async def test_an_item_over_the_size_limit_is_rejected_with_the_limit(
    path: UploadPath, log: MemoryEventLog, signer: Ed25519Signer, objects: Path
) -> None:
    small = dataclasses.replace(path, max_item_size=2000)
    assert await upload(small, item(signer, payload_size=3000)) == too_large(2000)
    assert log.events == [] and files_under(objects) == []
    assert isinstance(await upload(small, item(signer, payload_size=100)), Accepted)


async def test_a_blocklisted_owner_is_forbidden_by_either_address(
    path: UploadPath, log: MemoryEventLog, signer: Ed25519Signer
) -> None:
    header = parse_data_item(item(signer)).header
    for address in (header.owner_address, header.native_address):
        blocked = dataclasses.replace(path, admission=policy(blocked=frozenset({address})))
        assert await upload(blocked, item(signer)) == Rejected(FORBIDDEN.status, FORBIDDEN.message)
    assert log.events == []


async def test_over_the_free_tier_without_credit_is_refused_unless_allow_listed(
    path: UploadPath, log: MemoryEventLog, fresh: MemoryFreshReceipts, signer: Ed25519Signer
) -> None:
    big = item(signer, payload_size=FREE)
    refused = Rejected(INSUFFICIENT_BALANCE.status, INSUFFICIENT_BALANCE.message)
    assert len(big) > FREE
    assert await upload(path, big) == refused
    assert await upload(path, big, declared=len(big)) == refused  # decided at the header
    assert log.events == [] and fresh.receipts == {}
    owner = parse_data_item(big).header.owner_address
    allowed = dataclasses.replace(path, admission=policy(allowed=frozenset({owner})))
    outcome = await upload(allowed, big)
    assert isinstance(outcome, Accepted) and outcome.receipt["winc"] == "0"


async def test_the_free_tier_admits_an_item_of_exactly_the_limit(
    path: UploadPath, log: MemoryEventLog, signer: Ed25519Signer
) -> None:
    header_size = len(item(signer, payload_size=0))
    exactly = item(signer, payload_size=FREE - header_size)
    assert len(exactly) == FREE
    assert isinstance(await upload(path, exactly), Accepted)
    over = item(signer, payload_size=FREE - header_size + 1)
    assert isinstance(await upload(path, over), Rejected)
    assert len(log.events) == 1


async def test_an_object_store_failure_is_503_with_nothing_published(
    path: UploadPath,
    log: MemoryEventLog,
    fresh: MemoryFreshReceipts,
    signer: Ed25519Signer,
    tmp_path: Path,
) -> None:
    (tmp_path / "not-a-directory").write_bytes(b"")
    broken = dataclasses.replace(path, store=FilesystemObjectStore(tmp_path / "not-a-directory"))
    data = item(signer, payload_size=3 * INLINE_MAX)
    item_id = parse_data_item(data).id
    outcome = await upload(broken, data)
    assert outcome == Unavailable(
        f"Data Item: {item_id}. Upload Service is Unavailable. Object Store is unreachable"
    )
    assert log.events == [] and fresh.receipts == {}
    assert isinstance(await upload(path, data), Accepted)  # a retry is not a duplicate


async def test_an_event_log_failure_is_503_and_nothing_is_receipted(
    path: UploadPath,
    log: MemoryEventLog,
    fresh: MemoryFreshReceipts,
    signer: Ed25519Signer,
    objects: Path,
) -> None:
    data = item(signer, payload_size=3 * INLINE_MAX)
    item_id = parse_data_item(data).id
    log.down = True
    outcome = await upload(path, data)
    assert outcome == Unavailable(
        f"Data Item: {item_id}. Upload Service is Unavailable. Event log is unreachable"
    )
    assert log.events == [] and await fresh.get(item_id) is None
    # The committed object stays: an unacknowledged produce may still be in the log.
    assert files_under(objects) == [objects / raw_key(item_id)]
    log.down = False
    outcome = await upload(path, data)
    assert isinstance(outcome, Accepted) and [e.data_item_id for e in log.events] == [item_id]


async def test_an_unknown_block_height_is_503_before_anything_is_published(
    path: UploadPath, log: MemoryEventLog, signer: Ed25519Signer
) -> None:
    data = item(signer)
    no_height = dataclasses.replace(path, height=lambda: None)
    assert await upload(no_height, data) == Unavailable(
        f"Data Item: {parse_data_item(data).id}. Upload Service is Unavailable. "
        "Arweave gateway is unreachable"
    )
    assert log.events == []


async def test_a_view_that_is_down_at_the_duplicate_check_is_503(
    path: UploadPath, log: MemoryEventLog, fresh: MemoryFreshReceipts, signer: Ed25519Signer
) -> None:
    fresh.down = True
    assert await upload(path, item(signer)) == Unavailable(
        "Upload Service is Unavailable. Cache is unreachable"
    )
    assert log.events == []


async def test_a_view_lost_after_the_event_still_returns_the_receipt(
    path: UploadPath, log: MemoryEventLog, fresh: MemoryFreshReceipts, signer: Ed25519Signer
) -> None:
    async def publish_then_lose_the_view(event: DataItemReceived) -> None:
        await log.publish(event)
        fresh.down = True

    losing = dataclasses.replace(path, publish=publish_then_lose_the_view)
    outcome = await upload(losing, item(signer))
    assert isinstance(outcome, Accepted) and verify_receipt(outcome.receipt)
    assert len(log.events) == 1 and fresh.receipts == {}
