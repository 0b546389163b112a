"""Where account data lives in the lake, and how old each table's rows are: the one list retention and
``dip forget`` walk. A new table (e.g. a gold table) joins both by adding one :class:`LakeTarget` here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F

from dip.tables import (
    BRONZE_EVENTS,
    DLQ,
    FEATURE_TABLES,
    GOLD_ACCOUNT_DAILY,
    GOLD_POST_SUMMARY,
    GOLD_SELLER_ALERTS,
    ML_FEEDBACK,
    SILVER_ACCOUNT_METRICS,
    SILVER_ACCOUNTS,
    SILVER_AUDIENCE,
    SILVER_POST_CAPTIONS,
    SILVER_POST_METRICS,
    SILVER_POSTS,
    SILVER_PREDICTIONS,
    SILVER_QUARANTINE,
    Table,
)


def _column(name: str) -> Callable[[], Column]:
    return lambda: F.col(name)


def _json_field(column: str, field: str, binary: bool = False) -> Callable[[], Column]:
    """A field of a JSON text (or JSON bytes) column: quarantine's ``row_json``, the DLQ's ``original`` envelope."""
    return lambda: F.get_json_object(F.col(column).cast("string") if binary else F.col(column), f"$.{field}")


@dataclass(frozen=True)
class LakeTarget:
    """A lake table as retention and forgetting see it.

    ``account`` gives a row's account id (matched with ``source``), ``post`` its post id (matched with the forgotten
    account's posts, for tables keyed by post only); neither: the table holds no account data. ``age`` is the date or
    timestamp column retention compares; None: rows are kept until forgotten (entities, not events).
    """

    table: Table
    zone: str
    account: Callable[[], Column] | None = None
    post: Callable[[], Column] | None = None
    age: str | None = None
    has_source: bool = True

    def account_rows(self, source: str, account_id: str, post_ids: list[str]) -> Column | None:
        """The condition selecting the account's rows (None: nothing of the account can be here)."""
        source_match = F.col("source") == source if self.has_source else F.lit(True)
        if self.account is not None:
            return source_match & F.coalesce(self.account() == account_id, F.lit(False))
        if self.post is not None and post_ids:
            return source_match & self.post().isin(*post_ids)
        return None


ACCOUNT_ID = _column("account_id")
LAKE_TARGETS: tuple[LakeTarget, ...] = (
    LakeTarget(BRONZE_EVENTS, "bronze", ACCOUNT_ID, age="ingest_date"),
    LakeTarget(SILVER_POSTS, "silver", ACCOUNT_ID),
    LakeTarget(SILVER_ACCOUNTS, "silver", ACCOUNT_ID),
    LakeTarget(SILVER_POST_METRICS, "silver", ACCOUNT_ID, age="captured_at"),
    LakeTarget(SILVER_POST_CAPTIONS, "silver", ACCOUNT_ID, age="captured_at"),
    LakeTarget(SILVER_ACCOUNT_METRICS, "silver", ACCOUNT_ID, age="captured_at"),
    LakeTarget(SILVER_AUDIENCE, "silver", ACCOUNT_ID, age="captured_at"),
    LakeTarget(SILVER_PREDICTIONS, "silver", post=_column("entity_id"), age="scored_at"),
    LakeTarget(ML_FEEDBACK, "silver", post=_column("entity_id"), has_source=False),
    LakeTarget(SILVER_QUARANTINE, "quarantine", _json_field("row_json", "account_id"), age="quarantined_at"),
    LakeTarget(DLQ, "dlq", _json_field("original", "account_id", binary=True), age="failed_at"),
    *(LakeTarget(t, "features", ACCOUNT_ID, age="date") for t in FEATURE_TABLES.values()),
    # gold_hashtag_daily holds per-source aggregates only (no account or post column): rebuilt from silver by `dip gold`
    LakeTarget(GOLD_ACCOUNT_DAILY, "gold", ACCOUNT_ID, age="date"),
    LakeTarget(GOLD_POST_SUMMARY, "gold", ACCOUNT_ID),
    LakeTarget(GOLD_SELLER_ALERTS, "gold", ACCOUNT_ID, age="date"),
)
