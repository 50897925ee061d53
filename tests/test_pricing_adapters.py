"""The price and rates adapters against real HTTP servers: arlocal, and a local
``simple/price`` server started by the test (same contract as CoinGecko's)."""

import asyncio
import json
import threading
from collections.abc import Iterator
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from bundlestream.adapters.gateway_price import REFERENCE_BYTES, GatewayPrice
from bundlestream.adapters.rates import CoinGeckoRates, FixedRates, RatesUnavailable


class SimplePrice(BaseHTTPRequestHandler):
    """Answers ``/simple/price`` for the ids and currencies asked, and records queries."""

    prices: ClassVar[dict[str, dict[str, float]]] = {
        "arweave": {"usd": 21.5, "eur": 19.75},
        "ethereum": {"usd": 3012.25, "eur": 2800},
    }
    queries: ClassVar[list[dict[str, list[str]]]] = []
    failing = False

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        SimplePrice.queries.append({**query, "key": [self.headers.get("x-cg-demo-api-key", "")]})
        if url.path != "/api/v3/simple/price" or SimplePrice.failing:
            self.send_response(503 if SimplePrice.failing else 404)
            self.end_headers()
            return
        ids, currencies = query["ids"][0].split(","), query["vs_currencies"][0].split(",")
        body = {c: {f: self.prices[c][f] for f in currencies} for c in ids if c in self.prices}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def simple_price() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SimplePrice)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    SimplePrice.queries, SimplePrice.failing = [], False
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    server.shutdown()
    server.server_close()


async def test_coingecko_rates_are_read_exactly_and_kept_when_the_source_fails(
    simple_price: str,
) -> None:
    async with httpx.AsyncClient() as client:
        rates = CoinGeckoRates(
            client, simple_price, ["arweave", "ethereum"], ["usd", "eur"], 60, api_key="k1"
        )
        with pytest.raises(RatesUnavailable):
            rates.table()
        await rates.refresh()
        table = rates.table()
        assert table["arweave"]["usd"] == Fraction("21.5")
        assert table["ethereum"] == {"usd": Fraction("3012.25"), "eur": Fraction(2800)}
        assert SimplePrice.queries[0] == {
            "ids": ["arweave,ethereum"],
            "vs_currencies": ["usd,eur"],
            "key": ["k1"],
        }
        SimplePrice.failing = True
        await rates.refresh()
        assert rates.table() == table


async def test_coingecko_rates_refresh_in_the_background(simple_price: str) -> None:
    async with httpx.AsyncClient() as client:
        rates = CoinGeckoRates(client, simple_price, ["arweave"], ["usd"], 0.05)
        task = asyncio.create_task(rates.run())
        try:
            while len(SimplePrice.queries) < 3:
                await asyncio.sleep(0.02)
        finally:
            task.cancel()
        assert rates.table() == {"arweave": {"usd": Fraction("21.5")}}


def test_fixed_rates_are_exact() -> None:
    rates = FixedRates({"arweave": {"usd": 0.1, "eur": "0.09"}})
    assert rates.table() == {"arweave": {"usd": Fraction(1, 10), "eur": Fraction(9, 100)}}


@pytest.mark.stack
async def test_the_gateway_price_is_arlocals_answer_for_10_gib(gateway_url: str) -> None:
    async with httpx.AsyncClient() as client:
        expected = int((await client.get(f"{gateway_url}/price/{REFERENCE_BYTES}")).text)
        price = GatewayPrice(client, gateway_url, 60)
        assert price.current() is None
        await price.refresh()
        assert price.current() == expected
        dead = GatewayPrice(client, "http://127.0.0.1:9", 60)
        await dead.refresh()
        assert dead.current() is None
