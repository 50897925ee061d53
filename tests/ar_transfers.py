"""AR transfers on arlocal for the top-up tests: a funded wallet sends winston to ours.

The transfer is built and signed by our own transaction code (``core.arweave_tx``) and
posted to the gateway as any wallet would; arlocal's ``/mint`` funds the sender and
``/mine`` adds the blocks that confirm it.
"""

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from bundlestream.core.arweave_tx import Tag, Transaction, sign_transaction, transaction_to_json
from bundlestream.core.encoding import b64url_decode
from bundlestream.core.jwk import ArweaveKey, arweave_key_from_jwk, jwk_from_private_key
from tests.bounds import GATEWAY_REQUEST_S


def funded_wallet(gateway_url: str, winston: int = 10**15) -> ArweaveKey:
    """A new 2048-bit Arweave key (quick to make) minted ``winston`` on arlocal."""
    key = arweave_key_from_jwk(jwk_from_private_key(rsa.generate_private_key(65537, 2048)))
    httpx.get(f"{gateway_url}/mint/{key.address}/{winston}", timeout=GATEWAY_REQUEST_S)
    return key


def anchored_transaction(
    gateway: httpx.Client,
    data_size: int,
    data_root: bytes,
    tags: tuple[Tag, ...] = (),
    target: str = "",
    quantity: int = 0,
) -> Transaction:
    """An unsigned transaction anchored and priced by the gateway."""
    anchor = gateway.get("/tx_anchor").raise_for_status().text
    reward = int(gateway.get(f"/price/{data_size}").raise_for_status().text)
    return Transaction(
        owner=b"",
        last_tx=b64url_decode(anchor),
        reward=reward,
        data_size=data_size,
        data_root=data_root,
        tags=tags,
        target=b64url_decode(target),
        quantity=quantity,
    )


def send_ar(gateway_url: str, key: ArweaveKey, target: str, quantity: int) -> str:
    """Post a transfer of ``quantity`` winston from ``key`` to ``target``; its id."""
    with httpx.Client(base_url=gateway_url, timeout=GATEWAY_REQUEST_S) as gateway:
        unsigned = anchored_transaction(gateway, 0, b"", target=target, quantity=quantity)
        tx = sign_transaction(unsigned, key)
        posted = gateway.post("/tx", json=transaction_to_json(tx))
        assert posted.status_code == 200, posted.text
        return tx.id


def mine(gateway_url: str, blocks: int) -> None:
    """``blocks`` blocks, one GET /mine each."""
    for _ in range(blocks):
        httpx.get(f"{gateway_url}/mine", timeout=GATEWAY_REQUEST_S).raise_for_status()
