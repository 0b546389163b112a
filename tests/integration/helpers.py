"""Helpers for integration tests: isolated configs, producing known Kafka messages, the built artefacts."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from dip.config import Config


def isolated_config(base: Config, tmp_path: Path) -> Config:
    """A copy of ``base`` with its own lake folder and its own Kafka topic names."""
    tag = uuid.uuid4().hex[:8]
    config = base.model_copy(deep=True)
    config.lake.root = (tmp_path / "lake").as_uri()
    config.kafka.topics.raw_prefix = f"t{tag}.raw."
    config.kafka.topics.dlq = f"t{tag}.dlq"
    config.kafka.topics.predictions = f"t{tag}.predictions"
    config.streaming.app_id = f"t{tag}"
    return config


def envelope(
    source: str,
    entity: str,
    entity_id: str,
    payload: dict[str, Any],
    *,
    fetched_at: str,
    account_id: str = "acc1",
    schema_version: int = 1,
    run_id: str = "run-1",
) -> bytes:
    """One connector envelope as the connectors publish it."""
    return json.dumps(
        {
            "source": source,
            "entity": entity,
            "schema_version": schema_version,
            "account_id": account_id,
            "entity_id": entity_id,
            "fetched_at": fetched_at,
            "request_id": f"req-{entity_id}",
            "run_id": run_id,
            "payload": payload,
        },
        ensure_ascii=False,
    ).encode()


def produce(config: Config, topic: str, messages: list[tuple[bytes | None, bytes | None]], partition: int = 0) -> None:
    """Produce ``(key, value)`` pairs in order to one partition and wait for every acknowledgement."""
    producer = Producer({"bootstrap.servers": config.kafka.bootstrap_servers, "enable.idempotence": True})
    errors: list[str] = []
    for key, value in messages:
        producer.produce(
            topic,
            key=key,
            value=value,
            partition=partition,
            on_delivery=lambda err, _m: errors.append(str(err)) if err else None,
        )
    assert producer.flush(30) == 0 and not errors, errors


@dataclass(frozen=True)
class Artefacts:
    """``dist/`` as `make dist` builds it, and a jobs Python with only its wheel installed."""

    dist: Path
    manifest: dict[str, Any]
    python: Path

    @property
    def dip(self) -> Path:
        """The wheel's ``dip`` CLI."""
        return self.python.parent / "dip"


def jobs_python(venv: Path, wheel: Path) -> Path:
    """A venv with only the dip wheel installed; its third-party packages are the dev venv's (a plain path in a
    .pth file: the dev venv's own .pth files, among them the editable dip, are not processed)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    dev_site = next(p for p in map(Path, sys.path) if p.name == "site-packages" and (p / "pyspark").is_dir())
    (site / "dev_venv_packages.pth").write_text(f"{dev_site}\n", encoding="utf-8")
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
        check=True, timeout=300,
    )  # fmt: skip
    found = subprocess.run(
        [str(python), "-c", "import dip; print(dip.__file__)"], capture_output=True, text=True, check=True
    )
    assert found.stdout.startswith(str(site)), found.stdout  # the wheel, not the source tree
    return python
