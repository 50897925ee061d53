"""The local Apache Kafka in KRaft mode, from Maven Central jars: one node, or a cluster.

With ``kafka_brokers`` N > 1 the stack runs N combined broker+controller nodes with a
static quorum of all N, node ``i`` listening on the ``i``-th address of
``kafka_bootstrap`` (missing ones: the first address's port plus ``(i-1)`` times
``kafka_broker_port_step``) and its controller on ``kafka_controller_port`` plus the same
step. Internal topics get replication min(3, N) and ``min.insync.replicas`` min(2, N):
with N = 3 an acks=all write survives the loss of any one node.

The jars are resolved by Maven from ``stack/kafka/pom.xml`` into a cache outside the
tracked tree, reused by every later run and every clone. The broker keeps event topics
forever (``log.retention.ms=-1``): the log is the source of truth, not a buffer.
"""

from __future__ import annotations

import base64
import re
import shutil
import tempfile
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from bundlestream.settings import Settings
from bundlestream.stack.process import ServiceError, run_checked
from bundlestream.stack.service import STACK_FILES, StackService, port_open, split_host_port

POM = STACK_FILES / "kafka" / "pom.xml"
LOG4J_CONFIG = STACK_FILES / "kafka" / "log4j2.properties"


class KafkaBroker(StackService):
    """One local node: combined controller and broker, loopback only. Node 1 is named
    ``kafka`` (the single-node stack's name and data directory); node ``i`` ``kafka-i``."""

    def __init__(self, settings: Settings, node_id: int = 1) -> None:
        super().__init__(settings)
        self.node_id = node_id
        self.name = "kafka" if node_id == 1 else f"kafka-{node_id}"
        self.home = settings.stack.dir / self.name

    @property
    def jar_dir(self) -> Path:
        return self.settings.stack.cache_dir / f"kafka-{kafka_version()}"

    @property
    def address(self) -> tuple[str, int]:
        return broker_addresses(self.settings)[self.node_id - 1]

    def ports(self) -> list[tuple[str, int]]:
        return [self.address, controller_address(self.settings, self.node_id)]

    def install(self) -> None:
        """Copy the broker's jars from Maven Central into the cache, once."""
        if (self.jar_dir / ".complete").exists():
            return
        if shutil.which("mvn") is None:
            raise ServiceError("mvn is missing: apt-get install -y maven (or run make install)")
        self.jar_dir.parent.mkdir(parents=True, exist_ok=True)
        # Resolve into a scratch directory and rename, so a concurrent or interrupted
        # install never leaves a half-filled jar directory that looks finished.
        scratch = Path(tempfile.mkdtemp(dir=self.jar_dir.parent, prefix=".kafka-"))
        run_checked(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(POM),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={scratch}",
            ]
        )
        (scratch / ".complete").touch()
        if self.jar_dir.exists() and not (self.jar_dir / ".complete").exists():
            shutil.rmtree(self.jar_dir)  # left by an older, unfinished layout
        try:
            scratch.rename(self.jar_dir)
        except OSError:
            shutil.rmtree(scratch)  # another install won the race
        if not (self.jar_dir / ".complete").exists():
            raise ServiceError(f"Kafka jars missing in {self.jar_dir}")

    def start(self) -> None:
        config = self.home / "server.properties"
        self.home.mkdir(parents=True, exist_ok=True)
        config.write_text(server_properties(self.settings, self.home / "data", self.node_id))
        if not (self.home / "data" / "meta.properties").exists():
            self.format_storage(config, self.cluster_id())
        self.process.spawn(self._java("kafka.Kafka", str(config)))

    def format_storage(self, config: Path, cluster_id: str) -> None:
        """Format the KRaft log directories of ``config`` for ``cluster_id``.

        ``--option=value``: one id in 64 starts with "-", which as a separate argument
        the tool reads as an unknown option (a CI run failed on it).
        """
        run_checked(
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "--ignore-formatted",
                f"--cluster-id={cluster_id}",
                f"--config={config}",
            )
        )

    def cluster_id(self) -> str:
        """The id every node of this stack formats its storage with (one cluster)."""
        if self.settings.stack.kafka_brokers == 1:
            return new_cluster_id()
        path = self.settings.stack.dir / "kafka-cluster-id"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(new_cluster_id())
        return path.read_text().strip()

    def is_ready(self) -> bool:
        """Ready once this node answers metadata that lists itself as a broker."""
        host, port = self.address
        if not port_open(host, port):
            return False  # spares librdkafka's connection-refused log lines
        admin = AdminClient({"bootstrap.servers": f"{host}:{port}"})
        try:
            metadata = admin.list_topics(timeout=2)
        except Exception:  # any failure means "not ready yet"
            return False
        return self.node_id in metadata.brokers

    def after_ready(self) -> None:
        """Nothing to create: topics are created by ``bundlestream topics create``."""

    def _java(self, main_class: str, *args: str) -> list[str]:
        heap = self.settings.stack.kafka_heap
        return [
            "java",
            f"-Xmx{heap}",
            f"-Xms{heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            "-cp",
            f"{self.jar_dir}/*",
            main_class,
            *args,
        ]


def kafka_version() -> str:
    """The broker version pinned in the pom (names the jar cache directory)."""
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text())
    if match is None:
        raise ServiceError(f"no <kafka.version> in {POM}")
    return match.group(1)


def new_cluster_id() -> str:
    """A fresh KRaft cluster id (see ``cluster_id_from``)."""
    return cluster_id_from(uuid.uuid4().bytes)


def cluster_id_from(raw: bytes) -> str:
    """The cluster id of 16 bytes: base64url without padding (Kafka's Uuid), never one
    that starts with "-".

    Kafka's own ``Uuid.randomUuid`` never returns an id whose text starts with "-" (the
    command-line tools would read it as an option); it draws again. Clearing the top bit
    of the first byte does the same without a loop: the first character then encodes a
    value below 32, one of A-Z or a-f ("-" is 62). A version-4 UUID keeps its version
    and variant bits (bytes 6 and 8), and is not one of Kafka's reserved ids (zero, one).
    """
    first = raw[0] & 0x7F
    return base64.urlsafe_b64encode(bytes([first]) + raw[1:]).rstrip(b"=").decode()


def broker_addresses(settings: Settings) -> list[tuple[str, int]]:
    """The (host, port) of each node's client listener, node 1 first."""
    given = [split_host_port(a.strip()) for a in settings.kafka.bootstrap.split(",")]
    host, port = given[0]
    step = settings.stack.kafka_broker_port_step
    return [
        given[i] if i < len(given) else (host, port + i * step)
        for i in range(settings.stack.kafka_brokers)
    ]


def controller_address(settings: Settings, node_id: int) -> tuple[str, int]:
    host = broker_addresses(settings)[0][0]
    return host, settings.stack.kafka_controller_port + (
        node_id - 1
    ) * settings.stack.kafka_broker_port_step


def server_properties(settings: Settings, data_dir: Path, node_id: int = 1) -> str:
    """One node's configuration: loopback listeners, retention forever, a static quorum
    of every node, internal topics replicated on up to three of them."""
    host, port = broker_addresses(settings)[node_id - 1]
    controller = "{}:{}".format(*controller_address(settings, node_id))
    nodes = range(1, settings.stack.kafka_brokers + 1)
    voters = ",".join("{}@{}:{}".format(i, *controller_address(settings, i)) for i in nodes)
    replicas, in_sync = min(3, settings.stack.kafka_brokers), min(2, settings.stack.kafka_brokers)
    return "\n".join(
        [
            "process.roles=broker,controller",
            f"node.id={node_id}",
            f"controller.quorum.voters={voters}",
            f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{controller}",
            f"advertised.listeners=PLAINTEXT://{host}:{port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={data_dir.resolve()}",
            f"num.partitions={settings.kafka.topic_partitions}",
            # Event topics are the source of truth: never delete by age or size.
            "log.retention.ms=-1",
            "log.retention.bytes=-1",
            # Tests may rely on it; bundlestream itself creates its topics explicitly.
            "auto.create.topics.enable=true",
            f"default.replication.factor={replicas}",
            f"min.insync.replicas={in_sync}",
            f"offsets.topic.replication.factor={replicas}",
            "offsets.topic.num.partitions=10",
            f"transaction.state.log.replication.factor={replicas}",
            f"transaction.state.log.min.isr={in_sync}",
            f"share.coordinator.state.topic.replication.factor={replicas}",
            f"share.coordinator.state.topic.min.isr={in_sync}",
            "group.initial.rebalance.delay.ms=0",
            "num.network.threads=2",
            "num.io.threads=4",
            "",
        ]
    )
