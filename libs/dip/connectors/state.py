"""Durable incremental state per source/account: stream cursors, high-water marks, published fingerprints.

It lives where the lake lives (``<lake.root>/_state/ingest/`` on the local disk or S3, or ``connectors.state_dir``),
so an EMR step or an Airflow worker that starts on a fresh machine continues where the last run stopped.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from dip.config import Config
from dip.connectors.base import StreamState
from dip.connectors.raw_zone import ObjectStore, store_at


@dataclass
class AccountState:
    """What one account of one source has safely published (everything here was acked by Kafka)."""

    source: str
    account_id: str
    streams: dict[str, StreamState] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    retry: dict[str, int] = field(default_factory=dict)  # items refused for good, asked again by later runs


class StateStore:
    """One JSON object per source/account (``<source>/<account>.json``); each save replaces it atomically
    (temp file + rename locally, one PUT on S3), so a killed run leaves the previous or the new state."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    @staticmethod
    def key(source: str, account_id: str) -> str:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in account_id)
        return f"{source}/{safe}.json"

    def load(self, source: str, account_id: str) -> AccountState:
        try:
            data = json.loads(self.store.get(self.key(source, account_id)))
        except FileNotFoundError:
            return AccountState(source, account_id)
        streams = {name: StreamState(**value) for name, value in data.get("streams", {}).items()}
        return AccountState(
            source, account_id, streams, dict(data.get("fingerprints", {})), dict(data.get("retry", {}))
        )

    def save(self, state: AccountState) -> None:
        data = {
            "source": state.source,
            "account_id": state.account_id,
            "streams": {k: asdict(v) for k, v in sorted(state.streams.items())},
            "fingerprints": dict(sorted(state.fingerprints.items())),
            "retry": dict(sorted(state.retry.items())),
        }
        self.store.put(self.key(state.source, state.account_id), json.dumps(data, indent=1).encode("utf-8"))


def state_location(config: Config) -> str:
    """``connectors.state_dir`` (a folder or URI), else ``<lake.root>/_state/ingest``."""
    return config.connectors.state_dir or f"{config.lake.root.rstrip('/')}/_state/ingest"


def local_state_dir(config: Config) -> Path:
    """The ingest state's folder when it is on the local disk (the demo keeps its timeline next to it)."""
    location = state_location(config)
    parsed = urlparse(location)
    if parsed.scheme not in ("", "file"):
        raise ValueError(f"the ingest state is at {location}, not on the local disk")
    return Path(url2pathname(parsed.path)) if parsed.scheme else Path(location)


def state_store(config: Config) -> StateStore:
    return StateStore(store_at(state_location(config), config.connectors.s3_endpoint_url))
