"""Bring the local services up, down, and report their state."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from dip.config import Config
from dip_local.stack.kafka_broker import KafkaBroker, wait_until
from dip_local.stack.redis_server import RedisServer


@dataclass(frozen=True)
class ServiceStatus:
    """What `dip stack` reports for one service."""

    name: str
    address: str
    pid: int | None
    healthy: bool
    action: str
    seconds: float


Service = KafkaBroker | RedisServer


def _services(config: Config) -> list[Service]:
    return [KafkaBroker(config), RedisServer(config)]


def _timed(services: list[Service], act: Callable[[Service], tuple[int | None, bool, str]]) -> list[ServiceStatus]:
    """Apply ``act`` to each service in turn and time it; ``act`` returns the pid, health and what was done."""
    statuses = []
    for service in services:
        started_at = time.monotonic()
        pid, healthy, action = act(service)
        statuses.append(
            ServiceStatus(service.process.name, service.address, pid, healthy, action, time.monotonic() - started_at)
        )
    return statuses


def stack_up(config: Config) -> list[ServiceStatus]:
    """Start every service that is not running and wait until each is healthy (idempotent)."""
    if not config.stack.enabled:
        raise RuntimeError(f"the embedded stack is disabled in env {config.env!r} (stack.enabled: false)")

    def start(service: Service) -> tuple[int | None, bool, str]:
        started = service.start()
        if not wait_until(service.healthy, config.stack.startup_timeout_s, interval_s=0.5):
            raise RuntimeError(
                f"{service.process.name} did not become healthy on {service.address} within "
                f"{config.stack.startup_timeout_s:.0f}s; see {service.process.logfile}"
            )
        return service.process.pid(), True, "started" if started else "already running"

    return _timed(_services(config), start)


def stack_down(config: Config) -> list[ServiceStatus]:
    """Stop every service DIP started; nothing is left running."""
    return _timed(
        list(reversed(_services(config))),
        lambda service: (None, False, "stopped" if service.stop() else "not running"),
    )


def _status(service: Service) -> tuple[int | None, bool, str]:
    pid = service.process.pid()
    return pid, pid is not None and service.healthy(), "running" if pid else "stopped"


def stack_status(config: Config) -> list[ServiceStatus]:
    """Pid and health of each service, without changing anything."""
    return _timed(_services(config), _status)
