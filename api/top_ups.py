"""``POST /v1/account/balance/:token``: a crypto top-up submitted by its transaction id.

The transaction is looked up on the token's chain (``adapters/chain.py``: the Arweave
gateway for ``arweave``, a JSON-RPC node for ``ethereum`` and ``base-eth``),
judged by ``core.top_ups`` and recorded as ledger events keyed by the sender: a
TopUpSubmitted, followed at once by TopUpConfirmed + BalanceCredited when the transfer
already has its confirmations; otherwise the top-ups stage (``streams/top_ups.py``)
credits it later. Answers are upstream's (PAYMENTS.md §1, §8): 200 ``creditedTransaction``,
202 ``pendingTransaction``, 400 ``failedTransaction``, 404 for a transaction the chain
does not know, 503 when the chain, the rates or the broker do not answer. A transaction
submitted again, even concurrently, is credited once: its credit id is the transaction's.
"""

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from bundlestream.adapters.chain import ChainUnavailable, TopUpChain
from bundlestream.adapters.kafka_producer import BrokerUnavailable, EventProducer
from bundlestream.core.ledger import Refusal
from bundlestream.core.top_ups import Transfer, decide_submission
from bundlestream.schemas import ledger_events as ev
from bundlestream.schemas.codec import encode

# Bytes of a submission body: {"tx_id": "<43 characters>"} and some room.
_MAX_BODY = 4096


@dataclass(frozen=True)
class TopUps:
    """What the top-up route uses; ``quote(token, quantity)`` is the winc it credits
    (None while the rates are unknown)."""

    chains: Mapping[str, TopUpChain]  # the chain of each token, with its confirmations
    producer: EventProducer
    topic: str
    addresses: Mapping[str, str]  # our wallet per token
    excluded: Collection[str]
    quote: Callable[[str, int], int | None]
    now: Callable[[], datetime]

    async def submit(self, token: str, tx_id: str) -> Response:
        chain = self.chains.get(token)
        if chain is None or token not in self.addresses:
            return PlainTextResponse(f"Token not supported: {token}", status_code=400)
        try:
            transfer = await chain.chain.transfer(tx_id)
        except ChainUnavailable:
            return PlainTextResponse("Gateway Unavailable", status_code=503)
        if transfer is None:
            return PlainTextResponse("Transaction not found", status_code=404)
        return await self._decide(transfer, chain.confirmations)

    async def _decide(self, transfer: Transfer, confirmations: int) -> Response:
        winc = self.quote(transfer.token, transfer.quantity) if transfer.quantity > 0 else 0
        if winc is None:
            return PlainTextResponse("Pricing Oracle Unavailable", status_code=503)
        our = self.addresses[transfer.token]
        decided = decide_submission(transfer, winc, our, confirmations, self.now(), self.excluded)
        if isinstance(decided, Refusal):
            body = {"failedTransaction": _shape(transfer, winc, our), "message": decided.message}
            return JSONResponse(body, status_code=400)
        try:
            for event in decided:  # in order, in the sender's partition
                await self.producer.send(self.topic, event.address, encode(event))
        except BrokerUnavailable:
            return PlainTextResponse("Service Unavailable", status_code=503)
        if any(isinstance(e, ev.BalanceCredited) for e in decided):
            credited = {**_shape(transfer, winc, our), "blockHeight": transfer.block_height}
            body = {"creditedTransaction": credited, "message": "Transaction credited"}
            return JSONResponse(body)
        body = {"pendingTransaction": _shape(transfer, winc, our), "message": "Transaction pending"}
        return JSONResponse(body, status_code=202)


def _shape(transfer: Transfer, winc: int, our: str) -> dict[str, object]:
    """The transaction as upstream's responses describe it (the SDK reads these names)."""
    return {
        "transactionId": transfer.transaction_id,
        "tokenType": transfer.token,
        "transactionQuantity": str(transfer.quantity),
        "winstonCreditAmount": str(winc),
        "transactionSenderAddress": transfer.sender,
        "destinationAddress": transfer.sender,
        "destinationAddressType": transfer.token,
    }


def _tx_id(body: bytes) -> str | None:
    """``tx_id`` of a JSON body (upstream accepts JSON without a Content-Type)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    tx_id = parsed.get("tx_id") if isinstance(parsed, dict) else None
    return tx_id if isinstance(tx_id, str) and 0 < len(tx_id) <= 128 else None


async def submit_top_up(request: Request) -> Response:
    """POST /v1/account/balance/:token with ``{"tx_id": ...}``."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_BODY:
            return PlainTextResponse("Request body too large", status_code=413)
    tx_id = _tx_id(body)
    if tx_id is None:
        return PlainTextResponse("Missing or invalid tx_id", status_code=400)
    top_ups: TopUps = request.state.top_ups
    return await top_ups.submit(request.path_params["token"], tx_id)
