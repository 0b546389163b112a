"""Bring the local services up, down, and report their state."""

from __future__ import annotations

import time
from dataclasses import dataclass

from dip.config import Config
from dip.stack.kafka_broker import KafkaBroker, wait_until
from dip.stack.redis_server import RedisServer


@dataclass(frozen=True)
class ServiceStatus:
    """What `dip stack` reports for one service."""

    name: str
    address: str
    pid: int | None
    healthy: bool
    action: str
    seconds: float


def _services(config: Config) -> list[KafkaBroker | RedisServer]:
    return [KafkaBroker(config), RedisServer(config)]


def stack_up(config: Config) -> list[ServiceStatus]:
    """Start every service that is not running and wait until each is healthy (idempotent)."""
    if not config.stack.enabled:
        raise RuntimeError(f"the embedded stack is disabled in env {config.env!r} (stack.enabled: false)")
    statuses = []
    for service in _services(config):
        started_at = time.monotonic()
        started = service.start()
        healthy = wait_until(service.healthy, config.stack.startup_timeout_s, interval_s=0.5)
        if not healthy:
            raise RuntimeError(
                f"{service.process.name} did not become healthy on {service.address} within "
                f"{config.stack.startup_timeout_s:.0f}s; see {service.process.logfile}"
            )
        statuses.append(
            ServiceStatus(
                service.process.name,
                service.address,
                service.process.pid(),
                True,
                "started" if started else "already running",
                time.monotonic() - started_at,
            )
        )
    return statuses


def stack_down(config: Config) -> list[ServiceStatus]:
    """Stop every service DIP started; nothing is left running."""
    statuses = []
    for service in reversed(_services(config)):
        started_at = time.monotonic()
        stopped = service.stop()
        statuses.append(
            ServiceStatus(
                service.process.name,
                service.address,
                None,
                False,
                "stopped" if stopped else "not running",
                time.monotonic() - started_at,
            )
        )
    return statuses


def stack_status(config: Config) -> list[ServiceStatus]:
    """Pid and health of each service, without changing anything."""
    statuses = []
    for service in _services(config):
        started_at = time.monotonic()
        pid = service.process.pid()
        healthy = pid is not None and service.healthy()
        statuses.append(
            ServiceStatus(
                service.process.name,
                service.address,
                pid,
                healthy,
                "running" if pid else "stopped",
                time.monotonic() - started_at,
            )
        )
    return statuses
