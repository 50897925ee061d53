"""Price, rates and balance routes, in upstream's shapes (PAYMENTS.md §1, §8).

Handlers parse, ask ``api.payments`` (cached values and the ledger projection), and
encode; bad input is a 400 with the reason, a missing price or rate a 503 named as
upstream names it.
"""

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bundlestream.adapters.ledger_queries import ApprovalRow, LedgerUnavailable
from bundlestream.api.payments import OracleUnavailable, Payments
from bundlestream.api.top_ups import submit_top_up
from bundlestream.core import pricing
from bundlestream.core.ans104.addresses import normalised_address
from bundlestream.core.signed_requests import signer_address

Handler = Callable[[Request], Awaitable[Response]]


def _count(text: str, what: str) -> int:
    if not text.isdigit():
        raise pricing.PriceError(f"{what} must be a non-negative integer, not {text!r}")
    return int(text)


def guarded(oracle: str, handler: Callable[[Payments, Request], Response]) -> Handler:
    """Run ``handler``; PriceError → 400, a missing price or rate → 503 ``oracle``."""

    async def endpoint(request: Request) -> Response:
        try:
            return handler(request.state.payments, request)
        except pricing.PriceError as exc:
            return PlainTextResponse(str(exc), status_code=400)
        except OracleUnavailable:
            return PlainTextResponse(oracle, status_code=503)

    return endpoint


def price_bytes(p: Payments, request: Request) -> Response:
    quote = p.bytes_quote(_count(request.path_params["n"], "byte count"))
    body = {"winc": str(quote.winc), "adjustments": [a.as_json() for a in quote.adjustments]}
    return JSONResponse(body, headers={"Cache-Control": "max-age=60"})


def price_payment(p: Payments, request: Request) -> Response:
    unit, amount = request.path_params["unit"], _count(request.path_params["amount"], "amount")
    if unit in pricing.FIAT_CURRENCIES:
        quote = pricing.fiat_quote(unit, amount, p.rate("arweave", unit), [p.fee])
        fees = [a.as_json() for a in quote.adjustments]
        return JSONResponse(
            {
                "winc": str(quote.winc),
                "adjustments": [],
                "fees": fees,
                "actualPaymentAmount": amount,
                "quotedPaymentAmount": amount,
            }
        )
    quote = p.token_quote(unit, amount)
    fees = [a.as_json() for a in quote.adjustments]
    return JSONResponse({"winc": str(quote.winc), "fees": fees, "actualPaymentAmount": amount})


def rates(p: Payments, request: Request) -> Response:
    gib = p.bytes_quote(pricing.GIB, with_item_fee=False).winc
    fiat = {c: pricing.fiat_per_gib(gib, r, p.fee.magnitude) for c, r in p.fiat_rates().items()}
    return JSONResponse({"winc": str(gib), "fiat": fiat, "adjustments": []})


def rate(p: Payments, request: Request) -> Response:
    currency = request.path_params["currency"].lower()
    found = p.fiat_rates().get(currency)
    if found is None:
        return PlainTextResponse(f"Invalid currency: {currency}", status_code=404)
    return JSONResponse({"currency": currency, "rate": float(found)})


def currencies(p: Payments, request: Request) -> Response:
    supported = list(p.fiat_rates())
    limits = {c: _limits(c) for c in supported}
    return JSONResponse({"supportedCurrencies": supported, "limits": limits})


def _limits(currency: str) -> dict[str, object]:
    # Upstream's USD limits in minor units (PAYMENTS.md §2, "Currency limits"); they are
    # enforced on top-ups only, which are not built yet, so every currency shows them.
    zero = currency in pricing.ZERO_DECIMAL_CURRENCIES
    return {
        "minimumPaymentAmount": 500,
        "maximumPaymentAmount": 1_000_000,
        "suggestedPaymentAmounts": [2500, 5000, 10000],
        "stripeMinimumPaymentAmount": 50,
        "zeroDecimalCurrency": zero,
    }


def _approval(row: ApprovalRow) -> dict[str, object]:
    return {
        "approvalDataItemId": row.approval_id,
        "approvedAddress": row.approved_address,
        "payingAddress": row.paying_address,
        "approvedWincAmount": row.approved_winc,
        "usedWincAmount": row.used_winc,
        "creationDate": _iso(row.created_at),
        **({"expirationDate": _iso(row.expires_at)} if row.expires_at else {}),
    }


def _iso(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat() if isoformat else value)


async def balance(request: Request) -> Response:
    """GET /v1/account/balance/:token?address= from the balances projection."""
    address = request.query_params.get("address", "")
    if not address:
        return PlainTextResponse("Missing address query parameter", status_code=400)
    return await balance_of(request.state.payments, address)


async def signed_balance(request: Request) -> Response:
    """GET /v1/balance: the signer of ``x-signature`` over ``x-nonce``, else ``?address=``
    (upstream's fallback); neither is a 403."""
    address = signer_address(request.headers) or request.query_params.get("address", "")
    if not address:
        return PlainTextResponse("Invalid signature or missing required headers", 403)
    return await balance_of(request.state.payments, address)


async def balance_of(p: Payments, given_address: str) -> Response:
    """The balance body of ``address`` (an EVM one in any case: balances are kept by its
    EIP-55 form); 404 "User Not Found" for an unknown one."""
    address = normalised_address(given_address)
    try:
        winc, approvals = await p.ledger.balance(address), await p.ledger.approvals(address)
    except LedgerUnavailable:
        return PlainTextResponse("Service Unavailable", status_code=503)
    given = [a for a in approvals if a.paying_address == address]
    received = [a for a in approvals if a.approved_address == address]
    if winc is None and not received:
        return PlainTextResponse("User Not Found", status_code=404)
    own = winc or 0
    left = [int(a.approved_winc) - int(a.used_winc) for a in given]
    came = [int(a.approved_winc) - int(a.used_winc) for a in received]
    body = {
        "winc": str(own),
        "balance": str(own),
        "controlledWinc": str(own + sum(left)),
        "effectiveBalance": str(own + sum(came)),
        "givenApprovals": [_approval(a) for a in given],
        "receivedApprovals": [_approval(a) for a in received],
    }
    return JSONResponse(body)


async def user_approvals(request: Request) -> Response:
    """GET /v1/account/approvals/get?userAddress=: live approvals given and received."""
    address = request.query_params.get("userAddress", "")
    if not address:
        return PlainTextResponse("Missing userAddress query parameter", status_code=400)
    p: Payments = request.state.payments
    try:
        approvals = await p.ledger.approvals(address)
    except LedgerUnavailable:
        return PlainTextResponse("Service Unavailable", status_code=503)
    given = [_approval(a) for a in approvals if a.paying_address == address]
    received = [_approval(a) for a in approvals if a.approved_address == address]
    return JSONResponse({"givenApprovals": given, "receivedApprovals": received})


async def pair_approvals(request: Request) -> Response:
    """GET /v1/account/approvals?payingAddress&approvedAddress: the live approvals of one
    payer to one address, what is left of them, and the last expiry (400 when none)."""
    payer = request.query_params.get("payingAddress", "")
    approved = request.query_params.get("approvedAddress", "")
    if not (payer and approved):
        return PlainTextResponse("Missing payingAddress or approvedAddress", status_code=400)
    p: Payments = request.state.payments
    try:
        found = [a for a in await p.ledger.approvals(payer) if a.approved_address == approved]
    except LedgerUnavailable:
        return PlainTextResponse("Service Unavailable", status_code=503)
    if not found:
        return PlainTextResponse("No approvals found", status_code=400)
    left = sum(int(a.approved_winc) - int(a.used_winc) for a in found)
    ends = [a.expires_at for a in found]
    expires_by = None if None in ends else _iso(max(ends))  # type: ignore[type-var]
    body = {"approvals": [_approval(a) for a in found], "amount": str(left)}
    return JSONResponse({**body, **({"expiresBy": expires_by} if expires_by else {})})


def routes() -> list[Route]:
    """Under ``/v1`` as upstream's payment service serves them."""
    pricing_oracle, fiat_oracle = "Pricing Oracle Unavailable", "Fiat Oracle Unavailable"
    table: list[tuple[str, Handler]] = [
        ("/v1/price/bytes/{n}", guarded(pricing_oracle, price_bytes)),
        ("/v1/price/{unit}/{amount}", guarded(fiat_oracle, price_payment)),
        ("/v1/rates", guarded(pricing_oracle, rates)),
        ("/v1/rates/{currency}", guarded(fiat_oracle, rate)),
        ("/v1/currencies", guarded(fiat_oracle, currencies)),
        ("/v1/account/balance/{token}", balance),
        ("/v1/balance", signed_balance),
        ("/v1/account/approvals/get", user_approvals),
        ("/v1/account/approvals", pair_approvals),
    ]
    top_ups = [
        Route(path, submit_top_up, methods=["POST"])
        for path in ("/v1/account/balance/{token}", "/account/balance/{token}")
    ]
    return [Route(path, handler, methods=["GET"]) for path, handler in table] + top_ups
