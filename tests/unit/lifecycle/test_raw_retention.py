"""The local raw zone's retention: old days move to <lake>/archive/raw (still replayable), older ones are deleted."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

from dip.config.models import RawRetentionConfig
from dip.connectors.raw_zone import ARCHIVE_ROOT, LocalStore, RawZone
from dip.lifecycle.retention import RawRetention, apply_raw_retention


def _put(store: LocalStore, root: str, day: str, run: str = "r1") -> None:
    stem = f"{root}/source=instagram/entity=media/date={day}/{run}-000001"
    meta = {"run_id": run, "seq": 1, "account_id": "a1", "fetched_at": f"{day}T10:00:00Z"}
    store.put_new(f"{stem}.meta.json", json.dumps(meta).encode())
    store.put_new(f"{stem}.json.gz", gzip.compress(b'{"data": []}', mtime=0))


def test_archive_after_and_expire_after(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for day in ("2026-11-27", "2026-10-29", "2026-10-27", "2024-01-01"):
        _put(store, "raw", day)
    _put(store, ARCHIVE_ROOT, "2024-11-01")  # archived earlier, now past expiry
    raw = RawRetentionConfig(archive_after_days=30, expire_after_days=730)

    result = apply_raw_retention(store, raw, today=date(2026, 11, 28))

    assert result == RawRetention(archived=2, expired=4)  # one day = 2 objects (body + meta)
    assert store.list("raw/") == [
        "raw/source=instagram/entity=media/date=2026-10-29/r1-000001.json.gz",
        "raw/source=instagram/entity=media/date=2026-10-29/r1-000001.meta.json",
        "raw/source=instagram/entity=media/date=2026-11-27/r1-000001.json.gz",
        "raw/source=instagram/entity=media/date=2026-11-27/r1-000001.meta.json",
    ]
    assert store.list("archive/") == [
        "archive/raw/source=instagram/entity=media/date=2026-10-27/r1-000001.json.gz",
        "archive/raw/source=instagram/entity=media/date=2026-10-27/r1-000001.meta.json",
    ]
    # the archived day reads back exactly as it was stored (what `dip replay --archive` republishes)
    [stored] = list(RawZone(store, ARCHIVE_ROOT).read_day("instagram", "2026-10-27"))
    assert stored.body == b'{"data": []}'
    assert stored.meta["account_id"] == "a1"
    assert list(RawZone(store).read_day("instagram", "2026-10-27")) == []
    # a second pass has nothing left to do
    assert apply_raw_retention(store, raw, today=date(2026, 11, 28)) == RawRetention(0, 0)


def test_an_interrupted_move_is_completed(tmp_path: Path) -> None:
    """The copy exists but the original was not removed yet: the next pass removes the original only."""
    store = LocalStore(tmp_path)
    _put(store, "raw", "2026-01-01")
    _put(store, ARCHIVE_ROOT, "2026-01-01")
    result = apply_raw_retention(
        store, RawRetentionConfig(archive_after_days=30, expire_after_days=None), date(2026, 11, 28)
    )
    assert result == RawRetention(archived=2, expired=0)
    assert store.list("raw/") == []
    assert len(store.list("archive/")) == 2
