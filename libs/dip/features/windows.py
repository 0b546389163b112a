"""UTC window arithmetic shared by the feature transforms (independent of the session time zone)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pyspark.sql import Column
from pyspark.sql import functions as F

DAY_HOURS = 24


def day_start(day: date) -> datetime:
    """Midnight UTC that opens ``day`` (timezone-aware)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def ts_lit(moment: datetime) -> Column:
    """A TIMESTAMP literal of an aware datetime, built from epoch seconds so no local zone is involved."""
    if moment.tzinfo is None:
        raise ValueError(f"need a timezone-aware datetime, got {moment!r}")
    return F.timestamp_seconds(F.lit(int(moment.timestamp())))


def epoch_s(ts: Column) -> Column:
    """Seconds since the epoch of a TIMESTAMP column."""
    return F.unix_seconds(ts)


def window_start(ts: Column, window_hours: int) -> Column:
    """Start of the ``window_hours``-long UTC window holding ``ts`` (windows are aligned to UTC midnight)."""
    if window_hours <= 0 or DAY_HOURS % window_hours:
        raise ValueError(f"window_hours must divide 24, got {window_hours}")
    size = window_hours * 3600
    return F.timestamp_seconds(F.floor(epoch_s(ts) / size) * size)


def utc_hour(ts: Column) -> Column:
    """Hour of day (0-23) of ``ts`` in UTC."""
    return (F.pmod(epoch_s(ts), F.lit(86400)) / 3600).cast("int")


def hours_between(later: Column, earlier: Column) -> Column:
    """``later - earlier`` in hours, as a double."""
    return (epoch_s(later) - epoch_s(earlier)).cast("double") / 3600.0
