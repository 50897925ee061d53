"""The payment API's resources and quotes: gateway price, rates, ledger reads.

Opened once in the app lifespan (``payments_api``); routes reach them through
``request.state.payments``. Every quote reads cached values only: the gateway price
and the rates are refreshed by background tasks, never fetched per request.
"""

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import httpx

from bundlestream.adapters.arweave_gateway import ArweaveGateway
from bundlestream.adapters.gateway_price import GatewayPrice
from bundlestream.adapters.kafka_producer import EventProducer
from bundlestream.adapters.ledger_queries import LedgerQueries, open_ledger_queries
from bundlestream.adapters.rates import CoinGeckoRates, FixedRates, Rates, RatesUnavailable
from bundlestream.adapters.receipt_key import load_or_create_receipt_key
from bundlestream.adapters.tasks import stop
from bundlestream.api.top_ups import TopUps
from bundlestream.core import pricing
from bundlestream.schemas.topics import LEDGER_EVENTS
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection


class OracleUnavailable(Exception):
    """No gateway price or no rates yet: upstream's 503 "... Oracle Unavailable"."""


@dataclass(frozen=True)
class Payments:
    """What the payment routes use."""

    price: GatewayPrice
    rates: Rates
    ledger: LedgerQueries
    usd_per_item: Fraction
    fee: pricing.Adjustment
    tokens_without_fees: frozenset[str]

    def rate(self, coin: str, fiat: str) -> Fraction:
        """Price of one ``coin`` in ``fiat``; OracleUnavailable when unknown."""
        try:
            value = self.rates.table().get(coin, {}).get(fiat)
        except RatesUnavailable as exc:
            raise OracleUnavailable(str(exc)) from exc
        if value is None or value <= 0:
            raise OracleUnavailable(f"no {coin}/{fiat} rate")
        return value

    def bytes_quote(self, byte_count: int, with_item_fee: bool = True) -> pricing.Quote:
        price_10gib = self.price.current()
        if price_10gib is None:
            raise OracleUnavailable("no gateway price yet")
        fee = pricing.per_item_winc(self.usd_per_item, self.rate("arweave", "usd"))
        return pricing.upload_quote(byte_count, price_10gib, [], fee if with_item_fee else 0)

    def winc_for(self, byte_count: int) -> int | None:
        """The upload path's price (core.admission.UploadPrice); None while unknown."""
        try:
            return self.bytes_quote(byte_count).winc
        except (OracleUnavailable, pricing.PriceError):
            return None

    def token_quote(self, token: str, amount: int) -> pricing.Quote:
        coin = pricing.COINGECKO_IDS.get(token)
        if coin is None:
            raise pricing.PriceError(f"unsupported token {token!r}")
        fees = [] if token in self.tokens_without_fees else [self.fee]
        ar_usd = self.rate("arweave", "usd")
        token_usd = ar_usd if coin == "arweave" else self.rate(coin, "usd")
        return pricing.token_quote(token, amount, token_usd, ar_usd, fees)

    def credit_for(self, token: str, amount: int) -> int | None:
        """The winc a payment of ``amount`` base units credits; None while unknown."""
        try:
            return self.token_quote(token, amount).winc
        except (OracleUnavailable, pricing.PriceError):
            return None

    def fiat_rates(self) -> dict[str, Fraction]:
        try:
            table = self.rates.table().get("arweave", {})
        except RatesUnavailable as exc:
            raise OracleUnavailable(str(exc)) from exc
        return {c: table[c] for c in pricing.FIAT_CURRENCIES if c in table}


def infrastructure_fee(multiplier: str) -> pricing.Adjustment:
    return pricing.Adjustment(
        "Turbo Infrastructure Fee",
        "Inclusive fee on payments (PAYMENTS.md §2)",
        "multiply",
        Fraction(multiplier),
    )


def rates_of(settings: Settings, client: httpx.AsyncClient) -> FixedRates | CoinGeckoRates:
    if settings.payments.rates_source == "fixed":
        return FixedRates(settings.payments.fixed_rates)
    coins = sorted(set(pricing.COINGECKO_IDS.values()))
    key = settings.payments.coingecko_api_key
    return CoinGeckoRates(
        client,
        settings.payments.coingecko_url,
        coins,
        pricing.FIAT_CURRENCIES,
        settings.payments.rates_refresh_s,
        key.get_secret_value() if key else None,
    )


@contextlib.asynccontextmanager
async def payments_api(settings: Settings) -> AsyncIterator[dict[str, Any]]:
    """Open the payment resources; yields the lifespan state entries."""
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(httpx.AsyncClient())
        price = GatewayPrice(
            client, settings.arweave.gateway_url, settings.payments.price_refresh_s
        )
        rates = rates_of(settings, client)
        tasks = [asyncio.create_task(price.run())]
        if isinstance(rates, CoinGeckoRates):
            tasks.append(asyncio.create_task(rates.run()))
        stack.push_async_callback(stop, *tasks)
        ledger = await stack.enter_async_context(
            open_ledger_queries(
                settings.postgres.dsn.get_secret_value(), settings.postgres.projections_schema
            )
        )
        payments = Payments(
            price,
            rates,
            ledger,
            Fraction(settings.payments.usd_price_per_data_item),
            infrastructure_fee(settings.payments.infrastructure_fee_multiplier),
            frozenset(settings.payments.tokens_without_fees),
        )
        top_ups = await top_ups_of(settings, stack, payments)
        yield {"payments": payments, "top_ups": top_ups}


async def top_ups_of(
    settings: Settings, stack: contextlib.AsyncExitStack, payments: Payments
) -> TopUps:
    """The top-up route's resources (its own producer: it never waits behind uploads)."""
    key = await asyncio.to_thread(
        load_or_create_receipt_key,
        settings.arweave.receipt_key_path,
        settings.arweave.receipt_key_size,
    )
    gateway = ArweaveGateway(settings.arweave.gateway_url)
    stack.push_async_callback(gateway.close)
    producer = EventProducer(kafka_connection(settings))
    stack.push_async_callback(producer.close)
    return TopUps(
        gateway=gateway,
        producer=producer,
        topic=LEDGER_EVENTS.full_name(settings.kafka.topic_prefix),
        addresses={"arweave": key.address, **settings.payments.addresses},
        required_confirmations=settings.streams.required_confirmations,
        excluded=frozenset(settings.payments.crypto_fund_excluded_addresses),
        quote=payments.credit_for,
        now=functools.partial(datetime.now, UTC),
    )
