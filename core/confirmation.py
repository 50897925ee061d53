"""Whether a posted bundle transaction is permanent, dropped, or still to be watched."""

from dataclasses import dataclass


@dataclass(frozen=True)
class TxStatus:
    """A gateway's ``GET /tx/{id}/status``: ``None`` fields while pending or unknown."""

    known: bool
    block_height: int | None = None
    block_id: str | None = None
    confirmations: int = 0


@dataclass(frozen=True)
class Confirmed:
    block_height: int
    block_id: str
    confirmations: int


@dataclass(frozen=True)
class Dropped:
    reason: str


@dataclass(frozen=True)
class Pending:
    pass


Verdict = Confirmed | Dropped | Pending


def judge_status(
    status: TxStatus,
    anchor_height: int,
    current_height: int,
    required_confirmations: int,
    drop_after_blocks: int,
) -> Verdict:
    """Confirmed at ``required_confirmations`` (upstream: 18); dropped when still unknown
    ``drop_after_blocks`` (50: an anchor's lifetime) after its anchor's height."""
    if status.known and status.block_height is not None and status.block_id is not None:
        if status.confirmations >= required_confirmations:
            return Confirmed(status.block_height, status.block_id, status.confirmations)
        return Pending()
    if not status.known and current_height - anchor_height >= drop_after_blocks:
        return Dropped(
            f"unknown to the gateway {current_height - anchor_height} blocks after its anchor"
        )
    return Pending()
