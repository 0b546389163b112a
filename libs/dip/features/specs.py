"""The feature tables: record keys, entity column and the online view each one feeds."""

from __future__ import annotations

from dataclasses import dataclass

from dip.tables import ACCOUNT_FEATURES_DAILY, POST_FEATURES_DAILY, POST_FEATURES_HOURLY, Table

PARTITION_COLUMN = "date"  # yyyy-mm-dd (UTC) of the window start
ORDERING_COLUMN = "computed_at"  # deterministic: the end of the run day, never wall-clock time


@dataclass(frozen=True)
class FeatureTable:
    """A feature table: where it lives, its record key and which column is the online entity id."""

    table: Table
    keys: tuple[str, ...]
    entity_column: str

    @property
    def name(self) -> str:
        return self.table.name


POST_DAILY = FeatureTable(POST_FEATURES_DAILY, ("source", "post_id", "window_start"), "post_id")
POST_HOURLY = FeatureTable(POST_FEATURES_HOURLY, ("source", "post_id", "window_start"), "post_id")
ACCOUNT_DAILY = FeatureTable(ACCOUNT_FEATURES_DAILY, ("source", "account_id", "window_start"), "account_id")

FEATURE_TABLE_SPECS: dict[str, FeatureTable] = {t.name: t for t in (POST_DAILY, POST_HOURLY, ACCOUNT_DAILY)}


def feature_table(name: str) -> FeatureTable:
    """The spec of feature table ``name``; a clear error for an unknown one."""
    try:
        return FEATURE_TABLE_SPECS[name]
    except KeyError:
        raise ValueError(f"unknown feature table {name!r} (known: {', '.join(FEATURE_TABLE_SPECS)})") from None
