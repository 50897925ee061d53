"""Prices in winc: bytes to store, and what a token or fiat payment buys (PAYMENTS.md §2).

Bytes: the gateway's price for 10 GiB (``GET /price/10737418240``) scaled linearly and
rounded up, not chunk-rounded, as upstream's ``getWCForBytes``; then the upload
adjustments in order (multiply rounds down, add adds; clamped at 0); then the per-item
fee ``ceil(usd_per_item * 1e12 / ar_usd)``. Payments: the token (or fiat) amount at the
oracle's rates, then the infrastructure fee multiplier (upstream's seeded 0.766).
Rates are passed in as ``Fraction`` so no float rounding reaches a winc amount.
"""

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

TEN_GIB = 10 * 1024**3
GIB = 1024**3
WINC_PER_AR = 10**12

# Base-unit decimals of each token the price route accepts (winston, wei, lamports, ...).
TOKEN_DECIMALS: Mapping[str, int] = {
    "arweave": 12,
    "ario": 6,
    "solana": 9,
    "ed25519": 9,
    "ethereum": 18,
    "base-eth": 18,
    "kyve": 6,
    "matic": 18,
    "pol": 18,
}
# CoinGecko ids of the tokens (upstream's oracle query, PAYMENTS.md §2 "Oracle").
COINGECKO_IDS: Mapping[str, str] = {
    "arweave": "arweave",
    "ario": "ar-io-network",
    "solana": "solana",
    "ed25519": "solana",
    "ethereum": "ethereum",
    "base-eth": "l2-standard-bridged-weth-base",
    "kyve": "kyve-network",
    "matic": "matic-network",
    "pol": "matic-network",
}
FIAT_CURRENCIES = ("aud", "brl", "cad", "eur", "gbp", "hkd", "inr", "jpy", "sgd", "usd")
ZERO_DECIMAL_CURRENCIES = frozenset({"jpy"})


class PriceError(ValueError):
    """An amount the formulas cannot price (unknown token, below one winc)."""


@dataclass(frozen=True)
class Adjustment:
    """One configured adjustment: ``multiply`` by or ``add`` ``magnitude``."""

    name: str
    description: str
    operator: Literal["multiply", "add"]
    magnitude: Fraction


@dataclass(frozen=True)
class AppliedAdjustment:
    """An adjustment with the winc it changed (negative for a fee)."""

    adjustment: Adjustment
    winc: int

    def as_json(self) -> dict[str, object]:
        """Upstream's adjustment object (``adjustments`` / ``fees`` arrays)."""
        a = self.adjustment
        return {
            "name": a.name,
            "description": a.description,
            "operator": a.operator,
            "operatorMagnitude": float(a.magnitude),
            "adjustmentAmount": str(self.winc),
        }


@dataclass(frozen=True)
class Quote:
    """A winc amount and the adjustments that made it."""

    winc: int
    adjustments: tuple[AppliedAdjustment, ...] = ()


def network_winc(price_10gib: int, byte_count: int) -> int:
    """The gateway's price for ``byte_count`` bytes: linear in bytes, rounded up."""
    return -(-price_10gib * byte_count // TEN_GIB)


def adjust(winc: int, adjustments: Sequence[Adjustment]) -> Quote:
    """Apply ``adjustments`` in order; each result is clamped at 0."""
    applied = []
    for a in adjustments:
        raw = winc * a.magnitude if a.operator == "multiply" else winc + a.magnitude
        after = max(0, math.floor(raw))
        applied.append(AppliedAdjustment(a, after - winc))
        winc = after
    return Quote(winc, tuple(applied))


@functools.lru_cache(maxsize=64)  # priced up to three times per upload; rates change rarely
def per_item_winc(usd_per_item: Fraction, ar_usd: Fraction) -> int:
    """The per-item fee in winc at the current AR price in USD."""
    if ar_usd <= 0:
        raise PriceError(f"AR price {ar_usd} is not positive")
    return math.ceil(usd_per_item * WINC_PER_AR / ar_usd)


def upload_quote(
    byte_count: int, price_10gib: int, adjustments: Sequence[Adjustment], item_fee: int
) -> Quote:
    """What storing one data item of ``byte_count`` bytes costs."""
    if byte_count < 0:
        raise PriceError(f"byte count {byte_count} < 0")
    quote = adjust(network_winc(price_10gib, byte_count), adjustments)
    return Quote(quote.winc + item_fee, quote.adjustments)


def token_quote(
    token: str, amount: int, token_usd: Fraction, ar_usd: Fraction, fees: Sequence[Adjustment]
) -> Quote:
    """Winc that ``amount`` base units of ``token`` buy: ``floor(tokens * token/AR *
    1e12)``, then ``fees`` (an empty list for a token without fees)."""
    decimals = TOKEN_DECIMALS.get(token)
    if decimals is None:
        raise PriceError(f"unsupported token {token!r}")
    if ar_usd <= 0 or token_usd <= 0:
        raise PriceError("rates must be positive")
    winc = math.floor(Fraction(amount, 10**decimals) * token_usd / ar_usd * WINC_PER_AR)
    if winc < 1:
        raise PriceError(f"{amount} {token} base units buy less than 1 winc")
    return adjust(winc, fees)


def fiat_quote(
    currency: str, amount: int, fiat_per_ar: Fraction, fees: Sequence[Adjustment]
) -> Quote:
    """Winc that ``amount`` minor units of ``currency`` buy, rounded to nearest, then fees."""
    if currency not in FIAT_CURRENCIES:
        raise PriceError(f"unsupported currency {currency!r}")
    if fiat_per_ar <= 0:
        raise PriceError("rates must be positive")
    units = Fraction(amount, 1 if currency in ZERO_DECIMAL_CURRENCIES else 100)
    winc = round(units / fiat_per_ar * WINC_PER_AR)
    return adjust(winc, fees)


def fiat_per_gib(gib_winc: int, fiat_per_ar: Fraction, fee_multiplier: Fraction) -> float:
    """``/v1/rates``' fiat price of 1 GiB: winc * fiat/AR / fee / 1e12, as upstream."""
    return float(Fraction(gib_winc) * fiat_per_ar / fee_multiplier / WINC_PER_AR)
