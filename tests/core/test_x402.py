"""x402 in the core: the price formula, the X-PAYMENT header, and each check by its rule,
on authorizations signed for real with eth-account (EIP-712)."""

import base64
import json
import math
import secrets
from fractions import Fraction

from eth_account import Account
from eth_account.messages import encode_typed_data
from hypothesis import given
from hypothesis import strategies as st

from bundlestream.core import x402

PAYER = Account.from_key("0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6")
PAY_TO = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
TOKEN = x402.Token(
    "base-sepolia", 84532, "0x5FbDB2315678afecb367f032d93F642f64180aa3", "USD Coin", "2"
)
NOW = 1_800_000_000


def signed_header(
    value: int,
    *,
    to: str = PAY_TO,
    valid_before: int = NOW + 300,
    valid_after: int = NOW - 600,
    token: x402.Token = TOKEN,
    network: str = "base-sepolia",
    version: int = 1,
) -> str:
    auth = x402.Authorization(
        payer=PAYER.address,
        to=to,
        value=value,
        valid_after=valid_after,
        valid_before=valid_before,
        nonce="0x" + secrets.token_hex(32),
    )
    typed = x402.typed_authorization(auth, token)
    signature = PAYER.sign_message(encode_typed_data(full_message=typed)).signature.hex()
    document = {
        "x402Version": version,
        "scheme": "exact",
        "network": network,
        "payload": {
            "signature": "0x" + signature.removeprefix("0x"),
            "authorization": {
                "from": auth.payer,
                "to": auth.to,
                "value": str(auth.value),
                "validAfter": str(auth.valid_after),
                "validBefore": str(auth.valid_before),
                "nonce": auth.nonce,
            },
        },
    }
    return base64.b64encode(json.dumps(document).encode()).decode()


def rule(header: str, quote: int = 5000) -> str | None:
    payment = x402.decode_payment(header)
    assert isinstance(payment, x402.Payment)
    refused = x402.check_payment(payment, TOKEN, quote, PAY_TO, NOW)
    return None if refused is None else refused.rule


def test_the_price_is_upstreams_formula_with_its_floor() -> None:
    ar_usd = Fraction(20)
    # 1 AR of reward at $20, plus 15 %: $23 = 23,000,000 base units.
    assert x402.usdc_price(10**12, ar_usd, 15, 1000) == 23_000_000
    assert x402.usdc_price(1, ar_usd, 15, 1000) == 1000  # the minimum
    assert x402.usdc_price(10**12, ar_usd, 0, 1000) == 20_000_000


@given(st.integers(1, 10**16), st.integers(0, 50), st.fractions(Fraction(1, 10), 1000))
def test_a_payment_of_the_quote_buys_at_least_the_reward(
    reward: int, buffer: int, ar_usd: Fraction
) -> None:
    quote = x402.usdc_price(reward, ar_usd, buffer, 1000)
    assert x402.winc_for_usdc(quote, ar_usd) >= reward
    assert quote >= math.ceil(Fraction(reward) / 10**12 * ar_usd * 10**6)


def test_a_payment_that_pays_passes_every_check() -> None:
    assert rule(signed_header(5000)) is None
    assert rule(signed_header(9000)) is None  # more than the quote: the rest is credited


def test_each_check_names_its_rule() -> None:
    assert rule(signed_header(4999)) == "amount"
    assert rule(signed_header(5000, to=PAYER.address)) == "recipient"
    assert rule(signed_header(5000, valid_before=NOW + 5)) == "expired"
    assert rule(signed_header(5000, valid_after=NOW + 1)) == "not-yet-valid"
    assert rule(signed_header(5000, network="base")) == "network"
    assert rule(signed_header(5000, version=2)) == "version"


def test_a_signature_for_another_domain_or_amount_is_refused() -> None:
    other_chain = x402.Token(TOKEN.network, 8453, TOKEN.asset, TOKEN.name, TOKEN.version)
    assert rule(signed_header(5000, token=other_chain)) == "signature"
    other_name = x402.Token(TOKEN.network, TOKEN.chain_id, TOKEN.asset, "USDC", TOKEN.version)
    assert rule(signed_header(5000, token=other_name)) == "signature"
    document = json.loads(base64.b64decode(signed_header(5000)))
    document["payload"]["authorization"]["value"] = "500000"  # raised after signing
    assert rule(base64.b64encode(json.dumps(document).encode()).decode()) == "signature"


def test_a_header_that_is_not_a_payment_is_malformed() -> None:
    for header in ("not base64!", base64.b64encode(b"{}").decode(), ""):
        refused = x402.decode_payment(header)
        assert isinstance(refused, x402.PaymentRefused) and refused.rule == "malformed"


def test_the_requirements_carry_the_tokens_eip712_domain() -> None:
    accepts = x402.requirements(TOKEN, 1234, PAY_TO, "http://h/v1/x402/data-item/signed", 300)
    assert accepts["maxAmountRequired"] == "1234"
    assert accepts["extra"] == {"name": "USD Coin", "version": "2"}
    assert (accepts["scheme"], accepts["network"], accepts["asset"]) == (
        "exact",
        "base-sepolia",
        TOKEN.asset,
    )
    assert x402.payment_required([accepts], "e")["x402Version"] == 1
