"""``bundlestream ledger balance|history|credit``: operators' view of the ledger.

``balance`` and ``history`` read the projections (``ledger_balances``, ``ledger_journal``);
``credit`` writes a BalanceCredited event to the ledger topic and waits for acks=all:
money changes only by an event, never by editing a row. Output is JSON.
"""

import argparse
import json
import sys
import uuid
from datetime import UTC, datetime

from confluent_kafka import Producer
from psycopg import sql

from bundlestream.adapters.kafka_producer import producer_config
from bundlestream.core.ledger import Ledger, Refusal, decide_credit
from bundlestream.projections import postgres
from bundlestream.schemas.codec import encode
from bundlestream.schemas.topics import LEDGER_EVENTS
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection

_BALANCE = "SELECT winc::text, changes, changed_at FROM {}.ledger_balances WHERE address = %s"
_HISTORY = """
    SELECT changed_at, winc::text, reason, cause, cause_id, topic, "partition", "offset"
    FROM {}.ledger_journal WHERE address = %s ORDER BY changed_at, topic, "partition", "offset"
"""


def _query(settings: Settings, query: str, address: str) -> list[tuple[object, ...]]:
    statement = sql.SQL(query).format(sql.Identifier(settings.postgres.projections_schema))
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        return list(conn.execute(statement, (address,)).fetchall())


def run_balance(args: argparse.Namespace, settings: Settings) -> int:
    rows = _query(settings, _BALANCE, args.address)
    if not rows:
        print(json.dumps({"address": args.address, "error": "unknown address"}))
        return 1
    winc, changes, changed_at = rows[0]
    report = {"address": args.address, "winc": winc, "changes": changes}
    print(json.dumps({**report, "changedAt": _iso(changed_at)}))
    return 0


def run_history(args: argparse.Namespace, settings: Settings) -> int:
    keys = ("at", "winc", "reason", "cause", "causeId", "topic", "partition", "offset")
    for row in _query(settings, _HISTORY, args.address):
        print(json.dumps({k: _iso(v) for k, v in zip(keys, row, strict=True)}))
    return 0


def run_credit(args: argparse.Namespace, settings: Settings) -> int:
    credit_id = args.credit_id or f"operator:{uuid.uuid4()}"
    now = datetime.now(UTC)
    decided = decide_credit(
        Ledger(), args.address, args.winc, credit_id, "operator", args.reason, now
    )
    if isinstance(decided, Refusal):
        print(json.dumps({"error": decided.message, "rule": decided.rule}))
        return 2
    producer = Producer(producer_config(kafka_connection(settings)))
    for event in decided:
        producer.produce(
            LEDGER_EVENTS.full_name(settings.kafka.topic_prefix),
            encode(event),
            event.address.encode(),
        )
    if producer.flush(settings.kafka.delivery_timeout_s) > 0:
        print(json.dumps({"error": "the broker did not acknowledge the credit"}), file=sys.stderr)
        return 1
    print(json.dumps({"address": args.address, "winc": str(args.winc), "creditId": credit_id}))
    return 0


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def _winc(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of winc: {text!r}") from None


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``ledger balance|history|credit`` to the ``bundlestream`` command line."""
    ledger = subparsers.add_parser("ledger", help="balances and credits (the ledger topic)")
    actions = ledger.add_subparsers(dest="ledger_command", required=True)
    balance = actions.add_parser("balance", help="an address's balance (projections)")
    balance.add_argument("address")
    balance.set_defaults(run=run_balance)
    history = actions.add_parser("history", help="an address's journal, one JSON line a change")
    history.add_argument("address")
    history.set_defaults(run=run_history)
    credit = actions.add_parser("credit", help="credit winc to an address (a BalanceCredited)")
    credit.add_argument("address")
    credit.add_argument("winc", type=_winc)
    credit.add_argument("--reason", required=True, help="why; kept in the event")
    credit.add_argument("--credit-id", help="idempotency key (default: operator:<uuid4>)")
    credit.set_defaults(run=run_credit)
