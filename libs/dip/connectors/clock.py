"""Injectable UTC clocks: the real one by default, a simulated one for demos that replay days in minutes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock: an aware UTC ``datetime``."""
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """``2026-11-26T14:00:00.123456Z`` (the envelope's ``fetched_at`` format)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SimulatedClock:
    """Simulated UTC time: ``start`` when created, then it runs at the speed of ``wall`` and jumps on ``advance``.

    Durations between two readings are real ones plus the jumps, so latencies measured on it stay true.
    """

    def __init__(self, start: datetime, wall: Clock = utc_now) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._wall = wall
        self._offset = start - wall()

    def __call__(self) -> datetime:
        return (self._wall() + self._offset).astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        """Jump forward by ``delta`` (never backwards); returns the new simulated now."""
        if delta < timedelta(0):
            raise ValueError(f"a clock does not go back ({delta})")
        self._offset += delta
        return self()
