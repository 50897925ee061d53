"""A single-node Apache Kafka broker in KRaft mode, from Maven Central jars.

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
    """The local broker: combined controller and broker, node id 1, loopback only."""

    name = "kafka"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.home = settings.stack.dir / "kafka"

    @property
    def jar_dir(self) -> Path:
        return self.settings.stack.cache_dir / f"kafka-{kafka_version()}"

    def ports(self) -> list[tuple[str, int]]:
        host, port = split_host_port(self.settings.kafka.bootstrap)
        return [(host, port), (host, self.settings.stack.kafka_controller_port)]

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
        config.write_text(server_properties(self.settings, self.home / "data"))
        if not (self.home / "data" / "meta.properties").exists():
            self.format_storage(config, new_cluster_id())
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

    def is_ready(self) -> bool:
        if not port_open(*split_host_port(self.settings.kafka.bootstrap)):
            return False  # spares librdkafka's connection-refused log lines
        admin = AdminClient({"bootstrap.servers": self.settings.kafka.bootstrap})
        try:
            metadata = admin.list_topics(timeout=2)
        except Exception:  # any failure means "not ready yet"
            return False
        return len(metadata.brokers) > 0

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


def server_properties(settings: Settings, data_dir: Path) -> str:
    """The broker configuration: one node, loopback listeners, retention forever."""
    host, port = split_host_port(settings.kafka.bootstrap)
    controller = f"{host}:{settings.stack.kafka_controller_port}"
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@{controller}",
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
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=10",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "num.network.threads=2",
            "num.io.threads=4",
            "",
        ]
    )
