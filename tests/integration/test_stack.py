"""`dip stack up|status|down` on spare ports: idempotent up, health, and nothing left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dip.config import Config, load_config
from dip_local.jars import resolve
from dip_local.stack import stack_down, stack_status, stack_up
from dip_local.stack.kafka_broker import port_open

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture()
def spare_stack_config(tmp_path: Path, test_config: Config) -> Config:
    from dip_local.simulator.server import free_port

    ports: list[int] = []
    while len(ports) < 3:  # never a fixed port another run could hold
        ports += [p for p in [free_port()] if p not in ports]
    broker, controller, redis_port = ports
    environ = {
        **os.environ,
        "DIP__STATE_DIR": str(tmp_path / "state"),
        "DIP__JARS__DIR": test_config.jars.dir,
        "DIP__KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{broker}",
        "DIP__STACK__KAFKA__CONTROLLER_PORT": str(controller),
        "DIP__REDIS__PORT": str(redis_port),
    }
    return load_config("local", environ=environ)


def test_up_twice_status_then_down_leaves_nothing(spare_stack_config: Config) -> None:
    config = spare_stack_config
    resolve(config, "kafka-broker")
    try:
        first = stack_up(config)
        assert [(s.name, s.action, s.healthy) for s in first] == [
            ("kafka", "started", True),
            ("redis", "started", True),
        ]
        second = stack_up(config)
        assert [(s.name, s.action) for s in second] == [("kafka", "already running"), ("redis", "already running")]
        assert [s.pid for s in second] == [s.pid for s in first]
        status = stack_status(config)
        assert [(s.name, s.healthy) for s in status] == [("kafka", True), ("redis", True)]
        assert (Path(config.state_dir) / "kafka" / "data" / "meta.properties").is_file()
    finally:
        down = stack_down(config)
    assert [(s.name, s.action) for s in down] == [("redis", "stopped"), ("kafka", "stopped")]
    pids = [s.pid for s in first]
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids)
    broker = int(config.kafka.bootstrap_servers.rsplit(":", 1)[1])
    assert not port_open("127.0.0.1", broker) and not port_open("127.0.0.1", config.redis.port)
    assert [(s.name, s.action) for s in stack_down(config)] == [("redis", "not running"), ("kafka", "not running")]
