"""x402 "exact" payments in USDC (PAYMENTS.md §6): the price, the requirements, the checks.

A client pays by signing an EIP-3009 ``TransferWithAuthorization`` over EIP-712 (domain:
the token's name and version, the chain id, the token contract) and sending it, base64
JSON, in ``X-PAYMENT``. Everything here is pure: time comes in as ``now`` (Unix
seconds), rates as ``Fraction``; the facilitator's verify and settle are the edge's.

Checks run in upstream's order and each refusal names its rule: version, scheme and
network; value at least the quote and the recipient our ``payTo``; a validity window
that is open now and stays open ``VALID_BEFORE_MARGIN_S`` more; the signature recovers
to ``from``.
"""

import base64
import binascii
import json
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

X402_VERSION = 1
SCHEME = "exact"
USDC_PER_DOLLAR = 10**6
WINC_PER_AR = 10**12
# Upstream's verifier wants validBefore at least this far ahead of now.
VALID_BEFORE_MARGIN_S = 6

_AUTHORIZATION_TYPES = {
    "TransferWithAuthorization": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "validAfter", "type": "uint256"},
        {"name": "validBefore", "type": "uint256"},
        {"name": "nonce", "type": "bytes32"},
    ]
}


@dataclass(frozen=True)
class Token:
    """The token a network's payments are in, and its EIP-712 domain."""

    network: str
    chain_id: int
    asset: str
    name: str
    version: str


@dataclass(frozen=True)
class Authorization:
    """The EIP-3009 authorization inside an ``X-PAYMENT`` header."""

    payer: str  # ``from``
    to: str
    value: int
    valid_after: int
    valid_before: int
    nonce: str  # 0x + 64 hex digits


@dataclass(frozen=True)
class Payment:
    """A decoded ``X-PAYMENT``: the authorization, its signature, and the JSON as sent
    (what the facilitator is given)."""

    version: int
    scheme: str
    network: str
    authorization: Authorization
    signature: str
    document: dict[str, Any]


@dataclass(frozen=True)
class PaymentRefused:
    """Why a payment does not pay for this upload; ``rule`` names the check."""

    rule: str
    message: str


def usdc_price(reward_winc: int, ar_usd: Fraction, buffer_percent: int, min_usdc: int) -> int:
    """Upstream's quote: ``max(min, ceil(ceil(reward * (1 + buffer)) / 1e12 * AR_USD * 1e6))``."""
    buffered = math.ceil(Fraction(reward_winc) * (100 + buffer_percent) / 100)
    return max(min_usdc, math.ceil(Fraction(buffered) / WINC_PER_AR * ar_usd * USDC_PER_DOLLAR))


def winc_for_usdc(value: int, ar_usd: Fraction) -> int:
    """What a payment of ``value`` USDC base units buys: ``floor(value / 1e6 / AR_USD * 1e12)``."""
    return math.floor(Fraction(value) / USDC_PER_DOLLAR / ar_usd * WINC_PER_AR)


def requirements(
    token: Token,
    amount: int,
    pay_to: str,
    resource: str,
    max_timeout_s: int,
    description: str = "Upload a data item to Arweave",
) -> dict[str, Any]:
    """One ``accepts`` entry of a 402 answer, as upstream writes it."""
    return {
        "scheme": SCHEME,
        "network": token.network,
        "maxAmountRequired": str(amount),
        "resource": resource,
        "description": description,
        "mimeType": "application/json",
        "outputSchema": {},
        "payTo": pay_to,
        "maxTimeoutSeconds": max_timeout_s,
        "asset": token.asset,
        "extra": {"name": token.name, "version": token.version},
    }


def payment_required(accepts: list[dict[str, Any]], error: str) -> dict[str, Any]:
    """The body of a 402: ``{x402Version, error, accepts}``."""
    return {"x402Version": X402_VERSION, "error": error, "accepts": accepts}


def decode_payment(header: str) -> Payment | PaymentRefused:
    """``X-PAYMENT`` (base64 of JSON) to a ``Payment``, or why it is not one."""
    try:
        document = json.loads(base64.b64decode(header, validate=True))
        payload = document["payload"]
        auth = payload["authorization"]
        return Payment(
            version=int(document["x402Version"]),
            scheme=str(document["scheme"]),
            network=str(document["network"]),
            authorization=Authorization(
                payer=str(auth["from"]),
                to=str(auth["to"]),
                value=int(auth["value"]),
                valid_after=int(auth["validAfter"]),
                valid_before=int(auth["validBefore"]),
                nonce=str(auth["nonce"]),
            ),
            signature=str(payload["signature"]),
            document=document,
        )
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        return PaymentRefused("malformed", f"X-PAYMENT is not an x402 payment: {exc}")


def check_payment(
    payment: Payment, token: Token, quote: int, pay_to: str, now: int
) -> PaymentRefused | None:
    """Every local check, in upstream's order; None when the payment pays ``quote``."""
    auth = payment.authorization
    if payment.version != X402_VERSION:
        return PaymentRefused("version", f"x402Version {payment.version} is not supported")
    if payment.scheme != SCHEME:
        return PaymentRefused("scheme", f"scheme {payment.scheme!r} is not supported")
    if payment.network != token.network:
        return PaymentRefused("network", f"network {payment.network!r} is not accepted")
    if auth.value < quote:
        return PaymentRefused("amount", f"authorized {auth.value}, the price is {quote}")
    if auth.to.lower() != pay_to.lower():
        return PaymentRefused("recipient", f"the authorization pays {auth.to}, not {pay_to}")
    if auth.valid_before < now + VALID_BEFORE_MARGIN_S:
        return PaymentRefused("expired", "the authorization expires too soon")
    if auth.valid_after > now:
        return PaymentRefused("not-yet-valid", "the authorization is not valid yet")
    if not _signed_by_payer(payment, token):
        return PaymentRefused("signature", "the EIP-712 signature is not the payer's")
    return None


def typed_authorization(auth: Authorization, token: Token) -> dict[str, Any]:
    """The EIP-712 document a payer signs (EIP-3009 ``TransferWithAuthorization``)."""
    return {
        "domain": {
            "name": token.name,
            "version": token.version,
            "chainId": token.chain_id,
            "verifyingContract": token.asset,
        },
        "types": _AUTHORIZATION_TYPES,
        "primaryType": "TransferWithAuthorization",
        "message": {
            "from": auth.payer,
            "to": auth.to,
            "value": auth.value,
            "validAfter": auth.valid_after,
            "validBefore": auth.valid_before,
            "nonce": bytes.fromhex(auth.nonce.removeprefix("0x")),
        },
    }


def _signed_by_payer(payment: Payment, token: Token) -> bool:
    typed = typed_authorization(payment.authorization, token)
    try:
        message = encode_typed_data(full_message=typed)
        signer = Account.recover_message(message, signature=payment.signature)
    except (ValueError, TypeError):
        return False
    return bool(signer.lower() == payment.authorization.payer.lower())


def payment_response(success: bool, transaction: str, network: str, payer: str) -> str:
    """``X-Payment-Response``: base64 of the settlement's JSON, as upstream sends it."""
    body = {"success": success, "transaction": transaction, "network": network, "payer": payer}
    return base64.b64encode(json.dumps(body).encode()).decode()
