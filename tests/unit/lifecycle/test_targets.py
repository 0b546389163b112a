"""Every lake table is either walked by retention and `dip forget` (a LakeTarget) or named here as holding no
account data: a new table cannot be left out of deletion on request by omission."""

from __future__ import annotations

from dip.lifecycle.targets import LAKE_TARGETS
from dip.tables import ALL_TABLES

NO_ACCOUNT_DATA = {
    "silver_ledger": "one outcome per bronze row: keys and Kafka offsets, no account id or payload",
    "quality_results": "expectation results per batch and table",
    "feature_runs": "one row per feature run",
    "feature_push_state": "one row per pushed view",
    "forget_audit": "the audit itself: account hashes only",
    "gold_hashtag_daily": "per-source hashtag aggregates",
}


def test_every_table_with_account_data_is_a_lifecycle_target() -> None:
    targets = {t.table.name for t in LAKE_TARGETS}
    assert len(targets) == len(LAKE_TARGETS)
    assert sorted(t.name for t in ALL_TABLES if t.name not in targets) == sorted(NO_ACCOUNT_DATA)


def test_gold_tables_are_forgotten_by_account() -> None:
    gold = {t.table.name: (t.zone, t.age, t.account is not None) for t in LAKE_TARGETS if t.zone == "gold"}
    assert gold == {
        "gold_account_daily": ("gold", "date", True),
        "gold_post_summary": ("gold", None, True),
        "gold_seller_alerts": ("gold", "date", True),
    }
