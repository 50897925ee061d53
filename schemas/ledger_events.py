"""Typed records of the ledger events (topic ``ledger.events``), one per Avro schema.

Same rules as ``events``: frozen, keyword-only, tuples for arrays, timezone-aware
times. Amounts are winc as decimal strings, as upstream stores them (``PAYMENTS.md``
§3): a balance can exceed 64 bits. Every event carries ``address``, its Kafka key: the
one account the event may lower (docs/topics.md, "Ledger").
"""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TopUpSubmitted:
    """A crypto transaction to our wallet, pending until its token's confirmations."""

    address: str
    token: str
    transaction_id: str
    quantity: str
    winc: str
    submitted_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TopUpConfirmed:
    """A pending top-up reached its confirmations (its BalanceCredited carries the winc)."""

    address: str
    token: str
    transaction_id: str
    winc: str
    block_height: int
    confirmed_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TopUpFailed:
    """A submitted top-up that will never be credited."""

    address: str
    token: str
    transaction_id: str
    reason: str
    failed_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class BalanceCredited:
    """Winc added to an account; applied once per ``credit_id``."""

    address: str
    credit_id: str
    winc: str
    source: str
    reason: str
    credited_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Payment:
    """One payer's share of a charge or a refund; ``approval_id`` None: own balance."""

    payer_address: str
    winc: str
    approval_id: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class UploadCharged:
    """An upload paid for, before its receipt: the total and who paid what."""

    address: str
    data_item_id: str
    winc: str
    payments: tuple[Payment, ...]
    charged_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class UploadRefunded:
    """A charged upload that failed: each payment goes back where it came from."""

    address: str
    data_item_id: str
    winc: str
    payments: tuple[Payment, ...]
    reason: str
    refunded_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ApprovalCreated:
    """Winc set aside by ``address`` (the payer) for ``approved_address`` to spend."""

    address: str
    approval_id: str
    approved_address: str
    winc: str
    created_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ApprovalUsed:
    """An approval spent in full by the charge of ``data_item_id``."""

    address: str
    approval_id: str
    paying_address: str
    data_item_id: str
    used_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ApprovalRevoked:
    """The payer revoked an approval; ``returned_winc`` goes back to its balance."""

    address: str
    approval_id: str
    paying_address: str
    returned_winc: str
    revoke_data_item_id: str
    revoked_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ApprovalExpired:
    """An approval past its expiry; ``returned_winc`` goes back to the payer's balance."""

    address: str
    approval_id: str
    paying_address: str
    returned_winc: str
    expired_at: datetime


LedgerEvent = (
    TopUpSubmitted
    | TopUpConfirmed
    | TopUpFailed
    | BalanceCredited
    | UploadCharged
    | UploadRefunded
    | ApprovalCreated
    | ApprovalUsed
    | ApprovalRevoked
    | ApprovalExpired
)

LEDGER_EVENT_TYPES: tuple[type[LedgerEvent], ...] = (
    TopUpSubmitted,
    TopUpConfirmed,
    TopUpFailed,
    BalanceCredited,
    UploadCharged,
    UploadRefunded,
    ApprovalCreated,
    ApprovalUsed,
    ApprovalRevoked,
    ApprovalExpired,
)
