"""The dashboard's pure shaping: text direction of captions, top/bottom posts, the posting-hour heat map."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from dip.serving.dashboard.data import _heatmap, _posts, text_direction


def test_text_direction_follows_the_first_strong_character() -> None:
    assert text_direction("عباية سوداء 🌙 #abaya") == "rtl"
    assert text_direction("🌙 #عباية new") == "rtl"  # emoji and '#' are neutral
    assert text_direction("New abaya | عباية") == "ltr"
    assert text_direction("") == text_direction(None) == "ltr"


def _summary(rows: list[tuple]) -> pa.Table:
    names = ("post_id", "caption", "created_at", "views", "likes", "engagement_ratio", "engagement_vs_median")
    return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})


def test_top_and_bottom_posts_never_overlap_and_skip_unknown_ratios() -> None:
    at = datetime(2026, 11, 20, 9, tzinfo=UTC)
    table = _summary([
        ("p1", "a", at, 10, 1, 0.05, 1.0), ("p2", "ب", at, 10, None, 0.01, 0.2), ("p3", "c", at, 0, 0, None, None),
        ("p4", "d", at, 10, 1, 0.09, 1.8),
    ])  # fmt: skip
    posts = _posts(table, 2)
    assert [p["post_id"] for p in posts["top"]] == ["p4", "p1"]
    assert [(p["post_id"], p["dir"]) for p in posts["bottom"]] == [("p2", "rtl")]


def test_heatmap_means_by_weekday_and_utc_hour() -> None:
    thu9, fri14 = datetime(2026, 11, 19, 9, tzinfo=UTC), datetime(2026, 11, 20, 14, tzinfo=UTC)
    table = pa.table({"created_at": [thu9, thu9, fri14, fri14], "engagement_ratio": [0.02, 0.04, 0.1, None]})
    heat = _heatmap(table)
    assert heat["cells"] == 2 and heat["weekdays"][3] == "Thu"
    assert heat["z"][3][9] == 0.03 and heat["z"][4][14] == 0.1 and heat["z"][0][0] is None
