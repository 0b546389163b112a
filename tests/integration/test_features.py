"""Feature tables and the online push on real Spark + Hudi (and Delta) + Redis, from a small hand-made silver lake.

Days 2026-11-24..26 (UTC). Post A has a snapshot every day, post B only on the 24th, the account on
the 24th and 26th, so each day changes a known set of entities.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import redis
from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual
from typer.testing import CliRunner

from dip.cli import app
from dip.config import Config
from dip.features.batch import run_features
from dip.features.push import PushError, last_pushed, push_online, push_view
from dip.features.specs import ACCOUNT_DAILY, FEATURE_TABLE_SPECS, POST_DAILY, FeatureTable
from dip.features.store import Commit, FeatureStore, feature_store
from dip.features.summary_lines import day_line, run_lines
from dip.io.arrow_reader import read_arrow
from dip.io.lake import delete_path
from dip.online import make_client, read_many, view_specs
from dip.silver import normalize as N
from dip.tables import FEATURE_PUSH_STATE, FEATURE_TABLES, SILVER_ACCOUNT_METRICS, SILVER_POST_METRICS, SILVER_POSTS
from tests.integration.helpers import isolated_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]

D1, D2, D3 = date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 26)
POSTS, ACCOUNTS = "post_features_daily", "account_features_daily"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


UPDATED = utc(2026, 11, 27)


def _ids() -> tuple[str, str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"t{tag}A", f"t{tag}B", f"t{tag}acc"


def _write_silver(spark: SparkSession, config: Config, ids: tuple[str, str, str]) -> None:
    a, b, acc = ids
    posts = [
        (a, "instagram", acc, "Black abaya #abaya", ["abaya"], [], "VIDEO", None, utc(2026, 11, 23, 10), UPDATED),
        (b, "instagram", acc, "عباية #عباية", ["عباية"], [], "IMAGE", None, utc(2026, 11, 24, 9), UPDATED),
    ]  # fmt: skip
    metrics = [
        (a, "instagram", acc, "r0", utc(2026, 11, 23, 12), 10, 1, 0, 0, 0, None, 0.1),
        (a, "instagram", acc, "r1", utc(2026, 11, 24, 12), 50, 5, 0, 0, 0, None, 0.1),
        (b, "instagram", acc, "r1", utc(2026, 11, 24, 10), 5, 1, 0, 0, 0, None, 0.2),
        (b, "instagram", acc, "r2", utc(2026, 11, 24, 20), 30, 3, 0, 0, 0, None, 0.1),
        (a, "instagram", acc, "r3", utc(2026, 11, 25, 12), 80, 8, 0, 0, 0, None, 0.1),
        (a, "instagram", acc, "r4", utc(2026, 11, 26, 12), 90, 18, 0, 0, 0, None, 0.2),
    ]
    accounts = [
        (acc, "instagram", "r1", utc(2026, 11, 24, 8), 100, 2),
        (acc, "instagram", "r4", utc(2026, 11, 26, 8), 120, 2),
    ]
    for table, rows, ddl in (
        (SILVER_POSTS, posts, N.POSTS_DDL),
        (SILVER_POST_METRICS, metrics, N.POST_METRICS_DDL),
        (SILVER_ACCOUNT_METRICS, accounts, N.ACCOUNT_METRICS_DDL),
    ):
        spark.createDataFrame(rows, ddl).write.format("delta").partitionBy("source").save(table.path(config))


def _lake(
    stack: Config, tmp_path: Path, name: str, spark: SparkSession, ids: tuple[str, str, str], table_format: str
) -> Config:
    config = isolated_config(stack, tmp_path / name)
    config.features.table_format = table_format
    config.features.hourly = False  # hourly windows have exact unit tests; here they would only add time
    _write_silver(spark, config, ids)
    return config


def _tables(spark: SparkSession, config: Config) -> dict[str, DataFrame]:
    store = feature_store(spark, config)
    return {t.name: store.read(t) for t in (POST_DAILY, ACCOUNT_DAILY)}


class _PinnedStore:
    """The configured store, but its newest commit is an older one: a slow push job that read an old snapshot."""

    def __init__(self, store: FeatureStore, commit: Commit) -> None:
        self.store = store
        self.format = store.format
        self.commit = commit

    def latest_commit(self, table: FeatureTable) -> Commit:
        return self.commit

    def __getattr__(self, name: str):
        return getattr(self.store, name)


@pytest.fixture()
def redis_client(stack: Config) -> Iterator[redis.Redis]:
    client = make_client(stack.redis)
    yield client
    client.close()


def _assert_backfill_equals(spark: SparkSession, single: Config, backfill: Config) -> None:
    """A 3-day backfill gives the same tables as the 3 single-day runs, and resumes as a no-op."""
    summary = run_features(spark, backfill, D1, D3)
    assert [d.day for d in summary.days] == [D1, D2, D3]
    assert {n: summary.rows(n) for n in FEATURE_TABLES} == {
        "post_features_daily": 4,  # A on 24, 25, 26; B on 24
        "post_features_hourly": 0,  # disabled here
        "account_features_daily": 2,  # 24, 26
    }
    for name, df in _tables(spark, backfill).items():
        assertDataFrameEqual(df, _tables(spark, single)[name])
    assert all(d.skipped for d in run_features(spark, backfill, D1, D3).days)


def _assert_rerun_identical(spark: SparkSession, config: Config) -> None:
    """A forced re-run of a day writes identical rows: Delta's MERGE inserts, updates and deletes nothing;
    Hudi commits nothing at all (no changed row, no vanished key)."""
    store = feature_store(spark, config)
    before = {name: df.collect() for name, df in _tables(spark, config).items()}
    commits = {t.name: store.latest_commit(t) for t in (POST_DAILY, ACCOUNT_DAILY)}
    summary = run_features(spark, config, D2, D2, force=True)
    if store.format == "hudi":
        assert summary.days[0].rows == {POSTS: 0, ACCOUNTS: 0}
    for name, df in _tables(spark, config).items():
        assertDataFrameEqual(df, before[name])
        if store.format == "hudi":
            assert store.latest_commit(FEATURE_TABLE_SPECS[name]) == commits[name], name
            continue
        from delta.tables import DeltaTable

        metrics = DeltaTable.forPath(spark, FEATURE_TABLES[name].path(config)).history(1).first()["operationMetrics"]
        counts = ("numTargetRowsInserted", "numTargetRowsUpdated", "numTargetRowsDeleted")
        assert [metrics.get(k, "0") for k in counts] == ["0", "0", "0"], (name, metrics)


def _assert_jvm_free_read_equal(spark: SparkSession, config: Config) -> None:
    """hudi-rs / delta-rs read the feature tables (no JVM) as the same rows Spark reads."""
    store = feature_store(spark, config)
    for table in (POST_DAILY, ACCOUNT_DAILY):
        via_spark = store.read(table)
        arrow = read_arrow(config, table.table).select(via_spark.columns)
        assert arrow.num_rows == via_spark.count() > 0
        assertDataFrameEqual(spark.createDataFrame(arrow.to_pylist(), via_spark.schema), via_spark)


@pytest.mark.parametrize("table_format", ["hudi", "delta"])
def test_daily_runs_push_backfill_and_rerun(
    spark: SparkSession, stack: Config, tmp_path: Path, redis_client: redis.Redis, table_format: str
) -> None:
    """One lake's life: day-by-day runs with pushes in between (incremental, stale-safe, outage and
    catch-up), then the same days as one backfill elsewhere, then a forced re-run that pushes nothing."""
    if table_format == "hudi" and not stack.spark.hudi_enabled:
        pytest.skip(f"spark.runtime {stack.spark.runtime}: no Hudi")
    a, b, acc = ids = _ids()
    config = _lake(stack, tmp_path, "single", spark, ids, table_format)
    specs = view_specs(config.online)
    store = feature_store(spark, config)
    try:
        run_features(spark, config, D1, D1)
        first = {p.view: p for p in push_online(spark, config)}
        assert {v: (p.written, p.skipped_stale) for v, p in first.items()} == {POSTS: (2, 0), ACCOUNTS: (1, 0)}
        day1 = store.latest_commit(POST_DAILY)
        stored = read_many(redis_client, specs[POSTS], [a, b])
        assert [r.version for r in stored] == [day1.write_version] * 2
        assert [r.event_ts_ms for r in stored] == [int(utc(2026, 11, 25).timestamp() * 1000)] * 2
        assert stored[0].feature_set_version == config.features.feature_set_version
        assert stored[0].features["views_delta"] == 40 and stored[0].features["snapshot_count"] == 1
        assert stored[1].features["views_delta"] == 30 and stored[1].features["is_arabic"] is True
        assert len(stored[0].features["caption_vec"]) == config.features.text.vector_size
        assert 0 < redis_client.ttl(f"dip:{POSTS}:{a}") <= specs[POSTS].ttl_seconds

        # Nothing new since the last push: nothing is written.
        again = {p.view: p for p in push_online(spark, config)}
        assert {v: p.written + p.skipped_stale for v, p in again.items()} == {POSTS: 0, ACCOUNTS: 0}

        # Day 2 changes post A only, and no account.
        run_features(spark, config, D2, D2)
        second = {p.view: p for p in push_online(spark, config)}
        assert (second[POSTS].written, second[POSTS].skipped_stale, second[ACCOUNTS].written) == (1, 0, 0)
        a_now, b_now = read_many(redis_client, specs[POSTS], [a, b])
        assert a_now.features["views_delta"] == 30 and a_now.event_ts_ms == int(utc(2026, 11, 26).timestamp() * 1000)
        assert b_now == stored[1]

        # Stale writes: a push of the day-1 snapshot (state lost, slow job) never overwrites newer hashes.
        delete_path(spark, FEATURE_PUSH_STATE.path(config))
        stale = push_view(spark, config, _PinnedStore(store, day1), specs[POSTS])
        assert (stale.written, stale.skipped_stale) == (0, 2)
        assert read_many(redis_client, specs[POSTS], [a, b]) == [a_now, b_now]

        # Redis down: a clear error, the pushed commit stays; the next run catches up.
        run_features(spark, config, D3, D3)
        pushed = last_pushed(spark, config, POSTS)
        down = config.model_copy(deep=True)
        down.redis.port = 6399
        with pytest.raises(PushError, match=r"Redis 127\.0\.0\.1:6399 is unreachable"):
            push_online(spark, down)
        with pytest.raises(PushError, match=r"push of post_features_daily to Redis 127\.0\.0\.1:6399 failed: "):
            push_view(spark, down, feature_store(spark, down), specs[POSTS])
        assert last_pushed(spark, config, POSTS) == pushed == day1
        caught_up = {p.view: p for p in push_online(spark, config)}
        assert {v: (p.written, p.skipped_stale) for v, p in caught_up.items()} == {POSTS: (1, 0), ACCOUNTS: (1, 0)}
        assert read_many(redis_client, specs[ACCOUNTS], [acc])[0].features["follower_growth"] == 20

        result = CliRunner().invoke(app, ["online", "get", POSTS, a])
        assert result.exit_code == 0, result.output
        assert '"views_delta": 10' in result.output

        _assert_backfill_equals(spark, config, _lake(stack, tmp_path, "backfill", spark, ids, table_format))
        _assert_rerun_identical(spark, config)
        # completed days without --force (the nightly run after a manual run of the same day): skipped, said so
        again = run_features(spark, config, D1, D3)
        assert [(d.day, d.skipped, d.rows) for d in again.days] == [(D1, True, {}), (D2, True, {}), (D3, True, {})]
        assert run_lines(again)[0] == "features: 0 day(s) computed, 3 skipped"
        assert day_line(again.days[1]) == "  2026-11-25: already completed, skipped (--force recomputes)"
        _assert_jvm_free_read_equal(spark, config)
        rerun = push_online(spark, config)
        assert [(p.written, p.skipped_stale) for p in rerun] == [(0, 0), (0, 0)]
    finally:
        keys = [f"dip:{POSTS}:{a}", f"dip:{POSTS}:{b}", f"dip:{ACCOUNTS}:{acc}"]
        redis_client.delete(*keys)


def test_a_first_hudi_commit_that_never_completed_is_rolled_back_by_the_next_run(
    spark: SparkSession, stack: Config, tmp_path: Path
) -> None:
    """`dip features` killed inside a table's first commit leaves `.hoodie` with the commit requested and
    inflight, never completed (seen in the chaos run: the re-run then failed reading a table without columns).
    The next run treats the table as not written yet, Hudi rolls the inflight commit back, and the rows equal a
    clean run's."""
    if not stack.spark.hudi_enabled:
        pytest.skip(f"spark.runtime {stack.spark.runtime}: no Hudi")
    ids = _ids()
    clean = _lake(stack, tmp_path, "clean", spark, ids, "hudi")
    killed = _lake(stack, tmp_path, "killed", spark, ids, "hudi")
    run_features(spark, clean, D1, D1)
    run_features(spark, killed, D1, D1)
    timeline = Path(POST_DAILY.table.path(killed).removeprefix("file://")) / ".hoodie" / "timeline"
    completed = [p for p in timeline.glob("*_*.commit")]  # <requested>_<completed>.commit: the completion
    assert len(completed) == 1 and (timeline / completed[0].name.split("_")[0]).with_suffix(".inflight").exists()
    completed[0].unlink()

    summary = run_features(spark, killed, D1, D1, force=True)
    assert summary.days[0].rows[POSTS] == 2
    assert any(p.name.endswith(".rollback") for p in timeline.iterdir())  # Hudi rolled the inflight commit back
    for name, df in _tables(spark, killed).items():
        assertDataFrameEqual(df, _tables(spark, clean)[name])
