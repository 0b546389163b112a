"""`dip status` on small fixture tables: freshness against SLAs, job runs from textfiles, DLQ/quarantine counts."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import write_to_textfile
from pyspark.sql import SparkSession
from typer.testing import CliRunner

from dip.config import Config, load_config
from dip.lineage import runs_path
from dip.observability.jobs import JobMetrics
from dip.status import (
    DeadLetters,
    Freshness,
    JobRun,
    build_status,
    dead_letter_counts,
    format_age,
    job_runs_from_table,
    job_runs_from_textfiles,
    latest_per_job,
    summarize,
    table_freshness,
)
from dip.tables import BRONZE_EVENTS, DLQ, SILVER_POST_METRICS, SILVER_QUARANTINE, Table

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _config(tmp: Path) -> Config:
    config = load_config(
        "local",
        environ={
            "DIP_HOME": str(ROOT),
            "DIP__LAKE__ROOT": (tmp / "lake").as_uri(),
            "DIP__METRICS__TEXTFILE_DIR": str(tmp / "metrics"),
        },
    )
    config.status.sla_minutes = {"bronze_events": 90, "silver_post_metrics": 120, "silver_posts": 60}
    # no live views: these tests need no Redis (the live views' part is tested on its own below)
    config.online.views = {name: view for name, view in config.online.views.items() if not view.live}
    return config


def test_the_summary_shows_the_live_views_lag() -> None:
    from dip.online.live_state import LiveState
    from dip.status import LiveViewStatus, StatusReport

    now = at(25, 12)
    written_ms = int(now.timestamp() * 1000) - 120_000
    live = [
        LiveViewStatus("post_live", LiveState("post_live", 7, written_ms - 12_500, written_ms, 40, 2), now),
        LiveViewStatus("account_live", None, now),
    ]
    report = StatusReport(now, [], [], [], live=live)
    assert live[0].age_minutes == 2.0 and live[0].state is not None and live[0].state.lag_s == 12.5
    assert summarize(report) == (
        "status: all SLAs met; 0 job(s); DLQ 0 rows, quarantine 0 rows; live lag post_live 12.5s"
    )


def _write(spark: SparkSession, config: Config, table: Table, rows: list[tuple], ddl: str) -> None:
    spark.createDataFrame(rows, ddl).write.format("delta").save(table.path(config))


@pytest.fixture(scope="module")
def lake(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Config:
    """bronze newest 11:00 (60m old), post_metrics newest 09:30 (150m), no silver_posts; DLQ and quarantine rows."""
    config = _config(tmp_path_factory.mktemp("status"))
    _write(
        spark,
        config,
        BRONZE_EVENTS,
        [("instagram", at(26, 10)), ("tiktok", at(26, 11))],
        "source STRING, fetched_at TIMESTAMP",
    )
    _write(
        spark,
        config,
        SILVER_POST_METRICS,
        [("p1", at(26, 9, 30)), ("p2", at(25, 9))],
        "post_id STRING, captured_at TIMESTAMP",
    )
    _write(
        spark,
        config,
        DLQ,
        [
            ("d1", "bronze", at(26, 10)),
            ("d1", "bronze", at(26, 10)),
            ("d2", "silver", at(24, 8)),
            ("d3", "silver", at(26, 11, 30)),
        ],
        "dlq_id STRING, stage STRING, failed_at TIMESTAMP",
    )
    _write(
        spark,
        config,
        SILVER_QUARANTINE,
        [("post_metrics", at(26, 11)), ("post_metrics", at(20, 0)), ("posts", at(26, 11, 45))],
        "table_name STRING, quarantined_at TIMESTAMP",
    )
    spark.createDataFrame(
        [
            ("batch_features", "success", at(26, 1), at(26, 1, 10)),
            ("batch_features", "failed", at(26, 2), at(26, 2) + timedelta(seconds=30)),
            ("ingest", "success", at(26, 10, 59), at(26, 11, 30)),
            ("push_online", "failed", at(26, 3), None),
        ],
        "job STRING, status STRING, started_at TIMESTAMP, ended_at TIMESTAMP",
    ).write.format("delta").save(runs_path(config))
    folder = Path(config.metrics.textfile_dir)
    folder.mkdir(parents=True)
    metrics = JobMetrics()
    for job, ok in (("ingest", True), ("stream_bronze", False)):
        metrics.duration.labels(job).set(42.5)
        metrics.last_run.labels(job).set(at(26, 11).timestamp())
        metrics.last_run_success.labels(job).set(1 if ok else 0)
        if ok:
            metrics.last_success.labels(job).set(at(26, 11).timestamp())
    write_to_textfile(str(folder / "runs.prom"), metrics.registry)
    (folder / "legacy.prom").write_text("# TYPE dip_stream_batches_total counter\ndip_stream_batches_total 3\n")
    os.utime(folder / "legacy.prom", (at(25, 6).timestamp(), at(25, 6).timestamp()))
    (folder / "broken.prom").write_text("dip_x{ 1\n")
    return config


def test_table_freshness(spark: SparkSession, lake: Config) -> None:
    found = {f.table: f for f in table_freshness(spark, lake, NOW)}
    assert found["bronze_events"] == Freshness("bronze_events", "fetched_at", at(26, 11), 60.0, 90)
    assert found["silver_post_metrics"] == Freshness("silver_post_metrics", "captured_at", at(26, 9, 30), 150.0, 120)
    assert found["silver_posts"] == Freshness("silver_posts", "updated_at", None, None, 60)
    assert found["silver_accounts"] == Freshness("silver_accounts", "updated_at", None, None, None)
    assert {t: f.state for t, f in found.items()} == {
        "bronze_events": "ok",
        "silver_posts": "NO DATA",
        "silver_post_metrics": "BREACHED",
        "silver_post_captions": "no data",
        "silver_accounts": "no data",
        "silver_account_metrics": "no data",
        "silver_audience": "no data",
        "silver_predictions": "no data",
        "post_features_daily": "no data",
        "post_features_hourly": "no data",
        "account_features_daily": "no data",
        "feature_runs": "no data",
        "feature_push_state": "no data",
    }


def test_dead_letter_counts(spark: SparkSession, lake: Config) -> None:
    assert dead_letter_counts(spark, lake, NOW) == [
        DeadLetters("dlq", "bronze", 1, 1, at(26, 10)),
        DeadLetters("dlq", "silver", 2, 1, at(26, 11, 30)),
        DeadLetters("quarantine", "post_metrics", 2, 1, at(26, 11)),
        DeadLetters("quarantine", "posts", 1, 1, at(26, 11, 45)),
    ]


def test_job_runs_from_textfiles(lake: Config) -> None:
    folder = Path(lake.metrics.textfile_dir)
    runs, notes = job_runs_from_textfiles(folder)
    source = str(folder / "runs.prom")
    assert runs == [
        JobRun("legacy", at(25, 6), None, None, None, str(folder / "legacy.prom")),
        JobRun("ingest", at(26, 11), at(26, 11), True, 42.5, source),
        JobRun("stream_bronze", at(26, 11), None, False, 42.5, source),
    ]
    assert len(notes) == 1 and notes[0].startswith(f"{folder / 'broken.prom'}: unreadable metrics")


def test_job_runs_from_the_runs_table(spark: SparkSession, lake: Config) -> None:
    assert job_runs_from_table(spark, lake) == [
        JobRun("batch_features", at(26, 2) + timedelta(seconds=30), at(26, 1, 10), False, 30.0, "runs table"),
        JobRun("ingest", at(26, 11, 30), at(26, 11, 30), True, 1860.0, "runs table"),
    ]


def test_latest_run_per_job_across_sources() -> None:
    textfile = JobRun("ingest", at(26, 11), at(26, 11), True, 42.5, "ingest.prom")
    table_failed = JobRun("ingest", at(26, 12), at(26, 9), False, 3.0, "runs table")
    other = JobRun("stream_bronze", None, None, None, None, "legacy.prom")
    assert latest_per_job([textfile, other, table_failed]) == [
        JobRun("ingest", at(26, 12), at(26, 11), False, 3.0, "runs table"),
        other,
    ]


def test_no_textfiles_is_a_note(tmp_path: Path) -> None:
    assert job_runs_from_textfiles(tmp_path / "none") == (
        [],
        [f"no job metrics in {tmp_path / 'none'} yet (jobs write <job>.prom there when they end)"],
    )


def test_build_status_and_summary(spark: SparkSession, lake: Config) -> None:
    report = build_status(spark, lake, NOW)
    assert [f.table for f in report.breaches] == ["silver_posts", "silver_post_metrics"]
    assert [(r.job, r.source) for r in report.jobs] == [
        ("batch_features", "runs table"),
        ("ingest", "runs table"),
        ("legacy", str(Path(lake.metrics.textfile_dir) / "legacy.prom")),
        ("stream_bronze", str(Path(lake.metrics.textfile_dir) / "runs.prom")),
    ]
    assert summarize(report) == (
        "status: 2 SLA breach(es): silver_posts, silver_post_metrics; 4 job(s); DLQ 3 rows, quarantine 3 rows"
    )


def test_silver_batches_over_the_dlq_share_are_reported(spark: SparkSession, tmp_path: Path) -> None:
    from dip.status import RejectedBatch, rejected_batches
    from dip.tables import SILVER_LEDGER

    config = _config(tmp_path)
    config.streaming.max_rejected_share = 0.05

    def rows(batch: int, at: datetime, outcomes: list[tuple[str, str | None]]) -> list[tuple]:
        return [("w1", batch, outcome, reason, at.replace(tzinfo=None)) for outcome, reason in outcomes]

    ledger = (
        rows(1, at(26, 9), [("silver", None)] * 98 + [("dlq", "late")] * 2)  # 2 %: fine
        + rows(2, at(26, 10), [("silver", None)] * 4 + [("dlq", "late")] * 5 + [("dlq", "future_event_time")])
        + rows(3, at(25, 10), [("dlq", "late")] * 10)  # 100 %, but 26 h ago
        + rows(4, at(26, 11), [("silver", None)] * 19 + [("dlq", "unparseable")])  # exactly 5 %: not over
    )
    ddl = "writer STRING, batch_id BIGINT, outcome STRING, reason STRING, processed_at TIMESTAMP"
    _write(spark, config, SILVER_LEDGER, ledger, ddl)
    assert rejected_batches(spark, config, NOW) == [
        RejectedBatch("w1", 2, 10, 6, "future_event_time, late", at(26, 10))
    ]


def test_unknown_sla_table_is_rejected(spark: SparkSession, tmp_path: Path) -> None:
    config = _config(tmp_path)
    config.status.sla_minutes = {"bronze": 5}
    with pytest.raises(ValueError, match=r"status.sla_minutes: unknown table\(s\) bronze \(known: account_features"):
        table_freshness(spark, config, NOW)


def test_format_age() -> None:
    assert [format_age(m) for m in (None, 0.4, 59.9, 60, 125, 1440, 2160, -5)] == [
        "-", "0m", "59m", "1h00m", "2h05m", "1d00h", "1d12h", "-5m"
    ]  # fmt: skip


def test_cli_exit_code_follows_the_slas(spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dip.cli import app
    from dip.commands import status as status_commands

    config = _config(tmp_path)
    recent = datetime.now(UTC) - timedelta(minutes=30)
    _write(spark, config, BRONZE_EVENTS, [("instagram", recent)], "source STRING, fetched_at TIMESTAMP")
    monkeypatch.setattr(status_commands, "config_or_exit", lambda env: config)
    monkeypatch.setattr(status_commands, "session", lambda config, name: spark)

    config.status.sla_minutes = {"bronze_events": 90}
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "status: all SLAs met; 0 job(s); DLQ 0 rows, quarantine 0 rows"

    config.status.sla_minutes = {"bronze_events": 10}
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "status: 1 SLA breach(es): bronze_events; 0 job(s); DLQ 0 rows, quarantine 0 rows"
    )
