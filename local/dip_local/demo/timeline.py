"""The demo's simulated timeline: ingest rounds every few simulated hours, ending at a fixed moment.

The end is UTC midnight of the first demo run's day, kept in the ingest state folder (``--clean``
removes it), so every later run sees the same simulated world and skips the rounds already done.
Midnight keeps the rounds in the same place relative to the daily feature windows, so the counts
of a demo do not depend on the hour it runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

DEFAULT_ROUNDS = 21  # 7 simulated days: with the demo's posting rate, ~210 posts get a label and features
DEFAULT_HOURS_PER_ROUND = 8
NEWEST_POST_BEFORE_END = timedelta(hours=6)  # the newest post is fresh: features, no label yet
STATE_FILE = "demo-timeline.json"


@dataclass(frozen=True)
class Timeline:
    """``rounds`` ingest rounds ``hours_per_round`` simulated hours apart, the last one at ``end``."""

    end: datetime
    rounds: int
    hours_per_round: int
    done_until: datetime | None = None  # the last round already ingested (by an earlier run)

    def __post_init__(self) -> None:
        if self.rounds < 1 or self.hours_per_round < 1:
            raise ValueError(f"rounds ({self.rounds}) and hours per round ({self.hours_per_round}) must be >= 1")

    @property
    def start(self) -> datetime:
        return self.end - timedelta(hours=self.hours_per_round * (self.rounds - 1))

    @property
    def newest_post(self) -> datetime:
        """Where the simulated world's newest post is published."""
        return self.end - NEWEST_POST_BEFORE_END

    def round_times(self) -> list[datetime]:
        """Every round's simulated time, oldest first."""
        step = timedelta(hours=self.hours_per_round)
        return [self.start + step * k for k in range(self.rounds)]

    def pending(self) -> list[datetime]:
        """The rounds still to ingest; when all are done, the last one again (it must publish nothing)."""
        todo = [t for t in self.round_times() if self.done_until is None or t > self.done_until]
        return todo or [self.done_until or self.end]


def midnight(day: date) -> datetime:
    """UTC midnight at the start of ``day``."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def load_timeline(state_dir: Path, rounds: int, hours_per_round: int, today: date) -> Timeline:
    """The timeline kept in ``state_dir`` (its end and progress), or a new one ending at ``today``'s midnight."""
    path = state_dir / STATE_FILE
    if not path.exists():
        return Timeline(midnight(today), rounds, hours_per_round)
    data = json.loads(path.read_text(encoding="utf-8"))
    done = data.get("done_until")
    return Timeline(
        datetime.fromisoformat(data["end"]),
        rounds,
        hours_per_round,
        datetime.fromisoformat(done) if done else None,
    )


def save_progress(state_dir: Path, timeline: Timeline, done_until: datetime) -> Timeline:
    """Record that the round at ``done_until`` was ingested; the updated timeline."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"end": timeline.end.isoformat(), "done_until": done_until.isoformat()}), "utf-8")
    tmp.replace(path)
    return Timeline(timeline.end, timeline.rounds, timeline.hours_per_round, done_until)
