-- Read models of bundlestream: every table is a projection of the Kafka log.
--
-- Each table records one kind of fact, keyed by its natural id, and is written only by
-- the projector: a fact is inserted once and never updated (first write wins, and within
-- one topic partition "first" is the same in a live run and in a replay). States (new,
-- planned, permanent, failed; planned .. permanent, dropped) are derived by the views at
-- the end, so the tables do not depend on the order in which topics are interleaved.
-- Runs with search_path set to the target schema: no name here is schema-qualified.

CREATE TABLE received_items (
    data_item_id          text PRIMARY KEY,
    owner_address         text NOT NULL,
    signature_type        integer NOT NULL,
    byte_count            bigint NOT NULL,
    payload_start         bigint NOT NULL,
    content_type          text,
    winc                  numeric(80, 0) NOT NULL,
    premium_feature_type  text NOT NULL,
    deadline_height       bigint NOT NULL,
    object_key            text,
    paid_by               text[] NOT NULL,
    received_partition    integer NOT NULL,
    received_offset       bigint NOT NULL,
    received_at           timestamptz NOT NULL
);
CREATE INDEX received_items_owner ON received_items (owner_address);

-- Dedup's verdicts.
CREATE TABLE accepted_items (
    data_item_id        text PRIMARY KEY,
    received_partition  integer NOT NULL,
    received_offset     bigint NOT NULL,
    accepted_at         timestamptz NOT NULL
);
CREATE TABLE duplicate_uploads (
    received_partition  integer NOT NULL,
    received_offset     bigint NOT NULL,
    data_item_id        text NOT NULL,
    owner_address       text NOT NULL,
    winc                numeric(80, 0) NOT NULL,
    rejected_at         timestamptz NOT NULL,
    PRIMARY KEY (received_partition, received_offset)
);

-- Bundle lifecycle, one table per stage, keyed by plan id.
CREATE TABLE bundle_plans (
    plan_id               text PRIMARY KEY,
    premium_feature_type  text NOT NULL,
    item_count            integer NOT NULL,
    byte_count            bigint NOT NULL,
    planned_at            timestamptz NOT NULL
);
CREATE TABLE planned_items (
    plan_id         text NOT NULL,
    data_item_id    text NOT NULL,
    position        integer NOT NULL,
    byte_count      bigint NOT NULL,
    payload_start   bigint NOT NULL,
    failed_bundles  integer NOT NULL,
    PRIMARY KEY (plan_id, data_item_id)
);
CREATE INDEX planned_items_item ON planned_items (data_item_id);
CREATE TABLE bundle_preparations (
    plan_id            text PRIMARY KEY,
    bundle_id          text NOT NULL,
    bundle_object_key  text NOT NULL,
    data_size          bigint NOT NULL,
    data_root          text NOT NULL,
    reward             numeric(80, 0) NOT NULL,
    anchor             text NOT NULL,
    item_count         integer NOT NULL,
    prepared_at        timestamptz NOT NULL
);
CREATE INDEX bundle_preparations_bundle ON bundle_preparations (bundle_id);
CREATE TABLE bundle_posts (
    plan_id        text PRIMARY KEY,
    bundle_id      text NOT NULL,
    posted_height  bigint NOT NULL,
    already_known  boolean NOT NULL,
    posted_at      timestamptz NOT NULL
);
CREATE TABLE bundle_seedings (
    plan_id      text PRIMARY KEY,
    bundle_id    text NOT NULL,
    chunk_count  integer NOT NULL,
    seeded_at    timestamptz NOT NULL
);
CREATE TABLE bundle_confirmations (
    plan_id        text PRIMARY KEY,
    bundle_id      text NOT NULL,
    block_height   bigint NOT NULL,
    block_id       text NOT NULL,
    confirmations  integer NOT NULL,
    confirmed_at   timestamptz NOT NULL
);
CREATE TABLE bundle_drops (
    plan_id              text PRIMARY KEY,
    bundle_id            text,
    reason               text NOT NULL,
    last_checked_height  bigint,
    dropped_at           timestamptz NOT NULL
);

-- Items back to planning after a drop, and items given up for good.
CREATE TABLE repacked_items (
    plan_id         text NOT NULL,
    data_item_id    text NOT NULL,
    owner_address   text NOT NULL,
    failed_bundles  integer NOT NULL,
    repacked_at     timestamptz NOT NULL,
    PRIMARY KEY (plan_id, data_item_id)
);
CREATE TABLE failed_items (
    data_item_id    text PRIMARY KEY,
    owner_address   text NOT NULL,
    reason          text NOT NULL,
    failed_bundles  integer NOT NULL,
    last_plan_id    text,
    failed_at       timestamptz NOT NULL
);

-- Where each item (nested ones too) lies in a root bundle: GET /tx/{id}/offsets.
CREATE TABLE item_offsets (
    root_bundle_id                  text NOT NULL,
    data_item_id                    text NOT NULL,
    plan_id                         text NOT NULL,
    start_offset_in_root_bundle     bigint NOT NULL,
    raw_content_length              bigint NOT NULL,
    payload_data_start              bigint NOT NULL,
    payload_content_type            text,
    parent_data_item_id             text,
    start_offset_in_parent_payload  bigint,
    recorded_at                     timestamptz NOT NULL,
    PRIMARY KEY (root_bundle_id, data_item_id)
);
CREATE INDEX item_offsets_item ON item_offsets (data_item_id);

-- Consumed positions, written in the same transaction as the rows above.
CREATE TABLE projection_offsets (
    topic        text NOT NULL,
    "partition"  integer NOT NULL,
    next_offset  bigint NOT NULL,
    PRIMARY KEY (topic, "partition")
);

-- Bundles by state: the furthest stage reached, dropped overriding all but permanence.
CREATE VIEW bundles AS
SELECT
    p.plan_id,
    CASE
        WHEN c.plan_id IS NOT NULL THEN 'permanent'
        WHEN d.plan_id IS NOT NULL THEN 'dropped'
        WHEN s.plan_id IS NOT NULL THEN 'seeded'
        WHEN po.plan_id IS NOT NULL THEN 'posted'
        WHEN pr.plan_id IS NOT NULL THEN 'prepared'
        ELSE 'planned'
    END AS state,
    coalesce(pr.bundle_id, po.bundle_id, s.bundle_id, c.bundle_id, d.bundle_id) AS bundle_id,
    p.premium_feature_type,
    p.item_count,
    p.byte_count,
    pr.data_size,
    pr.reward,
    po.posted_height,
    c.block_height,
    c.block_id,
    d.reason AS dropped_reason,
    p.planned_at,
    pr.prepared_at,
    po.posted_at,
    s.seeded_at,
    c.confirmed_at AS permanent_at,
    d.dropped_at
FROM bundle_plans p
LEFT JOIN bundle_preparations pr ON pr.plan_id = p.plan_id
LEFT JOIN bundle_posts po ON po.plan_id = p.plan_id
LEFT JOIN bundle_seedings s ON s.plan_id = p.plan_id
LEFT JOIN bundle_confirmations c ON c.plan_id = p.plan_id
LEFT JOIN bundle_drops d ON d.plan_id = p.plan_id;

-- Data items by state, with the columns the upstream service keeps. An item's current
-- plan is its newest plan that was not dropped; without one it is new (again).
CREATE VIEW data_items AS
SELECT
    r.data_item_id,
    CASE
        WHEN f.data_item_id IS NOT NULL THEN 'failed'
        WHEN b.permanent_at IS NOT NULL THEN 'permanent'
        WHEN b.plan_id IS NOT NULL THEN 'planned'
        ELSE 'new'
    END AS state,
    r.owner_address,
    r.byte_count,
    r.winc,
    r.payload_start,
    r.signature_type,
    r.content_type,
    r.premium_feature_type,
    r.deadline_height,
    b.plan_id,
    b.bundle_id,
    b.block_height,
    f.reason AS failed_reason,
    r.received_at AS uploaded_at,
    b.planned_at,
    b.permanent_at,
    f.failed_at
FROM received_items r
LEFT JOIN LATERAL (
    SELECT bs.*
    FROM planned_items pi
    JOIN bundles bs ON bs.plan_id = pi.plan_id
    WHERE pi.data_item_id = r.data_item_id AND bs.state <> 'dropped'
    ORDER BY bs.planned_at DESC, bs.plan_id DESC
    LIMIT 1
) b ON true
LEFT JOIN failed_items f ON f.data_item_id = r.data_item_id;
