"""What the dashboard's panels show, read from the gold tables with delta-rs (no JVM) and shaped as JSON.

Every function takes Arrow tables or the config and returns plain dicts/lists; nothing is cached, so a new
nightly gold run shows on the next page load.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dip.config import Config
from dip.io.arrow_reader import delta_commit_time, read_delta_if_exists
from dip.tables import (
    DLQ,
    GOLD_ACCOUNT_DAILY,
    GOLD_HASHTAG_DAILY,
    GOLD_POST_SUMMARY,
    GOLD_SELLER_ALERTS,
    SILVER_ACCOUNTS,
    SILVER_POST_METRICS,
    SILVER_QUARANTINE,
    Table,
)

HEALTH_TABLES = (SILVER_POST_METRICS, GOLD_ACCOUNT_DAILY, GOLD_POST_SUMMARY, GOLD_SELLER_ALERTS)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
POST_FIELDS = ("post_id", "caption", "created_at", "views", "likes", "engagement_ratio", "engagement_vs_median")


def text_direction(text: str | None) -> str:
    """``rtl`` when the first strongly directional character is right-to-left (Arabic, Hebrew), else ``ltr``."""
    for char in text or "":
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def read_table(config: Config, table: Table) -> pa.Table | None:
    """The table's latest version, or None before its first write."""
    return read_delta_if_exists(table.path(config))


def _of_account(table: pa.Table, source: str, account_id: str) -> pa.Table:
    return table.filter((pc.field("source") == source) & (pc.field("account_id") == account_id))


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _rows(table: pa.Table, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{k: _jsonable(v) for k, v in row.items()} for row in table.select(list(columns)).to_pylist()]


def accounts(config: Config) -> list[dict[str, str]]:
    """Accounts with gold rows, with their username where silver knows it, by source then name."""
    daily = read_table(config, GOLD_ACCOUNT_DAILY)
    if daily is None:
        return []
    keys = {(r["source"], r["account_id"]) for r in daily.select(["source", "account_id"]).to_pylist()}
    names = read_table(config, SILVER_ACCOUNTS)
    usernames = {(r["source"], r["account_id"]): r["username"] for r in names.to_pylist()} if names else {}
    found = [{"source": s, "account_id": a, "username": usernames.get((s, a)) or a} for s, a in keys]
    return sorted(found, key=lambda r: (r["source"], r["username"]))


def _series(daily: pa.Table) -> dict[str, list[Any]]:
    ordered = daily.sort_by("date")
    columns = ("date", "followers", "follower_growth", "views", "interactions", "engagement_mean", "engagement_median")
    return {c: [_jsonable(v) for v in ordered.column(c).to_pylist()] for c in columns}


def _posts(summary: pa.Table, top: int) -> dict[str, list[dict[str, Any]]]:
    known = summary.filter(pc.is_valid(summary["engagement_ratio"])).sort_by(
        [("engagement_ratio", "descending"), ("post_id", "ascending")]
    )
    rows = _rows(known, POST_FIELDS)
    for row in rows:
        row["dir"] = text_direction(row["caption"])
    best = rows[:top]
    worst = list(reversed(rows[len(best) :]))[:top]
    return {"top": best, "bottom": worst}


def _heatmap(summary: pa.Table) -> dict[str, Any]:
    """Mean engagement ratio of the account's posts by publish weekday (rows) and UTC hour (columns)."""
    sums: dict[tuple[int, int], list[float]] = {}
    for row in summary.select(["created_at", "engagement_ratio"]).to_pylist():
        if row["engagement_ratio"] is None or row["created_at"] is None:
            continue
        at = row["created_at"].astimezone(UTC) if row["created_at"].tzinfo else row["created_at"]
        sums.setdefault((at.weekday(), at.hour), []).append(row["engagement_ratio"])
    z = [[None] * 24 for _ in WEEKDAYS]
    for (weekday, hour), values in sums.items():
        z[weekday][hour] = sum(values) / len(values)
    return {"weekdays": list(WEEKDAYS), "hours": list(range(24)), "z": z, "cells": len(sums)}


def hashtag_leaderboard(config: Config, source: str, limit: int) -> list[dict[str, Any]]:
    """The source's hashtags over its newest gold day, by views (ties: more posts, then the tag)."""
    table = read_table(config, GOLD_HASHTAG_DAILY)
    if table is None:
        return []
    table = table.filter(pc.field("source") == source)
    if table.num_rows == 0:
        return []
    newest = pc.max(table["date"])
    rows = _rows(table.filter(pc.field("date") == newest), ("date", "hashtag", "posts", "views", "engagement_mean"))
    rows.sort(key=lambda r: (-(r["views"] or 0), -r["posts"], r["hashtag"]))
    for row in rows:
        row["dir"] = text_direction(row["hashtag"])
    return rows[:limit]


def account_view(config: Config, source: str, account_id: str) -> dict[str, Any] | None:
    """Every panel of one account; None when the account has no gold rows."""
    daily = read_table(config, GOLD_ACCOUNT_DAILY)
    if daily is None or _of_account(daily, source, account_id).num_rows == 0:
        return None
    summary = read_table(config, GOLD_POST_SUMMARY)
    posts = _of_account(summary, source, account_id) if summary is not None else None
    alerts = read_table(config, GOLD_SELLER_ALERTS)
    mine = _of_account(alerts, source, account_id).sort_by([("date", "descending")]) if alerts is not None else None
    d = config.dashboard
    return {
        "source": source,
        "account_id": account_id,
        "series": _series(_of_account(daily, source, account_id)),
        "posts": _posts(posts, d.top_posts) if posts is not None else {"top": [], "bottom": []},
        "heatmap": _heatmap(posts if posts is not None else pa.table({"created_at": [], "engagement_ratio": []})),
        "hashtags": hashtag_leaderboard(config, source, d.hashtags),
        "alerts": _rows(mine, ("date", "rule", "post_id", "value", "message")) if mine is not None else [],
    }


def pipeline_health(config: Config, now: datetime | None = None) -> dict[str, Any]:
    """Minutes since each table's last write, and DLQ rows per stage / quarantined rows per table."""
    now = now or datetime.now(UTC)
    freshness = []
    for table in HEALTH_TABLES:
        written = delta_commit_time(table.path(config))
        age = round((now - written).total_seconds() / 60, 1) if written else None
        freshness.append({"table": table.name, "written_at": _jsonable(written), "age_minutes": age})
    counts: list[dict[str, Any]] = []
    for kind, table, group in (("dlq", DLQ, "stage"), ("quarantine", SILVER_QUARANTINE, "table_name")):
        rows = read_table(config, table)
        if rows is None:
            continue
        if kind == "dlq":
            rows = rows.group_by(["dlq_id", group]).aggregate([])
        for r in rows.group_by(group).aggregate([([], "count_all")]).to_pylist():
            counts.append({"kind": kind, "name": r[group], "rows": r["count_all"]})
    return {"freshness": freshness, "dead_letters": sorted(counts, key=lambda c: (c["kind"], c["name"]))}
