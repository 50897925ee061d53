"""A posted bundle is confirmed at the required depth, dropped once it is still unknown
an anchor's lifetime after its anchor, and pending in between: walking block heights."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bundlestream.core.confirmation import Confirmed, Dropped, Pending, TxStatus, judge_status
from tests.deterministic import DETERMINISTIC

ANCHOR = 1_500_000
UNKNOWN = TxStatus(known=False)
MINED_AT = ANCHOR + 3


def mined(confirmations: int) -> TxStatus:
    return TxStatus(True, MINED_AT, "block-b", confirmations)


def verdict(status: TxStatus, current: int) -> object:
    return judge_status(status, ANCHOR, current, required_confirmations=18, drop_after_blocks=50)


@pytest.mark.parametrize(
    ("height", "expected"),
    [
        (ANCHOR, Pending()),
        (ANCHOR + 49, Pending()),
        (ANCHOR + 50, Dropped("unknown to the gateway 50 blocks after its anchor")),
        (ANCHOR + 80, Dropped("unknown to the gateway 80 blocks after its anchor")),
    ],
)
def test_an_unknown_tx_is_dropped_50_blocks_after_its_anchor(height: int, expected: object) -> None:
    assert verdict(UNKNOWN, height) == expected


@pytest.mark.parametrize(
    ("confirmations", "expected"),
    [
        (0, Pending()),
        (17, Pending()),
        (18, Confirmed(MINED_AT, "block-b", 18)),
        (40, Confirmed(MINED_AT, "block-b", 40)),
    ],
)
def test_a_mined_tx_is_confirmed_at_18_confirmations(confirmations: int, expected: object) -> None:
    height = MINED_AT + confirmations
    assert verdict(mined(confirmations), height) == expected


def test_a_known_tx_is_never_dropped_even_long_past_the_window() -> None:
    pending_in_mempool = TxStatus(known=True)
    assert verdict(pending_in_mempool, ANCHOR + 500) == Pending()
    assert verdict(mined(2), ANCHOR + 500) == Pending()


def test_a_known_status_without_its_block_id_is_still_pending() -> None:
    assert verdict(TxStatus(True, MINED_AT, None, 30), ANCHOR + 60) == Pending()


@DETERMINISTIC
@given(st.integers(0, 200), st.integers(1, 60), st.integers(1, 100))
def test_for_an_unknown_tx_dropped_is_exactly_the_heights_past_the_window(
    blocks_after_anchor: int, required: int, window: int
) -> None:
    result = judge_status(UNKNOWN, ANCHOR, ANCHOR + blocks_after_anchor, required, window)
    assert isinstance(result, Dropped) == (blocks_after_anchor >= window)
    assert isinstance(result, Dropped | Pending)


@DETERMINISTIC
@given(st.integers(0, 200), st.integers(0, 200), st.integers(1, 60), st.integers(1, 100))
def test_a_mined_tx_is_confirmed_exactly_from_the_required_depth_on(
    confirmations: int, blocks_after_anchor: int, required: int, window: int
) -> None:
    result = judge_status(
        mined(confirmations), ANCHOR, ANCHOR + blocks_after_anchor, required, window
    )
    if confirmations >= required:
        assert result == Confirmed(MINED_AT, "block-b", confirmations)
    else:
        assert result == Pending()
