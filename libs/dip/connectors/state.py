"""Durable incremental state per source/account: stream cursors, high-water marks, published fingerprints."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dip.connectors.base import StreamState


@dataclass
class AccountState:
    """What one account of one source has safely published (everything here was acked by Kafka)."""

    source: str
    account_id: str
    streams: dict[str, StreamState] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    retry: dict[str, int] = field(default_factory=dict)  # items refused for good, asked again by later runs


class StateStore:
    """One JSON file per source/account under ``<state_dir>/ingest-state/``; written atomically (temp + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, source: str, account_id: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in account_id)
        return self.root / source / f"{safe}.json"

    def load(self, source: str, account_id: str) -> AccountState:
        path = self.path(source, account_id)
        if not path.exists():
            return AccountState(source, account_id)
        data = json.loads(path.read_text(encoding="utf-8"))
        streams = {name: StreamState(**value) for name, value in data.get("streams", {}).items()}
        return AccountState(
            source, account_id, streams, dict(data.get("fingerprints", {})), dict(data.get("retry", {}))
        )

    def save(self, state: AccountState) -> None:
        path = self.path(state.source, state.account_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "source": state.source,
            "account_id": state.account_id,
            "streams": {k: asdict(v) for k, v in sorted(state.streams.items())},
            "fingerprints": dict(sorted(state.fingerprints.items())),
            "retry": dict(sorted(state.retry.items())),
        }
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
