"""The one typed settings object of every bundlestream process.

Built once at start-up (``Settings()`` reads ``BUNDLESTREAM_*`` from the environment)
and passed down; nothing else in the project reads the environment.
"""

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

GiB = 1024**3
MiB = 1024**2


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BUNDLESTREAM_", extra="ignore")

    # Where the local stack keeps its data, logs and pid files.
    stack_dir: Path = Path(".stack")
    # Downloads reused across stacks and clones (Kafka jars); outside the tracked tree.
    cache_dir: Path = Path.home() / ".cache" / "bundlestream"
    stack_start_timeout_s: float = 180.0
    # Heap of the local Kafka broker: small, it shares the host with the rest of the stack.
    kafka_heap: str = "512m"
    # When the stack is started as root, Postgres runs as this (created) system user.
    postgres_os_user: str = "bundlestream"

    # HTTP API
    api_host: str = "127.0.0.1"
    api_port: int = 3001
    api_workers: int = 1
    # How many ``bundlestream worker`` processes ``make up`` / ``make run`` start.
    stack_workers: int = 1

    # HTTP connections (api/protocol.py). A request's header section must arrive within
    # this of the connection opening or of its first byte, else 408 (RFC 9110 §15.5.9).
    http_header_timeout_s: float = 10.0
    # A body must bring at least http_body_min_bytes in every interval (410 B/s), else
    # it ends as a disconnect: below that, a 10 GiB item would take 300 days to arrive.
    http_body_interval_s: float = 10.0
    http_body_min_bytes: int = 4096
    # Idle time of a keep-alive connection between requests (RFC 9112 §9.5).
    http_keep_alive_timeout_s: int = 5
    # Field lines and their bytes per request; beyond either, 431 (RFC 6585 §5).
    http_max_header_count: int = 100
    http_max_header_bytes: int = 32 * 1024
    # Distinct x-paid-by payers per upload: each is an address whose approvals the payer
    # walk reads in order; 64 addresses of at most 44 characters are under 3 KB of event.
    max_paid_by_entries: int = 64

    # Kafka
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_controller_port: int = 9093
    topic_prefix: str = ""
    topic_partitions: int = 8
    topic_replication_factor: int = 1  # production: 3 (min.insync.replicas follows, max 2)
    # A send without acks=all acknowledgement within this fails (API answers 503).
    kafka_delivery_timeout_s: float = 10.0
    # Bundle events list up to max_items_per_bundle items: above Kafka's 1 MB default.
    kafka_max_message_bytes: int = 16 * MiB
    # Faust: consumer group / app id, and its web server (off: N workers on one host).
    streams_app_id: str = "bundlestream"
    streams_web_enabled: bool = False
    streams_web_port: int = 6066

    # Postgres
    postgres_dsn: str = "postgresql://bundlestream@127.0.0.1:5433/bundlestream"

    # Projections: the live schema of the read models, the projector's batch
    # (rows and offsets of one batch share a transaction) and its consumer group.
    projections_schema: str = "projections"
    projector_batch_size: int = 5000
    projector_group_id: str = "bundlestream-projector"

    # Redis
    redis_url: str = "redis://127.0.0.1:6380/0"

    # Object store
    object_store: Literal["fs", "s3"] = "fs"
    object_store_dir: Path = Path(".stack/objects")
    s3_endpoint: str = "http://127.0.0.1:4568"
    s3_bucket: str = "bundlestream"
    s3_region: str = "us-east-1"
    s3_access_key: str = "S3RVER"
    s3_secret_key: str = "S3RVER"
    # Multipart part size: S3 needs >= 5 MiB (but the last); a writer holds about one part.
    s3_part_size: int = 8 * MiB

    # Arweave
    gateway_url: str = "http://127.0.0.1:1984"
    arlocal_mine_interval_s: float = 5.0
    # The service's Arweave key that signs receipts: loaded from this JWK file, or
    # generated (RSA, this many bits; Arweave wallets are 4096) and written 0600.
    receipt_key_path: Path = Path(".stack/receipt-key.json")
    receipt_key_size: int = 4096

    # Limits (upstream defaults)
    max_data_item_size: int = 10 * GiB
    max_bundle_size: int = 2 * GiB
    max_items_per_bundle: int = 10_000

    # Upload API
    inline_item_max_bytes: int = 64 * 1024  # items up to this travel inside the event
    deadline_height_margin: int = 200  # receipt deadlineHeight = cached height + margin
    block_height_refresh_s: float = 30.0  # background refresh of the cached height
    data_caches: list[str] = ["arweave.net"]
    fast_finality_indexes: list[str] = ["arweave.net"]
    free_upload_limit_bytes: int = 505 * 1024
    allow_listed_addresses: list[str] = []
    blocklisted_addresses: list[str] = []
    max_inflight_requests: int = 512  # per process; beyond it 503 + Retry-After
    max_inflight_bytes: int = 512 * MiB  # body bytes received and not yet answered, per process
    rate_limit_requests: int = 1000  # per client IP per window (Redis); 0 disables
    rate_limit_window_s: int = 1
    retry_after_s: int = 1
    fresh_receipt_ttl_s: int = 7 * 24 * 3600  # Redis view of fresh receipts/status
    multipart_chunk_min_bytes: int = 5 * MiB
    multipart_chunk_max_bytes: int = 500 * MiB
    multipart_default_chunk_bytes: int = 25_000_000
    multipart_ttl_s: int = 24 * 3600
    # The API's sweeper: writes of a killed process untouched this long are deleted (a
    # live upload writes at least every MiB), and so are the parts of expired sessions.
    abandoned_write_age_s: float = 3600.0
    sweep_interval_s: float = 300.0

    # Streams
    # The planner cuts a lane's open bundle once its oldest item is this old.
    plan_overdue_s: float = 5.0
    # Every worker writes a clock tick into each partition of the planner's input this often.
    planner_tick_s: float = 1.0
    # The wallet that signs bundle transactions; None: the receipt key (one service key).
    bundle_wallet_path: Path | None = None
    required_confirmations: int = 18
    drop_after_blocks: int = 50  # unknown this many blocks after its anchor: dropped
    max_bundles_per_item: int = 10  # an item dropped with this many bundles has failed
    verify_poll_s: float = 2.0
    # A worker whose partition has messages waiting, none in an agent's hands and no
    # progress for this long (or whose rebalance makes none) stops itself; 0: never.
    worker_stall_timeout_s: float = 60.0
    post_max_attempts: int = 8
    gateway_backoff_base_s: float = 0.5
    gateway_backoff_max_s: float = 30.0
    # Local stacks: arlocal needs the wallet funded; the worker mints this at start.
    gateway_is_arlocal: bool = False
    arlocal_mint_winston: int = 10**15
    # Optical posting of accepted items' headers to AR.IO gateways (off when empty).
    optical_urls: list[str] = []
    optical_max_attempts: int = 3
    # Delete items' raw objects and the bundle object once the bundle is permanent...
    cleanup_after_permanent: bool = True
    # ...this long after its BundleConfirmed (0: at the cleanup stage's next poll).
    cleanup_retention_s: float = 0.0

    # Payments (PAYMENTS.md §2): the gateway's price is re-read this often (upstream
    # cached it 15 min); the per-item fee in USD (upstream $0.00002); the inclusive
    # infrastructure fee on token and fiat payments (upstream's seeded 0.766); tokens
    # exempt from it.
    price_refresh_s: float = 60.0
    usd_price_per_data_item: str = "0.00002"
    infrastructure_fee_multiplier: str = "0.766"
    tokens_without_fees: list[str] = ["ario"]
    # Rates: "fixed" (this table of coin id -> fiat -> price; no network) or
    # "coingecko" (a simple/price-compatible source, refreshed every rates_refresh_s).
    rates_source: Literal["fixed", "coingecko"] = "fixed"
    fixed_rates: dict[str, dict[str, float]] = {
        "arweave": {"usd": 20.0, "eur": 18.5, "gbp": 16.0},
        "ethereum": {"usd": 3000.0, "eur": 2775.0, "gbp": 2400.0},
        "l2-standard-bridged-weth-base": {"usd": 3000.0, "eur": 2775.0, "gbp": 2400.0},
    }
    coingecko_url: str = "https://api.coingecko.com/api/v3"
    coingecko_api_key: str | None = None
    rates_refresh_s: float = 60.0
    # Our wallet per token for /v1/info (arweave: the receipt key's address when unset).
    payment_addresses: dict[str, str] = {}

    # Operator console (docs/console.md): its own Starlette app, loopback-only unless told.
    console_host: str = "127.0.0.1"
    console_port: int = 3002
    # Operator accounts live in this schema, outside the projections (never rebuilt).
    console_schema: str = "console"
    # Signs the session cookies; generated (32 random bytes, 0600) when absent.
    console_secret_path: Path = Path(".stack/console-secret")
    console_session_max_age_s: int = 8 * 3600
    # Failed logins allowed per window, per account and per client IP (Redis counters).
    console_login_user_limit: int = 5
    console_login_ip_limit: int = 20
    console_login_window_s: int = 300
