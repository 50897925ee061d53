"""The topic catalogue: every Kafka topic, what it carries, who writes and reads it.

One topic is the output of one stage; it carries several events only when they are the
alternative outcomes of one decision (dedup accepts or rejects). Each event lives on
exactly one topic, so ``topic_of`` needs no choice. Per-stage topics make consumer lag a
per-stage number. Every topic is an event topic: the log is the source of truth, so
nothing is ever deleted by age or size (``retention.ms=-1``).

Names are relative: deployments (and tests) put ``Settings.kafka.topic_prefix`` in front with
``full_name``; this module does not read settings.
"""

from dataclasses import dataclass

# Records of bundle topics list up to max_items_per_bundle entries (10,000 by default,
# ~150 bytes each): above Kafka's 1 MB default message limit.
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Topic:
    """One catalogue entry. ``key`` names the event field whose value is the Kafka key."""

    name: str
    key: str
    events: tuple[str, ...]
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    description: str

    def full_name(self, prefix: str) -> str:
        """The broker-side name under a deployment's topic prefix."""
        return f"{prefix}{self.name}"


DATA_ITEMS_RECEIVED = Topic(
    name="data-items.received",
    key="owner_address",
    events=("DataItemReceived",),
    producers=("api (upload routes)",),
    consumers=(
        "streams: dedup",
        "projections: item status",
        "streams: prepare, optical (inline items)",
    ),
    description="Every verified upload, durable before its receipt; duplicates included.",
)
DATA_ITEMS_DEDUPLICATED = Topic(
    name="data-items.deduplicated",
    key="owner_address",
    events=("DataItemAccepted", "DataItemDuplicateRejected", "DataItemsRepacked", "PlannerTicked"),
    producers=("streams: dedup", "streams: repack", "streams: planner timer"),
    consumers=(
        "streams: plan",
        "projections: item status",
        "streams: optical (own group)",
        "ledger refunds (later)",
    ),
    # The planner reads this one log only, so that a replay after a crash meets the same
    # items, repacks and clock ticks in the same order and cuts the same bundles.
    description=(
        "The planner's input: dedup's verdict on each received item (first sighting or "
        "duplicate), items of dropped bundles coming back, and clock ticks."
    ),
)
DATA_ITEMS_REPACKED = Topic(
    name="data-items.repacked",
    key="owner_address",
    events=("DataItemFailed",),
    producers=("streams: repack",),
    consumers=("projections: item status",),
    description="Items of dropped bundles that failed in too many bundles: failed for good.",
)
BUNDLES_PLANNED = Topic(
    name="bundles.planned",
    key="plan_id",
    events=("BundlePlanned",),
    producers=("streams: plan",),
    consumers=("streams: prepare", "streams: repack", "projections: bundles"),
    description="Bundles cut by the per-partition planners.",
)
BUNDLES_PREPARED = Topic(
    name="bundles.prepared",
    key="plan_id",
    events=("BundlePrepared",),
    producers=("streams: prepare",),
    consumers=("streams: post", "projections: bundles"),
    description="Bundles assembled in the object store with a signed transaction.",
)
BUNDLES_OFFSETS = Topic(
    name="bundles.offsets",
    key="plan_id",
    events=("OffsetsRecorded",),
    producers=("streams: prepare",),
    consumers=("projections: offsets",),
    description="Where every item (nested ones too) lies in its bundle.",
)
BUNDLES_POSTED = Topic(
    name="bundles.posted",
    key="plan_id",
    events=("BundlePosted",),
    producers=("streams: post",),
    consumers=("streams: seed", "projections: bundles"),
    description="Bundle transactions the gateway accepted.",
)
BUNDLES_SEEDED = Topic(
    name="bundles.seeded",
    key="plan_id",
    events=("BundleSeeded",),
    producers=("streams: seed",),
    consumers=("streams: verify", "projections: bundles"),
    description="Bundles whose chunks were all uploaded.",
)
BUNDLES_SETTLED = Topic(
    name="bundles.settled",
    key="plan_id",
    events=("BundleConfirmed", "BundleDropped"),
    producers=("streams: verify", "any bundle stage that gives a plan up"),
    consumers=("streams: repack", "streams: cleanup", "projections: bundles"),
    description="The end of a bundle: permanent, or dropped (its items get repacked).",
)
BUNDLES_CLEANED = Topic(
    name="bundles.cleaned",
    key="plan_id",
    events=("BundleCleanedUp",),
    producers=("streams: cleanup",),
    # Cleanup reads its own output: the event is what removes the plan from its table of
    # pending cleanups (a Faust table changes only inside an agent handling a message).
    consumers=("streams: cleanup", "operators"),
    description="Permanent bundles whose local copies were deleted, their retention over.",
)

LEDGER_EVENTS = Topic(
    name="ledger.events",
    key="address",
    events=(
        "TopUpSubmitted",
        "TopUpConfirmed",
        "TopUpFailed",
        "BalanceCredited",
        "UploadCharged",
        "UploadRefunded",
        "ApprovalCreated",
        "ApprovalUsed",
        "ApprovalRevoked",
        "ApprovalExpired",
    ),
    producers=(
        "bundlestream ledger credit (operators)",
        "api: UploadCharged, UploadRefunded (paid uploads)",
        "api: TopUpSubmitted, and its credit when already confirmed (POST balance/:token)",
        "streams: top-ups (TopUpConfirmed + BalanceCredited, TopUpFailed)",
    ),
    consumers=(
        "projections: ledger (balances, journal, top-ups, approvals)",
        "api: the ledger feed of the spendable view (every API process, every partition)",
        "streams: top-ups (the table of pending top-ups)",
    ),
    # One topic, keyed by the account an event may lower: every decision that spends an
    # account's money is serial in its partition, so two uploads cannot both spend the
    # last winc. Raises of other accounts (a revoke's remainder, a refund) only add, and
    # additions commute, so they need no order. With the same partition count and
    # murmur2, an owner's ledger partition has the number of its data-items partitions.
    description=(
        "Every change of money: top-ups and their outcome, credits, upload charges and "
        "refunds, credit-sharing approvals. Balances are a fold of this log."
    ),
)

# Not an event topic: messages some consumer could not decode, as they were, with
# headers saying where they came from (dlq.topic, dlq.partition, dlq.offset, dlq.error).
# `bundlestream events redrive` puts them back on their topic once a reader can read them.
DEAD_LETTERS = Topic(
    name="dead-letters",
    key="(the original message's key)",
    events=(),
    producers=("projections: projector",),
    consumers=("bundlestream events redrive", "operators"),
    description="Undecodable messages, byte for byte, with their origin in headers.",
)

CATALOGUE: tuple[Topic, ...] = (
    DATA_ITEMS_RECEIVED,
    DATA_ITEMS_DEDUPLICATED,
    DATA_ITEMS_REPACKED,
    BUNDLES_PLANNED,
    BUNDLES_PREPARED,
    BUNDLES_OFFSETS,
    BUNDLES_POSTED,
    BUNDLES_SEEDED,
    BUNDLES_SETTLED,
    BUNDLES_CLEANED,
    LEDGER_EVENTS,
    DEAD_LETTERS,
)


@dataclass(frozen=True)
class Table:
    """A stage's Faust table. Its state lives in a changelog topic, which must exist (with
    the event topics' partition count) before any worker starts: Faust compares the
    partition counts of a table's source and changelog topics when it first writes, and
    a changelog missing from the consumer's metadata counts as 0 partitions there."""

    name: str
    stage: str
    description: str

    def changelog_name(self, app_id: str) -> str:
        """Faust's name for the table's changelog topic under an app (consumer group) id."""
        return f"{app_id}-{self.name}-changelog"


# The input topic of each pipeline stage (streams/: one agent per stage, one group).
STAGE_INPUTS: dict[str, Topic] = {
    "dedup": DATA_ITEMS_RECEIVED,
    "plan": DATA_ITEMS_DEDUPLICATED,
    "prepare": BUNDLES_PLANNED,
    "post": BUNDLES_PREPARED,
    "seed": BUNDLES_POSTED,
    "verify": BUNDLES_SEEDED,
    "settle": BUNDLES_SETTLED,
}

DEDUP_SEEN = Table("dedup-seen", "streams: dedup", "Item ids already accepted.")
PLANNER = Table("planner", "streams: plan", "Each partition's planner state.")
SEED_PROGRESS = Table("seed-progress", "streams: seed", "Next chunk of bundles being seeded.")
VERIFY_WATCHING = Table("verify-watching", "streams: verify", "Seeded bundles not yet settled.")
CLEANUP_PENDING = Table("cleanup-pending", "streams: cleanup", "Permanent bundles to delete.")
TOP_UPS_PENDING = Table("top-ups-pending", "streams: top-ups", "Top-ups awaiting confirmations.")

TABLES: tuple[Table, ...] = (
    DEDUP_SEEN,
    PLANNER,
    SEED_PROGRESS,
    VERIFY_WATCHING,
    CLEANUP_PENDING,
    TOP_UPS_PENDING,
)

_TOPIC_OF_EVENT = {event: topic for topic in CATALOGUE for event in topic.events}


def topic_of(event_name: str) -> Topic:
    """The one topic an event is written to; KeyError for a name not in the catalogue."""
    return _TOPIC_OF_EVENT[event_name]


def topic_config(
    replication_factor: int, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
) -> dict[str, str]:
    """Broker-side config of an event topic.

    Retention is forever: the broker default (168 h) would delete the source of truth.
    min.insync.replicas 2 (capped by the replication factor) makes acks=all mean "on two
    brokers" in production and stay satisfiable on a single local broker.
    """
    return {
        "cleanup.policy": "delete",
        "retention.ms": "-1",
        "retention.bytes": "-1",
        "min.insync.replicas": str(min(2, replication_factor)),
        "max.message.bytes": str(max_message_bytes),
    }


def changelog_config(replication_factor: int) -> dict[str, str]:
    """Broker-side config of a table changelog, as Faust declares it: compacted, since only
    a key's latest value is the table's state."""
    return {
        "cleanup.policy": "compact",
        "min.insync.replicas": str(min(2, replication_factor)),
    }
