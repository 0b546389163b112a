"""`dip demo --clean`: start over — lake, ingest state, raw/DLQ topics and online keys."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

from dip.config import Config


def clean_lake(config: Config) -> str:
    """Remove the local lake folder (only ``file://`` lakes: a demo never deletes a remote lake)."""
    parsed = urlparse(config.lake.root)
    if parsed.scheme != "file":
        raise RuntimeError(f"--clean only removes a local lake, not {config.lake.root}")
    path = Path(parsed.path)
    shutil.rmtree(path, ignore_errors=True)
    from dip.connectors.ingest import ingest_state_dir

    shutil.rmtree(ingest_state_dir(config), ignore_errors=True)
    return str(path)


def clean_topics(config: Config) -> list[str]:
    """Delete the raw and DLQ topics (they are re-created on the next publish)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": config.kafka.bootstrap_servers})
    prefix = config.kafka.topics.raw_prefix
    names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix) or t == config.kafka.topics.dlq]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result()
    return names


def clean_online(config: Config) -> int:
    """Delete every ``dip:*`` key from the online store."""
    import redis

    client = redis.Redis(host=config.redis.host, port=config.redis.port, db=config.redis.db)
    try:
        keys = list(client.scan_iter("dip:*", count=1000))
        return client.delete(*keys) if keys else 0
    finally:
        client.close()
