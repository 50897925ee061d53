"""The one typed settings object of every bundlestream process.

``Settings()`` reads ``BUNDLESTREAM_*`` from the environment, once per process: the CLI
builds it at start-up and passes it down; nothing else in the project reads the
environment. Its fields are groups (``settings.kafka.bootstrap``), each a
``BaseSettings`` of its own; every variable keeps the flat name it always had
(``BUNDLESTREAM_`` + the old setting's name), spelled out as ``validation_alias`` where
the field's name inside its group is shorter.
"""

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bundlestream import evm_settings as evm
from bundlestream.evm_settings import EvmSettings

GiB = 1024**3
MiB = 1024**2
PREFIX = "BUNDLESTREAM_"
# Cores per API process when ``api_workers`` is unset (docs/benchmarks.md: 1 vs 2
# processes on 2 cores shared with the rest of the stack).
CORES_PER_API_PROCESS = 2


def _env(default: Any, name: str) -> Any:
    """A field read from ``BUNDLESTREAM_<name>`` rather than from its own name."""
    return Field(default, validation_alias=PREFIX + name)


class _Group(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="forbid")


class StackSettings(_Group):
    """The local development stack (``bundlestream stack``); production sets none of it."""

    # Where the local stack keeps its data, logs and pid files.
    dir: Path = _env(Path(".stack"), "STACK_DIR")
    # Downloads reused across stacks and clones (Kafka jars); outside the tracked tree.
    cache_dir: Path = Path.home() / ".cache" / "bundlestream"
    start_timeout_s: float = _env(180.0, "STACK_START_TIMEOUT_S")
    # Heap of the local Kafka broker: small, it shares the host with the other services.
    kafka_heap: str = "512m"
    kafka_controller_port: int = 9093
    # Nodes of the local Kafka (stack/kafka.py); above 1, node i listens on the i-th
    # bootstrap address, or on the first one's ports plus (i-1) steps.
    kafka_brokers: int = 1
    kafka_broker_port_step: int = 100
    # When the stack is started as root, Postgres runs as this (created) system user.
    postgres_os_user: str = "bundlestream"
    # How many ``bundlestream worker`` processes ``make up`` / ``make run`` start;
    # None: ``Settings.stream_workers`` (from the core count).
    workers: int | None = _env(None, "STACK_WORKERS")
    arlocal_mine_interval_s: float = 5.0
    # arlocal needs the bundling wallet funded: the worker mints this at start.
    gateway_is_arlocal: bool = False
    arlocal_mint_winston: int = 10**15


class KafkaSettings(_Group):
    bootstrap: str = _env("127.0.0.1:9092", "KAFKA_BOOTSTRAP")
    topic_prefix: str = ""
    topic_partitions: int = 8
    # Unset: min(3, kafka_brokers) (``Settings.replication_factor``); production: 3
    # (min.insync.replicas follows, max 2).
    topic_replication_factor: int | None = None
    # A send without acks=all acknowledgement within this fails (API answers 503).
    delivery_timeout_s: float = _env(10.0, "KAFKA_DELIVERY_TIMEOUT_S")
    # Bundle events list up to max_items_per_bundle items: above Kafka's 1 MB default.
    max_message_bytes: int = _env(16 * MiB, "KAFKA_MAX_MESSAGE_BYTES")


class PostgresSettings(_Group):
    # A DSN may carry a password (postgresql://user:secret@host/db).
    dsn: SecretStr = _env(
        SecretStr("postgresql://bundlestream@127.0.0.1:5433/bundlestream"), "POSTGRES_DSN"
    )
    # The live schema of the read models, the projector's batch (rows and offsets of one
    # batch share a transaction) and its consumer group.
    projections_schema: str = "projections"
    projector_batch_size: int = 5000
    projector_group_id: str = "bundlestream-projector"


class RedisSettings(_Group):
    # A URL may carry a password (redis://:secret@host:port/db).
    url: SecretStr = _env(SecretStr("redis://127.0.0.1:6380/0"), "REDIS_URL")


class ObjectStoreSettings(_Group):
    backend: Literal["fs", "s3"] = _env("fs", "OBJECT_STORE")
    dir: Path = _env(Path(".stack/objects"), "OBJECT_STORE_DIR")
    s3_endpoint: str = "http://127.0.0.1:4568"
    s3_bucket: str = "bundlestream"
    s3_region: str = "us-east-1"
    s3_access_key: str = "S3RVER"
    s3_secret_key: SecretStr = SecretStr("S3RVER")
    # Multipart part size: S3 needs >= 5 MiB (but the last); a writer holds about one part.
    s3_part_size: int = 8 * MiB


class ApiSettings(_Group):
    """The upload API: its server, receipts, admission, load shedding and multipart."""

    host: str = _env("127.0.0.1", "API_HOST")
    port: int = _env(3001, "API_PORT")
    # uvicorn processes of ``bundlestream api``; None: ``Settings.api_processes``.
    workers: int | None = _env(None, "API_WORKERS")
    max_data_item_size: int = 10 * GiB  # upstream's limit
    inline_item_max_bytes: int = 64 * 1024  # items up to this travel inside the event
    deadline_height_margin: int = 200  # receipt deadlineHeight = cached height + margin
    block_height_refresh_s: float = 30.0  # background refresh of the cached height
    data_caches: list[str] = ["arweave.net"]
    fast_finality_indexes: list[str] = ["arweave.net"]
    free_upload_limit_bytes: int = 505 * 1024
    allow_listed_addresses: list[str] = []
    blocklisted_addresses: list[str] = []
    # Admission (api/capacity.py), per process, decided before a body is read: beyond
    # any bound a new request gets 503 + Retry-After. Requests in flight; bytes of bodies
    # held in memory (an upload holds about 1 MiB whatever its size; streaming uploads
    # wait at 3/4 of it rather than fail); the event loop's lag; free disk under the
    # fs object store kept beyond an item's declared size.
    max_inflight_requests: int = 512
    max_buffered_bytes: int = 256 * MiB
    max_event_loop_lag_s: float = 1.0
    min_free_disk_bytes: int = 1 * GiB
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
    # Paid uploads: how often each API process settles charges whose send failed.
    charge_settle_every_s: float = 5.0
    # Credit sharing: how often each API process ends approvals past their expiry (their
    # remainder back to the payer by ApprovalExpired) and resends ends not yet in the log.
    approval_expiry_every_s: float = 1.0


class StreamsSettings(_Group):
    """The pipeline's workers: planning, posting, verification, optical, cleanup."""

    # Faust: consumer group / app id, and its web server (off: N workers on one host).
    app_id: str = _env("bundlestream", "STREAMS_APP_ID")
    web_enabled: bool = _env(False, "STREAMS_WEB_ENABLED")
    web_port: int = _env(6066, "STREAMS_WEB_PORT")
    max_bundle_size: int = 2 * GiB  # upstream's limit
    max_items_per_bundle: int = 10_000  # upstream's limit
    # The planner cuts a lane's open bundle once its oldest item is this old.
    plan_overdue_s: float = 5.0
    # Every worker writes a clock tick into each partition of the planner's input this often.
    planner_tick_s: float = 1.0
    required_confirmations: int = 18
    drop_after_blocks: int = 50  # unknown this many blocks after its anchor: dropped
    max_bundles_per_item: int = 10  # an item dropped with this many bundles has failed
    verify_poll_s: float = 2.0
    # A worker whose partition has messages waiting, none in an agent's hands and no
    # progress for this long (or whose rebalance makes none) stops itself; 0: never.
    worker_stall_timeout_s: float = 60.0
    post_max_attempts: int = 8
    # Optical posting of accepted items' headers to AR.IO gateways (off when empty).
    optical_urls: list[str] = []
    optical_max_attempts: int = 3
    # Delete items' raw objects and the bundle object once the bundle is permanent...
    cleanup_after_permanent: bool = True
    # ...this long after its BundleConfirmed (0: at the cleanup stage's next poll).
    cleanup_retention_s: float = 0.0


class ArweaveSettings(_Group):
    """The gateway and the service's Arweave keys."""

    gateway_url: str = "http://127.0.0.1:1984"
    gateway_backoff_base_s: float = 0.5
    gateway_backoff_max_s: float = 30.0
    # The service's Arweave key that signs receipts: loaded from this JWK file, or
    # generated (RSA, this many bits; Arweave wallets are 4096) and written 0600.
    receipt_key_path: Path = Path(".stack/receipt-key.json")
    receipt_key_size: int = 4096
    # The wallet that signs bundle transactions; None: the receipt key (one service key).
    bundle_wallet_path: Path | None = None


class PaymentsSettings(_Group):
    """Pricing and the ledger (PAYMENTS.md §2)."""

    # The gateway's price is re-read this often (upstream cached it 15 min); the per-item
    # fee in USD (upstream $0.00002); the inclusive infrastructure fee on token and fiat
    # payments (upstream's seeded 0.766); tokens exempt from it.
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
    coingecko_api_key: SecretStr | None = None
    rates_refresh_s: float = 60.0
    # Our wallet per token for /v1/info (arweave: the receipt key's address when unset).
    addresses: dict[str, str] = _env({}, "PAYMENT_ADDRESSES")
    # Crypto top-ups: senders whose transfers are refused (upstream's
    # CRYPTO_FUND_EXCLUDED_ADDRESSES); how often the top-ups stage looks at pending
    # transfers (upstream: 60 s); a transfer still unknown this long after its
    # submission fails (upstream: 1 day). AR transfers are credited after
    # BUNDLESTREAM_REQUIRED_CONFIRMATIONS, the bundles' own rule (upstream: 18).
    crypto_fund_excluded_addresses: list[str] = []
    top_up_poll_s: float = 5.0
    top_up_not_found_after_s: float = 24 * 3600.0


class X402Settings(_Group):
    """x402 payments (PAYMENTS.md §6): the network, the token, the facilitator, the price.

    The defaults point at the local stack: a hardhat node with Base Sepolia's chain id
    (x402 clients sign only for networks they know), the LocalUSDC token deployed at its
    start, and the local facilitator. Production sets the network's USDC, a payTo wallet
    and a facilitator URL.
    """

    network: str = _env("base-sepolia", "X402_NETWORK")
    chain_id: int = _env(84532, "X402_CHAIN_ID")
    asset: str = _env(evm.HARDHAT_FIRST_CONTRACT, "X402_ASSET")
    # The token's EIP-712 domain name and version (upstream: "USD Coin", "2").
    asset_name: str = _env("USD Coin", "X402_ASSET_NAME")
    asset_version: str = _env("2", "X402_ASSET_VERSION")
    pay_to: str = _env(evm.HARDHAT_ACCOUNT_2, "X402_PAY_TO")
    facilitator_url: str = _env("http://127.0.0.1:8546", "X402_FACILITATOR_URL")
    facilitator_timeout_s: float = _env(30.0, "X402_FACILITATOR_TIMEOUT_S")
    # Upstream's price: max(min_usdc, reward * (1 + buffer) in USDC base units).
    pricing_buffer_percent: int = _env(15, "X402_PRICING_BUFFER_PERCENT")
    min_usdc: int = _env(1000, "X402_MIN_USDC")
    max_timeout_s: int = _env(300, "X402_MAX_TIMEOUT_S")
    chunked_max_timeout_s: int = _env(3600, "X402_CHUNKED_MAX_TIMEOUT_S")  # to the finalize
    # Public URL of this service, for the requirements' ``resource``.
    public_url: str = _env("http://127.0.0.1:3001", "X402_PUBLIC_URL")
    # The local facilitator (``bundlestream facilitator``): its JSON-RPC node and the key
    # that pays the settlement transactions' gas.
    evm_rpc_url: str = _env("http://127.0.0.1:8545", "EVM_RPC_URL")
    facilitator_key: SecretStr = _env(SecretStr(evm.HARDHAT_KEY_1), "X402_FACILITATOR_KEY")


class ConsoleSettings(_Group):
    """The operator console (docs/console.md): its own Starlette app, loopback-only unless
    told otherwise."""

    host: str = _env("127.0.0.1", "CONSOLE_HOST")
    port: int = _env(3002, "CONSOLE_PORT")
    # Operator accounts live in this schema, outside the projections (never rebuilt).
    schema_name: str = _env("console", "CONSOLE_SCHEMA")
    # Signs the session cookies; generated (32 random bytes, 0600) when absent.
    secret_path: Path = _env(Path(".stack/console-secret"), "CONSOLE_SECRET_PATH")
    session_max_age_s: int = _env(8 * 3600, "CONSOLE_SESSION_MAX_AGE_S")
    # Failed logins allowed per window, per account and per client IP (Redis counters).
    login_user_limit: int = _env(5, "CONSOLE_LOGIN_USER_LIMIT")
    login_ip_limit: int = _env(20, "CONSOLE_LOGIN_IP_LIMIT")
    login_window_s: int = _env(300, "CONSOLE_LOGIN_WINDOW_S")


class MetricsSettings(_Group):
    """Prometheus endpoints of the workers and the projector (the API serves /metrics on
    its own port)."""

    host: str = _env("127.0.0.1", "METRICS_HOST")
    # Worker i of a ``bundlestream worker --processes N`` listens on this port + i - 1;
    # 0: no endpoint.
    worker_port: int = _env(3010, "WORKER_METRICS_PORT")
    projector_port: int = _env(3009, "PROJECTOR_METRICS_PORT")
    # How often each worker reads its wallet's balance from the gateway.
    wallet_refresh_s: float = _env(60.0, "WALLET_BALANCE_REFRESH_S")


class Settings(BaseModel):
    """Every group, each read from the environment when ``Settings()`` is built."""

    model_config = ConfigDict(extra="forbid")

    stack: StackSettings = Field(default_factory=StackSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    object_store: ObjectStoreSettings = Field(default_factory=ObjectStoreSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    streams: StreamsSettings = Field(default_factory=StreamsSettings)
    arweave: ArweaveSettings = Field(default_factory=ArweaveSettings)
    payments: PaymentsSettings = Field(default_factory=PaymentsSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    x402: X402Settings = Field(default_factory=X402Settings)
    evm: EvmSettings = Field(default_factory=EvmSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)

    def replication_factor(self) -> int:
        """Of the topics we create: as set, else min(3, the local cluster's brokers), so a
        3-broker stack tolerates one broker down and a single broker needs no setting."""
        factor = self.kafka.topic_replication_factor
        return min(3, self.stack.kafka_brokers) if factor is None else factor

    def api_processes(self, cores: int | None) -> int:
        """``api_workers`` as set, else one per ``CORES_PER_API_PROCESS`` cores, at least
        one: the API shares the host with the broker, the workers and the databases."""
        configured = self.api.workers
        return configured if configured is not None else _per(cores, CORES_PER_API_PROCESS)

    def stream_workers(self, cores: int | None) -> int:
        """``stack_workers`` as set, else one per two cores, at least one and at most one
        per partition (a worker beyond the partitions would have none)."""
        configured = self.stack.workers
        if configured is not None:
            return configured
        return min(self.kafka.topic_partitions, _per(cores, 2))

    def updated(self, **changes: Any) -> "Settings":
        """A copy with ``group__field=value`` replaced (``kafka__topic_prefix="t-"``),
        validated as if read from the environment; the environment is not read again."""
        groups: dict[str, dict[str, Any]] = {}
        for key, value in changes.items():
            group, _, field = key.partition("__")
            groups.setdefault(group, {})[field] = value
        return self.model_copy(
            update={name: _updated(getattr(self, name), fields) for name, fields in groups.items()}
        )

    def environment(self) -> dict[str, str | None]:
        """The ``BUNDLESTREAM_*`` variables that rebuild these settings in a child process
        (None: leave unset). It reveals the secrets: for a child's environment only."""
        return {
            name: _env_text(getattr(getattr(self, group), field))
            for name, (group, field) in variables().items()
        }


def _per(cores: int | None, cores_each: int) -> int:
    return max(1, (cores or 1) // cores_each)


def variables() -> dict[str, tuple[str, str]]:
    """Every environment variable, with the group and field that it sets."""
    found: dict[str, tuple[str, str]] = {}
    for group, group_field in Settings.model_fields.items():
        model = group_field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for name, field in model.model_fields.items():
            alias = field.validation_alias
            found[alias if isinstance(alias, str) else PREFIX + name.upper()] = (group, name)
    return found


def _updated(group: _Group, fields: dict[str, Any]) -> _Group:
    model = type(group)
    unknown = set(fields) - set(model.model_fields)
    if unknown:
        raise ValueError(f"{model.__name__} has no field {sorted(unknown)}")
    values = {**group.model_dump(), **fields}
    return model.model_validate({_input_name(model, k): v for k, v in values.items()})


def _input_name(model: type[_Group], field: str) -> str:
    alias = model.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else field


def _env_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)
