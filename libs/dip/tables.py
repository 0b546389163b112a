"""Names and locations of every lake table, so jobs, SQL and notebooks agree."""

from __future__ import annotations

from dataclasses import dataclass

from dip.config import Config

CATALOG_DB = "dip"


def lake_path(config: Config, *parts: str) -> str:
    """``<lake.root>/<part>/...`` as a URI string (never a local path assumption)."""
    root = config.lake.root.rstrip("/")
    return "/".join([root, *(p.strip("/") for p in parts if p)])


def checkpoint_path(config: Config, query: str) -> str:
    """Checkpoint location of a streaming query, under the lake unless ``streaming.checkpoint_dir`` is a URI."""
    base = config.streaming.checkpoint_dir
    return f"{base.rstrip('/')}/{query}" if "://" in base else lake_path(config, base, query)


@dataclass(frozen=True)
class Table:
    """A lake table: its catalog name and its path under the lake root."""

    name: str
    relative_path: str
    partition_by: tuple[str, ...] = ()

    def path(self, config: Config) -> str:
        return lake_path(config, self.relative_path)

    @property
    def qualified_name(self) -> str:
        return f"{CATALOG_DB}.{self.name}"


BRONZE_EVENTS = Table("bronze_events", "bronze/events", ("source", "ingest_date"))
DLQ = Table("dlq", "dlq", ("stage",))
SILVER_POSTS = Table("silver_posts", "silver/posts", ("source",))
SILVER_POST_METRICS = Table("silver_post_metrics", "silver/post_metrics", ("source",))
SILVER_POST_CAPTIONS = Table("silver_post_captions", "silver/post_captions", ("source",))
SILVER_ACCOUNTS = Table("silver_accounts", "silver/accounts", ("source",))
SILVER_ACCOUNT_METRICS = Table("silver_account_metrics", "silver/account_metrics", ("source",))
SILVER_AUDIENCE = Table("silver_audience", "silver/audience", ("source",))
SILVER_PREDICTIONS = Table("silver_predictions", "silver/predictions", ("source",))
SILVER_QUARANTINE = Table("silver_quarantine", "silver/quarantine", ("table_name",))
# one row per bronze row and its outcome; partitioned by event date so dedup reads only the lateness window
SILVER_LEDGER = Table("silver_ledger", "silver/_outcomes", ("event_date",))
QUALITY_RESULTS = Table("quality_results", "quality/results")
POST_FEATURES_DAILY = Table("post_features_daily", "features/post_features_daily", ("date",))
POST_FEATURES_HOURLY = Table("post_features_hourly", "features/post_features_hourly", ("date",))
ACCOUNT_FEATURES_DAILY = Table("account_features_daily", "features/account_features_daily", ("date",))
FEATURE_RUNS = Table("feature_runs", "features/_runs")
FEATURE_PUSH_STATE = Table("feature_push_state", "features/_push_state")
ML_FEEDBACK = Table("ml_feedback", "ml/feedback")  # `dip evaluate`: predictions joined with observed engagement
# `dip forget`: one row per request (requested, then completed with counts per place); its account hashes are the
# forgotten-accounts list that ingest, bronze and silver consult. Holds no account id, only sha256(source:account)
FORGET_AUDIT = Table("forget_audit", "lifecycle/forget_audit")
# `dip gold`: what the seller dashboard reads (delta-rs, no JVM); daily tables re-written per day (replaceWhere)
GOLD_ACCOUNT_DAILY = Table("gold_account_daily", "gold/account_daily", ("date",))
GOLD_HASHTAG_DAILY = Table("gold_hashtag_daily", "gold/hashtag_daily", ("date",))
GOLD_POST_SUMMARY = Table("gold_post_summary", "gold/post_summary")  # as of the run's last day, overwritten
GOLD_SELLER_ALERTS = Table("gold_seller_alerts", "gold/seller_alerts", ("date",))

SILVER_TABLES: dict[str, Table] = {
    "posts": SILVER_POSTS,
    "post_metrics": SILVER_POST_METRICS,
    "post_captions": SILVER_POST_CAPTIONS,
    "accounts": SILVER_ACCOUNTS,
    "account_metrics": SILVER_ACCOUNT_METRICS,
    "audience": SILVER_AUDIENCE,
    "predictions": SILVER_PREDICTIONS,
}
FEATURE_TABLES: dict[str, Table] = {
    t.name: t for t in (POST_FEATURES_DAILY, POST_FEATURES_HOURLY, ACCOUNT_FEATURES_DAILY)
}
GOLD_TABLES: dict[str, Table] = {
    t.name: t for t in (GOLD_ACCOUNT_DAILY, GOLD_HASHTAG_DAILY, GOLD_POST_SUMMARY, GOLD_SELLER_ALERTS)
}
ALL_TABLES: tuple[Table, ...] = (
    BRONZE_EVENTS,
    DLQ,
    *SILVER_TABLES.values(),
    SILVER_QUARANTINE,
    SILVER_LEDGER,
    QUALITY_RESULTS,
    *FEATURE_TABLES.values(),
    FEATURE_RUNS,
    FEATURE_PUSH_STATE,
    ML_FEEDBACK,
    FORGET_AUDIT,
    *GOLD_TABLES.values(),
)
