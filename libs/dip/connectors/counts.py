"""Counters of the pages a source published: what ``dip ingest`` and ``dip replay`` both report."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(kw_only=True)
class PageCounts:
    """Pages processed, responses in them, records published, dead letters sent and the seconds it took."""

    pages: int = 0
    responses: int = 0
    records: int = 0
    dlq: int = 0
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        """Add ``counts`` to the counters of those names; safe from the threads that fetch accounts in parallel."""
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)
