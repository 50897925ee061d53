"""Admission in upstream's order: blocklist, allow list, free tier, then balance; and the
refusal the header alone can decide (the blocklist) before the payload streams."""

import pytest
from bundlestream.core.admission import (
    FORBIDDEN,
    INSUFFICIENT_BALANCE,
    AdmissionPolicy,
    Admitted,
    NoCredit,
    Refused,
)
from hypothesis import given
from hypothesis import strategies as st

from tests.deterministic import DETERMINISTIC

FREE = 1000


class Credit:
    """A balance view with fixed credit: an owner can pay 2 winc a byte up to a budget."""

    def __init__(self, budgets: dict[str, int]) -> None:
        self.budgets = budgets

    def can_afford(self, native_address: str, byte_count: int) -> int | None:
        cost = 2 * byte_count
        return cost if cost <= self.budgets.get(native_address, 0) else None


def policy(
    blocked: tuple[str, ...] = (),
    allowed: tuple[str, ...] = (),
    budgets: dict[str, int] | None = None,
) -> AdmissionPolicy:
    return AdmissionPolicy(
        blocklist=frozenset(blocked),
        allow_list=frozenset(allowed),
        free_upload_limit_bytes=FREE,
        balance=NoCredit() if budgets is None else Credit(budgets),
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
        (policy(budgets={"native": 5000}), 2500, Admitted(5000)),
        (policy(budgets={"native": 5000}), 2501, INSUFFICIENT_BALANCE),
        (policy(budgets={"owner": 10**9}), 2000, INSUFFICIENT_BALANCE),  # paid by native
        (policy(budgets={"native": 10}), FREE, Admitted(0)),  # free tier before balance
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
        (policy(budgets={}), None),  # balance needs the size: not decided early
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
    budgets=st.none() | st.dictionaries(addresses, st.integers(0, 10_000)),
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
def test_only_the_balance_charges_and_within_the_owners_budget(
    rules: AdmissionPolicy, size: int
) -> None:
    decision = rules.decide("owner", "native", size)
    if isinstance(decision, Admitted) and decision.winc > 0:
        assert isinstance(rules.balance, Credit)
        assert size > FREE and decision.winc == 2 * size
        assert decision.winc <= rules.balance.budgets["native"]
