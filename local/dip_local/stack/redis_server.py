"""A local ``redis-server`` on loopback, from Debian's package."""

from __future__ import annotations

from pathlib import Path

import redis

from dip.config import Config
from dip.io.redis_client import make_client
from dip_local.stack.kafka_broker import port_open
from dip_local.stack.prereqs import ensure_command
from dip_local.stack.process import ManagedProcess


class RedisServer:
    """Start, health-check and stop Redis; its data and append-only file live under ``<state_dir>/redis``."""

    def __init__(self, config: Config) -> None:
        self.config = config
        state = Path(config.state_dir)
        self.home = state / "redis"
        self.process = ManagedProcess("redis", state / "run", state / "logs")

    @property
    def address(self) -> str:
        return f"{self.config.redis.host}:{self.config.redis.port}"

    def start(self) -> bool:
        if self.process.pid() is not None:
            return False
        if port_open(self.config.redis.host, self.config.redis.port):
            raise RuntimeError(
                f"port {self.config.redis.port} on {self.config.redis.host} is taken by a process DIP did not start"
            )
        binary = ensure_command("redis-server", allow_apt=self.config.stack.apt_install)
        self.home.mkdir(parents=True, exist_ok=True)
        cmd = [
            binary,
            "--bind",
            self.config.redis.host,
            "--port",
            str(self.config.redis.port),
            "--dir",
            str(self.home),
            "--daemonize",
            "no",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--protected-mode",
            "yes",
        ]
        self.process.start(cmd)
        return True

    def healthy(self) -> bool:
        client = make_client(self.config.redis)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> bool:
        return self.process.stop(timeout_s=15.0)
