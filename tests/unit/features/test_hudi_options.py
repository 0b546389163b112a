"""Hudi writer/reader options built from config (the writes themselves run in tests/integration/test_features.py)."""

from __future__ import annotations

from dip.config.models import HudiFeaturesConfig
from dip.features.hudi_store import hudi_incremental_options, hudi_write_options
from dip.features.specs import ACCOUNT_DAILY, POST_DAILY


def test_upsert_options() -> None:
    hudi = HudiFeaturesConfig(cleaner_commits_retained=5, options={"hoodie.upsert.shuffle.parallelism": "4"})
    assert hudi_write_options(POST_DAILY, hudi) == {
        "hoodie.table.name": "post_features_daily",
        "hoodie.datasource.write.table.name": "post_features_daily",
        "hoodie.datasource.write.table.type": "COPY_ON_WRITE",
        "hoodie.datasource.write.operation": "upsert",
        "hoodie.datasource.write.recordkey.field": "source,post_id,window_start",
        "hoodie.datasource.write.precombine.field": "computed_at",
        "hoodie.datasource.write.partitionpath.field": "date",
        "hoodie.datasource.write.keygenerator.class": "org.apache.hudi.keygen.ComplexKeyGenerator",
        "hoodie.datasource.write.hive_style_partitioning": "true",
        "hoodie.datasource.write.row.writer.enable": "false",
        "hoodie.metadata.enable": "true",
        "hoodie.clean.automatic": "true",
        "hoodie.cleaner.policy": "KEEP_LATEST_COMMITS",
        "hoodie.cleaner.commits.retained": "5",
        "hoodie.keep.min.commits": "6",
        "hoodie.keep.max.commits": "15",
        "hoodie.upsert.shuffle.parallelism": "4",
    }


def test_delete_options_and_overrides() -> None:
    hudi = HudiFeaturesConfig(options={"hoodie.datasource.write.hive_style_partitioning": "false"})
    options = hudi_write_options(ACCOUNT_DAILY, hudi, "delete")
    assert options["hoodie.datasource.write.operation"] == "delete"
    assert options["hoodie.datasource.write.recordkey.field"] == "source,account_id,window_start"
    assert options["hoodie.datasource.write.hive_style_partitioning"] == "false"


def test_incremental_options() -> None:
    assert hudi_incremental_options("20261125000000000") == {
        "hoodie.datasource.query.type": "incremental",
        "hoodie.datasource.read.begin.instanttime": "20261125000000000",
        "hoodie.datasource.read.incr.fallback.fulltablescan.enable": "true",
    }
    assert hudi_incremental_options("000", "20261126010203456")["hoodie.datasource.read.end.instanttime"] == (
        "20261126010203456"
    )
