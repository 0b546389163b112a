"""Every DIP job as the runner sees it: name, tables read and written, streaming queries, reported counts.

One declaration per job, used by each of its entry points (``dip <command>``, ``jobs/<job>.py``, the demo), so
the lineage row, the OpenLineage events and the ``dip_job_*`` series are the same whichever one runs it.
"""

from __future__ import annotations

from collections.abc import Sequence

from dip.config import Config
from dip.features.live_job import SOURCES
from dip.job_runner import Job
from dip.silver.stream_job import QUERY as SILVER_QUERY
from dip.streaming.bronze_job import QUERY as BRONZE_QUERY
from dip.streaming.runner import RunSummary
from dip.tables import (
    ALL_TABLES,
    BRONZE_EVENTS,
    DLQ,
    FEATURE_PUSH_STATE,
    FEATURE_RUNS,
    FEATURE_TABLES,
    FORGET_AUDIT,
    GOLD_TABLES,
    ML_FEEDBACK,
    QUALITY_RESULTS,
    SILVER_ACCOUNT_METRICS,
    SILVER_LEDGER,
    SILVER_POST_CAPTIONS,
    SILVER_POST_METRICS,
    SILVER_POSTS,
    SILVER_PREDICTIONS,
    SILVER_QUARANTINE,
    SILVER_TABLES,
)

STREAM_BRONZE = Job(
    "stream_bronze", writes=(BRONZE_EVENTS, DLQ), streams={BRONZE_QUERY: None}, counts=("kafka", "bronze", "dlq")
)
STREAM_SILVER = Job(
    "stream_silver",
    writes=(*SILVER_TABLES.values(), SILVER_QUARANTINE, SILVER_LEDGER, QUALITY_RESULTS, DLQ),
    streams={SILVER_QUERY: BRONZE_EVENTS},
    counts=("bronze", "silver", "quarantine", "dlq", "duplicate"),
)
STREAM_LIVE = Job(
    "stream_live",
    streams={source.query: source.table for source in SOURCES.values()},
    counts=("changes", "written", "skipped_stale"),
)
BATCH_FEATURES = Job(
    "batch_features",
    reads=(SILVER_POSTS, SILVER_POST_METRICS, SILVER_POST_CAPTIONS, SILVER_ACCOUNT_METRICS),
    writes=(*FEATURE_TABLES.values(), FEATURE_RUNS),
    counts=tuple(FEATURE_TABLES),
)
RECONCILE = Job(
    "reconcile",
    reads=(BRONZE_EVENTS, DLQ, SILVER_LEDGER, SILVER_QUARANTINE, *SILVER_TABLES.values()),
    counts=("balanced", "unbalanced", "pending"),
)
QUALITY_REPORT = Job("quality_report", reads=(QUALITY_RESULTS, SILVER_QUARANTINE), counts=("evaluated", "failed"))
GOLD = Job(
    "gold",
    reads=(SILVER_POSTS, SILVER_POST_METRICS, SILVER_ACCOUNT_METRICS, SILVER_PREDICTIONS),
    writes=tuple(GOLD_TABLES.values()),
    counts=(*GOLD_TABLES, "alerts"),
)
EVALUATE = Job("evaluate", reads=(SILVER_PREDICTIONS, SILVER_POST_METRICS), writes=(ML_FEEDBACK,))
MAINTAIN = Job(
    "maintain",
    writes=ALL_TABLES,
    counts=("tables", "files_before", "files_after", "rows_expired", "raw_archived", "raw_expired"),
)
FORGET = Job(
    "forget",
    writes=(*(t for t in ALL_TABLES if t is not FORGET_AUDIT), FORGET_AUDIT),
    counts=("raw_objects", "lake_rows", "redis_keys", "state_files"),
)


def stream_all(live: bool) -> Job:
    """``dip stream all``: bronze and silver (and the live views) in one application; counts prefixed per query."""
    parts = [STREAM_BRONZE, STREAM_SILVER, *([STREAM_LIVE] if live else [])]
    writes = list(dict.fromkeys(t for job in parts for t in job.writes))
    return Job(
        "stream_all",
        writes=tuple(writes),
        streams={q: s for job in parts for q, s in job.streams.items()},
        counts=tuple(f"{job.name}.{key}" for job in parts for key in job.counts),
    )


def stream_counts(jobs: Sequence[Job], summaries: Sequence[RunSummary], *, prefixed: bool = False) -> dict[str, int]:
    """The declared counts of streaming ``jobs`` summed over their queries' summaries (in the same order)."""
    counts: dict[str, int] = {}
    by_job: dict[str, list[RunSummary]] = {}
    queries = {q: job.name for job in jobs for q in job.streams}
    for summary in summaries:
        by_job.setdefault(queries.get(summary.query, jobs[0].name), []).append(summary)
    for job in jobs:
        for key in job.counts:
            name = f"{job.name}.{key}" if prefixed else key
            counts[name] = sum(s.total(key) for s in by_job.get(job.name, []))
    return counts


def push_online_job(views: Sequence[str] | None = None) -> Job:
    """``push_online`` of ``views`` (default every nightly view): reads their feature tables, writes the push state."""
    tables = [t for name, t in FEATURE_TABLES.items() if not views or name in views]
    return Job("push_online", reads=tuple(tables), writes=(FEATURE_PUSH_STATE,), counts=tuple(t.name for t in tables))


def train_job(config: Config, with_feedback: bool) -> Job:
    """``train``: silver posts and metrics, the ``ml.view`` feature table and, with feedback, ``ml_feedback``."""
    reads = (
        SILVER_POSTS,
        SILVER_POST_METRICS,
        FEATURE_TABLES[config.ml.view],
        *([ML_FEEDBACK] if with_feedback else []),
    )
    return Job("train", reads=reads, counts=("train_rows", "validation_rows"))
