"""The rates port: what one unit of each coin costs in each fiat currency.

``RateTable`` maps a CoinGecko coin id (``arweave``, ``ethereum``, ...) to fiat code to
price, as CoinGecko's ``simple/price`` answers. Two adapters: ``FixedRates`` (a table
given at start-up: the local default, no network) and ``CoinGeckoRates`` (any
``simple/price``-compatible HTTP source, cached and refreshed in the background, as
upstream cached its oracle for a minute, PAYMENTS.md §2).
"""

import asyncio
import logging
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Protocol

import httpx

log = logging.getLogger(__name__)

RateTable = Mapping[str, Mapping[str, Fraction]]


class RatesUnavailable(Exception):
    """No rates yet (the source has not answered since start-up)."""


class Rates(Protocol):
    """Coin prices in fiat; reads memory only."""

    def table(self) -> RateTable:
        """The current table; RatesUnavailable when there is none."""
        ...


class FixedRates:
    """A constant table (values as decimal strings or numbers, kept exact)."""

    def __init__(self, table: Mapping[str, Mapping[str, float | str]]) -> None:
        self._table = {
            coin: {fiat: Fraction(str(v)) for fiat, v in prices.items()}
            for coin, prices in table.items()
        }

    def table(self) -> RateTable:
        return self._table


class CoinGeckoRates:
    """``GET {base_url}/simple/price?ids=..&vs_currencies=..``, cached."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        coins: Sequence[str],
        currencies: Sequence[str],
        refresh_s: float,
        api_key: str | None = None,
    ) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/simple/price"
        self._params = {"ids": ",".join(coins), "vs_currencies": ",".join(currencies)}
        self._headers = {"x-cg-demo-api-key": api_key} if api_key else {}
        self._refresh_s = refresh_s
        self._table: RateTable | None = None

    def table(self) -> RateTable:
        if self._table is None:
            raise RatesUnavailable(f"no answer from {self._url} yet")
        return self._table

    async def refresh(self) -> None:
        """Fetch once; keep the previous table when the source fails."""
        try:
            response = await self._client.get(
                self._url, params=self._params, headers=self._headers, timeout=10.0
            )
            response.raise_for_status()
            self._table = _parse(response.json())
        except (httpx.HTTPError, ValueError, TypeError, AttributeError) as exc:
            log.warning("rates refresh from %s failed: %s", self._url, exc)

    async def run(self) -> None:
        """Refresh forever (cancel to stop); quicker retries until a first table exists."""
        while True:
            await self.refresh()
            delay = self._refresh_s if self._table is not None else min(1.0, self._refresh_s)
            await asyncio.sleep(delay)


def _parse(body: object) -> RateTable:
    if not isinstance(body, dict):
        raise ValueError(f"simple/price answered {type(body).__name__}, not an object")
    # str(): CoinGecko's JSON numbers are decimal; going through float text keeps them.
    return {
        str(coin): {str(fiat): Fraction(str(price)) for fiat, price in prices.items()}
        for coin, prices in body.items()
    }
