"""Export a job's metrics registry: HTTP while it runs, Pushgateway or node-exporter textfile at the end."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, push_to_gateway, start_http_server, write_to_textfile

from dip.config import Config


def serve_metrics(registry: CollectorRegistry, config: Config) -> int | None:
    """Serve ``/metrics`` on ``metrics.port`` when configured (long-running jobs); returns the port."""
    if config.metrics.port is None:
        return None
    start_http_server(config.metrics.port, addr=config.metrics.host, registry=registry)
    return config.metrics.port


def flush_metrics(registry: CollectorRegistry, config: Config, job: str) -> str:
    """Push to the Pushgateway when configured, else write ``<textfile_dir>/<job>.prom``; returns where."""
    if config.metrics.pushgateway_url:
        push_to_gateway(config.metrics.pushgateway_url, job=job, registry=registry)
        return config.metrics.pushgateway_url
    folder = Path(config.metrics.textfile_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{job}.prom"
    write_to_textfile(str(target), registry)  # atomic: temp file + rename
    os.chmod(target, 0o644)
    return str(target)
