"""Exact dedup: the first sighting of an id is accepted, every later sighting rejected,
and the first sighting delivered again (a replay) is accepted again, identically."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bundlestream.core.dedup import Sighting, judge
from bundlestream.schemas.events import (
    DataItemAccepted,
    DataItemDuplicateRejected,
    DataItemReceived,
)
from tests.deterministic import DETERMINISTIC

T0 = datetime(2026, 12, 1, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)


def received(item: str = "i" * 43, owner: str = "o" * 43) -> DataItemReceived:
    return DataItemReceived(
        data_item_id=item,
        owner_address=owner,
        signature_type=2,
        raw_size=1200,
        payload_start=1100,
        payload_size=100,
        received_at=T0,
        deadline_height=1_500_200,
        winc="7",
        premium_feature_type="fast",
        paid_by=("payer",),
    )


def test_the_first_sighting_is_accepted_with_where_it_was_seen() -> None:
    verdict = judge(received(), Sighting(2, 40), None, "raw/x", LATER)
    assert verdict == DataItemAccepted(
        data_item_id="i" * 43,
        owner_address="o" * 43,
        raw_size=1200,
        payload_start=1100,
        received_partition=2,
        received_offset=40,
        received_at=T0,
        accepted_at=LATER,
        premium_feature_type="fast",
        object_key="raw/x",
    )


def test_an_inline_item_is_accepted_without_an_object_key() -> None:
    verdict = judge(received(), Sighting(0, 1), None, None, LATER)
    assert isinstance(verdict, DataItemAccepted) and verdict.object_key is None


def test_the_same_sighting_delivered_again_is_accepted_again_identically() -> None:
    first = judge(received(), Sighting(2, 40), None, "raw/x", LATER)
    assert judge(received(), Sighting(2, 40), Sighting(2, 40), "raw/x", LATER) == first


def test_a_later_sighting_is_rejected_with_the_payment_to_refund() -> None:
    verdict = judge(received(), Sighting(2, 41), Sighting(2, 40), "raw/x", LATER)
    assert verdict == DataItemDuplicateRejected(
        data_item_id="i" * 43,
        owner_address="o" * 43,
        received_partition=2,
        received_offset=41,
        winc="7",
        rejected_at=LATER,
        paid_by=("payer",),
    )


def test_there_is_no_window_a_sighting_years_later_is_still_a_duplicate() -> None:
    much_later = T0 + timedelta(days=3650)
    verdict = judge(received(), Sighting(2, 10**9), Sighting(2, 40), None, much_later)
    assert isinstance(verdict, DataItemDuplicateRejected)


# The log of received items: (owner, id) per message. Keyed by owner, an owner's
# messages share a partition and that partition's table of first sightings.
log_st = st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("xyz")), max_size=40)


def decide_log(
    log: list[tuple[str, str]], replay_from: int
) -> list[DataItemAccepted | DataItemDuplicateRejected]:
    """Judge the log as the stream edge does (per partition, a table of first
    sightings), then judge its messages from ``replay_from`` on again, as after a crash
    before a commit. The offset of a message is its index in the log."""
    seen: dict[tuple[int, str], Sighting] = {}
    verdicts = []
    for offset in [*range(len(log)), *range(replay_from, len(log))]:
        owner, item = log[offset]
        event, at = received(item * 43, owner * 43), Sighting("abc".index(owner), offset)
        first = seen.setdefault((at.partition, event.data_item_id), at)
        # Replayed, the first sighting meets itself in the table (``first == at``).
        verdicts.append(judge(event, at, None if first is at else first, None, LATER))
    return verdicts


@DETERMINISTIC
@given(log_st, st.integers(0, 40))
def test_an_id_is_accepted_once_per_owner_however_often_it_is_replayed(
    log: list[tuple[str, str]], replay_from: int
) -> None:
    verdicts = decide_log(log, min(replay_from, len(log)))
    accepted = [v for v in verdicts if isinstance(v, DataItemAccepted)]
    first_offsets: dict[tuple[str, str], int] = {}
    for offset, (owner, item) in enumerate(log):
        first_offsets.setdefault((owner * 43, item * 43), offset)
    assert {(v.owner_address, v.data_item_id): v.received_offset for v in accepted} == (
        first_offsets
    )
    rejected = [v for v in verdicts if isinstance(v, DataItemDuplicateRejected)]
    assert all(first_offsets[v.owner_address, v.data_item_id] < v.received_offset for v in rejected)


@DETERMINISTIC
@given(log_st, st.integers(0, 40))
def test_a_replay_gives_the_verdicts_of_the_first_pass(
    log: list[tuple[str, str]], replay_from: int
) -> None:
    start = min(replay_from, len(log))
    verdicts = decide_log(log, start)
    assert verdicts[len(log) :] == verdicts[start : len(log)]
