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
    from dip.connectors.state import local_state_dir

    shutil.rmtree(local_state_dir(config), ignore_errors=True)
    return str(path)


def clean_topics(config: Config) -> list[str]:
    """Delete the raw, DLQ and predictions topics (they are re-created on the next publish)."""
    from dip.io.kafka import make_admin

    admin = make_admin(config)
    topics = config.kafka.topics
    names = [
        t
        for t in admin.list_topics(timeout=10).topics
        if t.startswith(topics.raw_prefix) or t in (topics.dlq, topics.predictions)
    ]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result()
    return names


def clean_online(config: Config) -> int:
    """Delete every ``dip:*`` key from the online store."""
    from dip.io.redis_client import make_client

    client = make_client(config.redis)
    try:
        keys = list(client.scan_iter("dip:*", count=1000))
        return client.delete(*keys) if keys else 0
    finally:
        client.close()


def clean_registry(config: Config) -> str:
    """Delete the registered model (its versions and aliases); runs stay in the experiment as history."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    from dip.ml.model_registry import tracking_uri

    uri = tracking_uri(config)
    name = config.ml.registered_model
    try:
        MlflowClient(tracking_uri=uri, registry_uri=uri).delete_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        return f"no registered model {name}"
    return f"registered model {name} deleted"
