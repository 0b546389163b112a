"""Dashboard load: a cold page load of /dashboard (page, style, scripts, plotly.js, then the accounts, the pipeline
health and one account's panels, as the page fetches them) against the static files alone, on gold tables of the
demo's size (6 accounts x 8 days, 420 posts by default) written with delta-rs, served by `dip serve`'s app under
uvicorn in-process. The ratio is the cost of the data (delta-rs reads and shaping) on top of serving the page.
Writes benchmarks/results/dashboard.json.

    .venv/bin/python benchmarks/dashboard_load.py [--rows 420] [--runs 7]
"""

from __future__ import annotations

import hashlib
import random
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pyarrow as pa
from _common import bench_parser, environment, interleaved, write_result
from deltalake import write_deltalake

from dip.config import load_config
from dip.config.models import ApiKeyConfig
from dip.serving.app import create_app
from dip.tables import GOLD_ACCOUNT_DAILY, GOLD_HASHTAG_DAILY, GOLD_POST_SUMMARY, GOLD_SELLER_ALERTS
from dip_local.simulator.server import background_server

STATIC = ("/dashboard", "/dashboard/static/dashboard.css", "/dashboard/static/plotly.min.js",
          "/dashboard/static/dashboard.js")  # fmt: skip
ACCOUNTS = [("instagram", f"1784140000000010{i}") for i in range(1, 4)] + [
    ("tiktok", f"_000Seller{i}") for i in range(3)
]
DAYS = 8
KEY = "bench-dashboard-key"


def write_gold(lake: Path, posts: int, seed: int) -> None:
    """Demo-sized gold tables (the dashboard's reads) from a seeded generator."""
    rng = random.Random(seed)
    first = date(2026, 11, 18)
    daily = [
        {"date": first + timedelta(d), "source": s, "account_id": a, "followers": 5000 + 10 * d, "follower_growth": 10,
         "posts_published": 3, "views": rng.randint(1000, 9000), "interactions": rng.randint(20, 400),
         "engagement_mean": rng.uniform(0.01, 0.1), "engagement_median": rng.uniform(0.01, 0.1),
         "best_posting_hour": rng.randint(0, 23)}
        for s, a in ACCOUNTS for d in range(DAYS)
    ]  # fmt: skip
    summary = [
        {"source": s, "post_id": str(18_000_000_000_000_000 + i), "account_id": a,
         "caption": "عباية سوداء جديدة 🌙 #عباية" if i % 2 else "New season abaya ✨ #abaya",
         "created_at": datetime(2026, 11, 18, tzinfo=UTC) + timedelta(hours=rng.randint(0, DAYS * 24 - 1)),
         "views": rng.randint(100, 50_000), "likes": rng.randint(0, 2000), "engagement_ratio": rng.uniform(0.005, 0.12),
         "engagement_vs_median": rng.uniform(0.2, 3.0)}
        for i in range(posts) for s, a in [ACCOUNTS[i % len(ACCOUNTS)]]
    ]  # fmt: skip
    tags = [
        {"date": first + timedelta(d), "source": s, "hashtag": t, "posts": rng.randint(1, 20),
         "views": rng.randint(100, 90_000), "engagement_mean": rng.uniform(0.01, 0.1)}
        for d in range(DAYS) for s in ("instagram", "tiktok") for t in ("abaya", "عباية", "modestfashion")
    ]  # fmt: skip
    alerts = [
        {"date": first + timedelta(DAYS - 1), "rule": "post_above_p90", "source": s, "account_id": a,
         "post_id": "1", "value": 0.1, "message": "post 1 engagement 10.00% is above the account's p90 (8.00%)"}
        for s, a in ACCOUNTS
    ]  # fmt: skip
    for table, rows in ((GOLD_ACCOUNT_DAILY, daily), (GOLD_POST_SUMMARY, summary), (GOLD_HASHTAG_DAILY, tags),
                        (GOLD_SELLER_ALERTS, alerts)):  # fmt: skip
        write_deltalake(str(lake / table.relative_path), pa.Table.from_pylist(rows))


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__ or "", rows=420, runs=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as scratch:
        lake = Path(scratch)
        write_gold(lake, args.rows, args.seed)
        config = load_config(args.env)
        config.lake.root = lake.as_uri()
        config.redis.db = 4  # the live lookup finds nothing there: the panel says so
        config.serving.scoring.enabled = False
        digest = hashlib.sha256(KEY.encode()).hexdigest()
        config.serving.api_keys = {"bench": ApiKeyConfig(sha256=digest, scopes=[config.dashboard.scope])}
        source, account = ACCOUNTS[0]
        data = ("/dashboard/api/accounts", "/dashboard/api/health", f"/dashboard/api/accounts/{source}/{account}")
        with background_server(create_app(config)) as url:

            def load(paths: tuple[str, ...]) -> int:
                with httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=30) as http:  # a cold client
                    return sum(len(http.get(p).raise_for_status().content) for p in paths)

            timings = interleaved(
                {"static": lambda: load(STATIC), "page": lambda: load(STATIC + data)}, args.runs, args.warmup
            )
    static, page = timings["static"], timings["page"]
    result = {
        "benchmark": "dashboard",
        "posts": args.rows,
        "accounts": len(ACCOUNTS),
        "days": DAYS,
        "static_only": {"median_s": round(static.median_s, 3), "runs_s": [round(t, 3) for t in static.runs_s]},
        "page_with_data": {"median_s": round(page.median_s, 3), "runs_s": [round(t, 3) for t in page.runs_s]},
        "bytes": page.result,
        "ratio_page_vs_static": round(page.median_s / static.median_s, 2),
        "under_1s": page.median_s < 1.0,
        "environment": environment(config=None),
    }
    path = write_result("dashboard", result, args.results_dir)
    print(f"dashboard cold load ({args.rows} posts, {len(ACCOUNTS)} accounts x {DAYS} days), median of {args.runs}:")
    print(f"  static files only          {static.median_s:8.3f}s")
    print(f"  page + data (3 API calls)  {page.median_s:8.3f}s  ({page.result:,} bytes)")
    print(f"  ratio {result['ratio_page_vs_static']}x; load average {result['environment'].get('load_avg_1m')}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
