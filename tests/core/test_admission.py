"""Admission in upstream's order: blocklist, allow list, free tier, then balance; and the
refusal the header alone can decide (the blocklist) before the payload streams."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bundlestream.core.admission import (
    FORBIDDEN,
    INSUFFICIENT_BALANCE,
    NO_PRICE,
    AdmissionPolicy,
    Admitted,
    NoCredit,
    Payable,
    Refused,
)
from tests.deterministic import DETERMINISTIC

FREE = 1000


class TwoWincAByte:
    """A price of 2 winc a byte; ``None`` (no price known) when ``known`` is False."""

    def __init__(self, known: bool = True) -> None:
        self.known = known

    def winc_for(self, byte_count: int) -> int | None:
        return 2 * byte_count if self.known else None


def policy(
    blocked: tuple[str, ...] = (),
    allowed: tuple[str, ...] = (),
    priced: bool | None = None,
) -> AdmissionPolicy:
    return AdmissionPolicy(
        blocklist=frozenset(blocked),
        allow_list=frozenset(allowed),
        free_upload_limit_bytes=FREE,
        price=NoCredit() if priced is None else TwoWincAByte(priced),
    )


@pytest.mark.parametrize(
    ("rules", "size", "expected"),
    [
        (policy(), FREE, Admitted(0)),
        (policy(), FREE + 1, INSUFFICIENT_BALANCE),
        (policy(blocked=("owner",)), 1, FORBIDDEN),
        (policy(blocked=("native",)), 1, FORBIDDEN),
        (policy(allowed=("owner",)), 10**9, Admitted(0)),
        (policy(allowed=("native",)), 10**9, Admitted(0)),
        (policy(blocked=("owner",), allowed=("native",)), 1, FORBIDDEN),
        (policy(priced=True), 2500, Payable(5000)),
        (policy(priced=False), 2500, NO_PRICE),
        (policy(priced=True, allowed=("owner",)), 2500, Admitted(0)),
        (policy(priced=True, blocked=("native",)), 1, FORBIDDEN),
        (policy(priced=True), FREE, Admitted(0)),  # free tier before price
    ],
)
def test_decide_in_upstreams_order(rules: AdmissionPolicy, size: int, expected: object) -> None:
    assert rules.decide("owner", "native", size) == expected


def test_the_refusals_say_what_upstream_says() -> None:
    assert Refused(403, "Forbidden") == FORBIDDEN
    assert Refused(402, "Insufficient balance") == INSUFFICIENT_BALANCE


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (policy(), None),
        (policy(blocked=("owner",)), FORBIDDEN),
        (policy(blocked=("native",)), FORBIDDEN),
        (policy(blocked=("native",), allowed=("owner",)), FORBIDDEN),
        (policy(priced=True), None),  # the price needs the size: not decided early
    ],
)
def test_refuses_early_decides_the_blocklist_only(
    rules: AdmissionPolicy, expected: Refused | None
) -> None:
    assert rules.refuses_early("owner", "native") == expected


addresses = st.sampled_from(["owner", "native", "other"])
policies = st.builds(
    policy,
    blocked=st.lists(addresses, max_size=2).map(tuple),
    allowed=st.lists(addresses, max_size=2).map(tuple),
    priced=st.none() | st.booleans(),
)


@DETERMINISTIC
@given(policies, st.integers(0, 10_000))
def test_an_early_refusal_is_the_full_decisions_refusal(rules: AdmissionPolicy, size: int) -> None:
    early = rules.refuses_early("owner", "native")
    if early is not None:
        assert rules.decide("owner", "native", size) == early
    blocked = "owner" in rules.blocklist or "native" in rules.blocklist
    assert (early == FORBIDDEN) == blocked


@DETERMINISTIC
@given(policies, st.integers(0, 10_000), st.integers(0, 10_000))
def test_an_admitted_size_admits_every_smaller_size(
    rules: AdmissionPolicy, size: int, smaller: int
) -> None:
    smaller = min(size, smaller)
    if isinstance(rules.decide("owner", "native", size), Admitted):
        assert isinstance(rules.decide("owner", "native", smaller), Admitted)


@DETERMINISTIC
@given(policies, st.integers(0, 10_000))
def test_only_an_item_beyond_the_free_tier_from_an_unlisted_owner_is_payable(
    rules: AdmissionPolicy, size: int
) -> None:
    decision = rules.decide("owner", "native", size)
    listed = {"owner", "native"} & (set(rules.allow_list) | set(rules.blocklist))
    assert isinstance(decision, Payable) == (
        size > FREE and not listed and rules.price.winc_for(size) is not None
    )
    if isinstance(decision, Payable):
        assert decision.winc == 2 * size
    if isinstance(decision, Admitted):
        assert decision.winc == 0


def test_without_the_free_tier_every_byte_is_priced_but_the_lists_still_hold() -> None:
    priced = policy(blocked=("b",), allowed=("a",), priced=True).without_free_tier()
    assert priced.decide("o", "n", 1) == Payable(winc=2)
    assert priced.decide("o", "n", FREE) == Payable(winc=2 * FREE)
    assert priced.decide("a", "a", FREE + 1) == Admitted(winc=0)
    assert priced.decide("b", "b", 1) == FORBIDDEN
