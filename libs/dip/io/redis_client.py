"""A Redis client built from :class:`RedisConfig`; call it where the client is used (driver, executor, API)."""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from dip.config.models import RedisConfig
from dip.io.credentials import redis_password

# Two quick retries (<= ~0.2 s) on connection errors: a blip is absorbed, an outage fails fast
# (redis-py's default retries back off for seconds, which would stall API requests and /readyz).
_RETRIES = 2


def _options(config: RedisConfig) -> dict[str, Any]:
    return dict(
        host=config.host,
        port=config.port,
        db=config.db,
        password=redis_password(config),
        ssl=config.tls,
        socket_timeout=config.socket_timeout_s,
        socket_connect_timeout=config.socket_timeout_s,
    )


def make_client(config: RedisConfig) -> redis.Redis:
    """A lazily connecting client (bytes responses; the codec decodes) with the configured timeouts and TLS."""
    return redis.Redis(**_options(config), retry=Retry(ExponentialBackoff(cap=0.1, base=0.02), _RETRIES))


def unreachable(config: RedisConfig) -> str | None:
    """Why Redis does not answer PING (the error text), or None when it does: a job's check before it starts."""
    client = make_client(config)
    try:
        client.ping()
    except redis.RedisError as exc:
        return str(exc)
    finally:
        client.close()
    return None


def make_async_client(config: RedisConfig) -> redis.asyncio.Redis:
    """The asyncio twin of :func:`make_client`, for the serving API's event loop."""
    return redis.asyncio.Redis(**_options(config), retry=AsyncRetry(ExponentialBackoff(cap=0.1, base=0.02), _RETRIES))
