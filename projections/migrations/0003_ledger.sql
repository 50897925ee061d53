-- Read models of the ledger (topic ledger.events). As everywhere here, fact tables are
-- insert-only, keyed by each fact's natural id (first write wins), and the states are
-- views: a balance is the sum of its journal, so a replay in any batch split gives the
-- same numbers.

-- Every balance change: one row per (event, natural id, account).
CREATE TABLE ledger_journal (
    cause           text COLLATE "C" NOT NULL,
    cause_id        text COLLATE "C" NOT NULL,
    address         text COLLATE "C" NOT NULL,
    winc            numeric(80, 0) NOT NULL,
    reason          text NOT NULL,
    topic           text NOT NULL,
    "partition"     integer NOT NULL,
    "offset"        bigint NOT NULL,
    changed_at      timestamptz NOT NULL,
    PRIMARY KEY (cause, cause_id, address)
);
CREATE INDEX ledger_journal_address ON ledger_journal (address);

CREATE TABLE top_ups_submitted (
    token           text COLLATE "C" NOT NULL,
    transaction_id  text COLLATE "C" NOT NULL,
    address         text COLLATE "C" NOT NULL,
    quantity        numeric(80, 0) NOT NULL,
    winc            numeric(80, 0) NOT NULL,
    submitted_at    timestamptz NOT NULL,
    PRIMARY KEY (token, transaction_id)
);
CREATE TABLE top_ups_confirmed (
    token           text COLLATE "C" NOT NULL,
    transaction_id  text COLLATE "C" NOT NULL,
    winc            numeric(80, 0) NOT NULL,
    block_height    bigint NOT NULL,
    confirmed_at    timestamptz NOT NULL,
    PRIMARY KEY (token, transaction_id)
);
CREATE TABLE top_ups_failed (
    token           text COLLATE "C" NOT NULL,
    transaction_id  text COLLATE "C" NOT NULL,
    reason          text NOT NULL,
    failed_at       timestamptz NOT NULL,
    PRIMARY KEY (token, transaction_id)
);

CREATE TABLE approvals_created (
    approval_id       text COLLATE "C" PRIMARY KEY,
    paying_address    text COLLATE "C" NOT NULL,
    approved_address  text COLLATE "C" NOT NULL,
    winc              numeric(80, 0) NOT NULL,
    expires_at        timestamptz,
    created_at        timestamptz NOT NULL
);
CREATE INDEX approvals_created_paying ON approvals_created (paying_address);
CREATE INDEX approvals_created_approved ON approvals_created (approved_address);
-- Spends (charges, +) and refills (refunds, -) of approvals by uploads.
CREATE TABLE approval_spends (
    approval_id   text COLLATE "C" NOT NULL,
    data_item_id  text COLLATE "C" NOT NULL,
    kind          text COLLATE "C" NOT NULL,
    winc          numeric(80, 0) NOT NULL,
    spent_at      timestamptz NOT NULL,
    PRIMARY KEY (approval_id, data_item_id, kind)
);
-- Ends: revoked or expired (ApprovalUsed is derived: remaining 0).
CREATE TABLE approval_ends (
    approval_id    text COLLATE "C" PRIMARY KEY,
    reason         text NOT NULL,
    returned_winc  numeric(80, 0) NOT NULL,
    ended_at       timestamptz NOT NULL
);

CREATE VIEW ledger_balances AS
SELECT address, sum(winc) AS winc, count(*) AS changes, max(changed_at) AS changed_at
FROM ledger_journal
GROUP BY address;

CREATE VIEW pending_top_ups AS
SELECT s.*
FROM top_ups_submitted s
WHERE NOT EXISTS (SELECT 1 FROM top_ups_confirmed c
                  WHERE c.token = s.token AND c.transaction_id = s.transaction_id)
  AND NOT EXISTS (SELECT 1 FROM top_ups_failed f
                  WHERE f.token = s.token AND f.transaction_id = s.transaction_id);

CREATE VIEW approvals AS
SELECT
    a.approval_id,
    a.paying_address,
    a.approved_address,
    a.winc AS approved_winc,
    coalesce(u.used, 0) AS used_winc,
    CASE WHEN e.approval_id IS NOT NULL THEN 0 ELSE a.winc - coalesce(u.used, 0) END
        AS remaining_winc,
    CASE
        WHEN e.approval_id IS NOT NULL THEN e.reason
        WHEN a.winc - coalesce(u.used, 0) = 0 THEN 'used'
        ELSE 'active'
    END AS status,
    a.expires_at,
    a.created_at,
    e.ended_at
FROM approvals_created a
LEFT JOIN (
    SELECT approval_id,
           sum(CASE WHEN kind = 'charge' THEN winc ELSE -winc END) AS used
    FROM approval_spends GROUP BY approval_id
) u ON u.approval_id = a.approval_id
LEFT JOIN approval_ends e ON e.approval_id = a.approval_id;
