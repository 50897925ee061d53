"""Pricing formulas on exact values (PAYMENTS.md §2) and their laws."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bundlestream.core.pricing import (
    TEN_GIB,
    Adjustment,
    PriceError,
    adjust,
    fiat_per_gib,
    fiat_quote,
    network_winc,
    per_item_winc,
    token_quote,
    upload_quote,
)

FEE = Adjustment("Turbo Infrastructure Fee", "inclusive fee", "multiply", Fraction("0.766"))


def test_bytes_scale_linearly_from_the_10_gib_price_and_round_up() -> None:
    assert network_winc(TEN_GIB, 1) == 1
    assert network_winc(10_000_000_000, 1024) == 954  # 953.67... rounded up
    assert network_winc(10_000_000_000, 0) == 0
    assert network_winc(10_000_000_000, TEN_GIB) == 10_000_000_000


def test_an_upload_quote_adds_the_per_item_fee_after_the_adjustments() -> None:
    half = Adjustment("subsidy", "half price", "multiply", Fraction(1, 2))
    quote = upload_quote(TEN_GIB, 1001, [half], item_fee=7)
    assert quote.winc == 500 + 7
    assert [(a.adjustment.name, a.winc) for a in quote.adjustments] == [("subsidy", -501)]
    assert quote.adjustments[0].as_json()["adjustmentAmount"] == "-501"
    with pytest.raises(PriceError):
        upload_quote(-1, 1, [], 0)


def test_the_per_item_fee_is_upstreams_twenty_micro_dollars_rounded_up() -> None:
    # $0.00002 at $20/AR = 1e-6 AR = 1,000,000 winc.
    assert per_item_winc(Fraction("0.00002"), Fraction(20)) == 1_000_000
    assert per_item_winc(Fraction("0.00002"), Fraction(3)) == 6_666_667


def test_adjustments_clamp_at_zero() -> None:
    minus = Adjustment("credit", "", "add", Fraction(-50))
    assert adjust(30, [minus]).winc == 0
    assert adjust(30, [minus]).adjustments[0].winc == -30


def test_one_ar_of_arweave_buys_one_ar_of_winc_less_the_fee() -> None:
    quote = token_quote("arweave", 10**12, Fraction(20), Fraction(20), [FEE])
    assert quote.winc == 766_000_000_000
    assert quote.adjustments[0].winc == -234_000_000_000


def test_one_ether_at_3000_usd_and_ar_at_20_usd_buys_150_ar() -> None:
    assert token_quote("ethereum", 10**18, Fraction(3000), Fraction(20), []).winc == 150 * 10**12


def test_token_errors_name_the_problem() -> None:
    with pytest.raises(PriceError, match="unsupported token"):
        token_quote("dogecoin", 1, Fraction(1), Fraction(1), [])
    with pytest.raises(PriceError, match="less than 1 winc"):
        token_quote("ethereum", 1, Fraction(1), Fraction(20), [])


def test_fiat_is_in_minor_units_except_zero_decimal_currencies() -> None:
    assert fiat_quote("usd", 1000, Fraction(20), []).winc == 500_000_000_000  # $10 at $20/AR
    assert fiat_quote("jpy", 3000, Fraction(3000), []).winc == 10**12
    with pytest.raises(PriceError, match="unsupported currency"):
        fiat_quote("xyz", 1, Fraction(1), [])


def test_rates_price_a_gib_before_the_fee() -> None:
    assert fiat_per_gib(10**12, Fraction(20), Fraction("0.766")) == pytest.approx(20 / 0.766)


@given(st.integers(0, 10**15), st.integers(0, 2 * TEN_GIB), st.integers(0, 2 * TEN_GIB))
def test_price_never_decreases_with_size(price: int, a: int, b: int) -> None:
    small, large = sorted((a, b))
    assert network_winc(price, small) <= network_winc(price, large)
    assert network_winc(price, small + large) <= network_winc(price, small) + network_winc(
        price, large
    )


@given(st.integers(0, 10**18), st.fractions(0, 2).filter(lambda f: f >= 0))
def test_a_multiplier_below_one_never_raises_the_price(winc: int, factor: Fraction) -> None:
    quote = adjust(winc, [Adjustment("m", "", "multiply", factor)])
    assert quote.winc >= 0
    assert quote.winc == winc + quote.adjustments[0].winc
    if factor <= 1:
        assert quote.winc <= winc
