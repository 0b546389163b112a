"""The demo's simulated timeline: round times, the world's place on it, progress kept across runs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from dip_local.demo.model import training_set_digest
from dip_local.demo.timeline import Timeline, load_timeline, save_progress

END = datetime(2026, 11, 26, tzinfo=UTC)


def test_rounds_end_at_the_end_and_the_newest_post_is_six_hours_before() -> None:
    timeline = Timeline(END, rounds=3, hours_per_round=6)
    assert timeline.start == datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert timeline.round_times() == [
        datetime(2026, 11, 25, 12, tzinfo=UTC),
        datetime(2026, 11, 25, 18, tzinfo=UTC),
        END,
    ]
    assert timeline.newest_post == datetime(2026, 11, 25, 18, tzinfo=UTC)
    assert timeline.pending() == timeline.round_times()
    with pytest.raises(ValueError, match="must be >= 1"):
        Timeline(END, rounds=0, hours_per_round=6)


def test_done_rounds_are_skipped_and_a_finished_timeline_repeats_its_last_round() -> None:
    half = Timeline(END, 3, 6, done_until=datetime(2026, 11, 25, 18, tzinfo=UTC))
    assert half.pending() == [END]
    assert Timeline(END, 3, 6, done_until=END).pending() == [END]


def test_a_new_timeline_ends_at_todays_midnight_and_keeps_its_end_on_later_days(tmp_path: Path) -> None:
    fresh = load_timeline(tmp_path, 29, 6, date(2026, 11, 26))
    assert (fresh.end, fresh.start, fresh.done_until) == (END, datetime(2026, 11, 19, tzinfo=UTC), None)
    save_progress(tmp_path, fresh, datetime(2026, 11, 19, 6, tzinfo=UTC))
    later = load_timeline(tmp_path, 29, 6, date(2026, 12, 3))
    assert (later.end, later.done_until) == (END, datetime(2026, 11, 19, 6, tzinfo=UTC))
    assert later.pending()[0] == datetime(2026, 11, 19, 12, tzinfo=UTC) and len(later.pending()) == 27


def test_training_set_digest_ignores_row_order_and_sees_values() -> None:
    frame = pd.DataFrame({"source": ["tiktok", "instagram"], "post_id": ["2", "1"], "label": [0.5, 0.25]})
    reordered = frame.iloc[::-1]
    changed = frame.assign(label=[0.5, 0.26])
    assert training_set_digest(frame) == training_set_digest(reordered)
    assert training_set_digest(frame) != training_set_digest(changed)
