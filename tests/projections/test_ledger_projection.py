"""The ledger read model agrees with the core: journal rows are ``journal``'s lines and
their sums are ``fold``'s balances, on a log decided by the core itself."""

from collections import defaultdict

from bench.ledger_story import ledger_story
from bundlestream.core.ledger import fold, journal
from bundlestream.projections.projection import project
from bundlestream.projections.records import decode_record
from bundlestream.projections.rows import Position
from bundlestream.projections.tables import APPROVAL_SPENDS, LEDGER_JOURNAL
from bundlestream.schemas.codec import encode


def test_journal_rows_sum_to_the_folded_balances_even_when_redelivered() -> None:
    log = list(ledger_story(accounts=7, rounds=12))
    kinds = {type(e).__name__ for e in log}
    assert {"UploadCharged", "UploadRefunded", "ApprovalRevoked", "ApprovalExpired"} <= kinds
    records = [decode_record(encode(e)) for e in log]
    twice = [(r, Position("ledger.events", 0, n)) for n, r in enumerate(records + records)]
    rows = project(twice)
    sums: defaultdict[str, int] = defaultdict(int)
    for row in rows[LEDGER_JOURNAL]:
        sums[row[2]] += int(row[3])
    ledger = fold(log)
    assert {a: w for a, w in sums.items() if w} == {a: w for a, w in ledger.balances.items() if w}
    lines = sorted((e.cause, e.cause_id, e.address, e.winc) for ev in log for e in journal(ev))
    assert sorted((r[0], r[1], r[2], int(r[3])) for r in rows[LEDGER_JOURNAL]) == lines
    used: defaultdict[str, int] = defaultdict(int)
    for approval_id, _, kind, winc, _ in rows[APPROVAL_SPENDS]:
        used[approval_id] += int(winc) if kind == "charge" else -int(winc)
    assert {k: v for k, v in used.items() if v} == {
        k: a.used for k, a in ledger.approvals.items() if a.used
    }
