"""Backoff doubles from the base up to the cap; a longer Retry-After (429) wins."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bundlestream.core.retrying import backoff_delay
from tests.deterministic import DETERMINISTIC


@pytest.mark.parametrize(
    ("attempt", "expected"), [(0, 0.5), (1, 1.0), (2, 2.0), (5, 16.0), (6, 30.0), (20, 30.0)]
)
def test_the_delay_doubles_until_the_cap(attempt: int, expected: float) -> None:
    assert backoff_delay(attempt, base_s=0.5, max_s=30.0, retry_after_s=None) == expected


@pytest.mark.parametrize(
    ("attempt", "retry_after", "expected"), [(0, 7.0, 7.0), (4, 7.0, 8.0), (9, 120.0, 120.0)]
)
def test_a_retry_after_longer_than_the_backoff_wins(
    attempt: int, retry_after: float, expected: float
) -> None:
    assert backoff_delay(attempt, base_s=0.5, max_s=30.0, retry_after_s=retry_after) == expected


@DETERMINISTIC
@given(
    st.integers(0, 60),
    st.floats(0.01, 10),
    st.floats(0.01, 600),
    st.none() | st.floats(0, 1000),
)
def test_the_delay_never_shrinks_from_one_attempt_to_the_next_and_respects_the_bounds(
    attempt: int, base: float, cap: float, retry_after: float | None
) -> None:
    delay = backoff_delay(attempt, base, cap, retry_after)
    assert delay <= backoff_delay(attempt + 1, base, cap, retry_after)
    assert delay <= max(cap, retry_after or 0.0)
    assert delay >= min(base, cap)
    if retry_after is not None:
        assert delay >= retry_after
