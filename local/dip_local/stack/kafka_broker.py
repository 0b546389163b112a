"""A single-node Kafka 4.x broker in KRaft mode, run from the Maven-resolved jars."""

from __future__ import annotations

import base64
import socket
import subprocess
import time
import uuid
from pathlib import Path

from dip.config import Config
from dip.spark.jars import resolved_jars
from dip_local.stack.prereqs import ensure_command
from dip_local.stack.process import ManagedProcess

HEALTH_TOPIC = "dip.stack.health"


def host_port(bootstrap_servers: str) -> tuple[str, int]:
    """First ``host:port`` of a bootstrap list."""
    first = bootstrap_servers.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    return host or "127.0.0.1", int(port)


def server_properties(config: Config, data_dir: Path) -> str:
    """The broker's ``server.properties`` for a combined broker+controller node on loopback."""
    host, port = host_port(config.kafka.bootstrap_servers)
    node = config.stack.kafka.node_id
    controller = config.stack.kafka.controller_port
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node),
        "controller.quorum.voters": f"{node}@{host}:{controller}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": str(config.kafka.topics.partitions),
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "3",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
        "log.retention.hours": "-1",
    }
    return "".join(f"{k}={v}\n" for k, v in props.items())


LOG4J2 = """status = warn
appender.file.type = Console
appender.file.name = OUT
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
"""


def cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, never starting with '-'
    (as Kafka's own ``Uuid.randomUuid``: a leading dash reads as a command-line option)."""
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate


class KafkaBroker:
    """Format, start, health-check and stop the local broker; state lives under ``<state_dir>/kafka``."""

    def __init__(self, config: Config) -> None:
        self.config = config
        state = Path(config.state_dir)
        self.home = state / "kafka"
        self.data_dir = self.home / "data"
        self.process = ManagedProcess("kafka", state / "run", state / "logs")

    @property
    def address(self) -> str:
        return self.config.kafka.bootstrap_servers

    def _java_cmd(self, main: str, *args: str, heap: str = "256m") -> list[str]:
        java = ensure_command("java", allow_apt=self.config.stack.apt_install)
        classpath = ":".join(str(j) for j in resolved_jars(self.config, "kafka-broker"))
        return [
            java,
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "-cp",
            classpath,
            main,
            *args,
        ]

    def _prepare(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        props = self.home / "server.properties"
        props.write_text(server_properties(self.config, self.data_dir), encoding="utf-8")
        (self.home / "log4j2.properties").write_text(LOG4J2, encoding="utf-8")
        if not (self.data_dir / "meta.properties").is_file():
            cmd = self._java_cmd("kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id()}", "-c", str(props))
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise RuntimeError(f"formatting Kafka storage failed: {(result.stderr or result.stdout)[-800:]}")
        return props

    def start(self) -> bool:
        """Start the broker unless it runs already; True if it was started now."""
        if self.process.pid() is not None:
            return False
        host, port = host_port(self.address)
        if port_open(host, port):
            raise RuntimeError(f"port {port} on {host} is taken by a process DIP did not start")
        props = self._prepare()
        self.process.start(self._java_cmd("kafka.Kafka", str(props), heap=self.config.stack.kafka.heap))
        return True

    def healthy(self, timeout_s: float = 10.0) -> bool:
        """True when a produce to the health topic is acknowledged."""
        host, port = host_port(self.address)
        if not port_open(host, port):
            return False
        from confluent_kafka import KafkaException

        from dip.io.kafka import make_producer

        delivered: list[bool] = []
        producer = make_producer(self.config, **{"message.timeout.ms": int(timeout_s * 1000), "acks": "all"})
        try:
            producer.produce(HEALTH_TOPIC, b"ping", on_delivery=lambda err, _msg: delivered.append(err is None))
            producer.flush(timeout_s)
        except KafkaException:
            return False
        return delivered == [True]

    def stop(self) -> bool:
        return self.process.stop(timeout_s=30.0)


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True if something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def wait_until(check, timeout_s: float, interval_s: float = 0.5) -> bool:
    """Poll ``check()`` until it is true or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval_s)
    return False
