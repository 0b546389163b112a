"""job_run: dip_job_* metrics of a run, flushed to the textfile, whatever the outcome."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import typer
from prometheus_client.parser import text_string_to_metric_families

from dip.config import Config, load_config
from dip.observability import jobs
from dip.observability.jobs import JobMetrics, job_run
from dip.observability.online import OnlinePushMetrics
from dip.observability.streaming import StreamMetrics

ROOT = Path(__file__).resolve().parents[3]


class FakeClock:
    """monotonic() alternates start/end, so every run lasts 12.5 s; time() is a fixed epoch."""

    def __init__(self) -> None:
        self.ticks = itertools.cycle([100.0, 112.5])

    def monotonic(self) -> float:
        return next(self.ticks)

    def time(self) -> float:
        return 1_800_000_000.0


@pytest.fixture()
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setattr(jobs, "time", FakeClock())
    return load_config(
        "local",
        environ={
            "DIP_HOME": str(ROOT),
            "DIP__LAKE__ROOT": str(tmp_path / "lake"),
            "DIP__METRICS__TEXTFILE_DIR": str(tmp_path / "metrics"),
        },
    )


def samples(path: Path) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(path.read_text())
        for s in family.samples
        if not s.name.endswith("_created")
    }


def job_samples(job: str, *, success: bool) -> dict[tuple[str, tuple], float]:
    label = (("job", job),)
    values = {
        ("dip_job_duration_seconds", label): 12.5,
        ("dip_job_last_run_timestamp_seconds", label): 1_800_000_000.0,
        ("dip_job_last_run_success", label): 1.0 if success else 0.0,
        ("dip_job_failures_total", label): 0.0 if success else 1.0,
    }
    if success:
        values[("dip_job_last_success_timestamp_seconds", label)] = 1_800_000_000.0
    return values


def test_success_writes_the_textfile(config: Config, tmp_path: Path) -> None:
    with job_run("batch_features", config) as run:
        pass
    target = tmp_path / "metrics" / "batch_features.prom"
    assert (run.succeeded, run.seconds, run.metrics_target, run.flush_error) == (True, 12.5, str(target), None)
    assert samples(target) == job_samples("batch_features", success=True)


def test_failure_is_counted_flushed_and_reraised(config: Config, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="redis down"), job_run("push_online", config) as run:
        raise RuntimeError("redis down")
    assert run.succeeded is False
    assert samples(tmp_path / "metrics" / "push_online.prom") == job_samples("push_online", success=False)


@pytest.mark.parametrize(("exit_code", "success"), [(0, True), (1, False)])
def test_typer_exit_code_decides(config: Config, tmp_path: Path, exit_code: int, success: bool) -> None:
    with pytest.raises(typer.Exit), job_run("ingest", config):
        raise typer.Exit(exit_code)
    assert samples(tmp_path / "metrics" / "ingest.prom") == job_samples("ingest", success=success)


def test_unreachable_pushgateway_does_not_fail_the_job(config: Config) -> None:
    config.metrics.pushgateway_url = "http://127.0.0.1:9"  # discard port: connection refused
    with job_run("ingest", config) as run:
        pass
    assert run.succeeded is True
    assert run.metrics_target is None
    assert run.flush_error.startswith("URLError: ")


def test_shares_the_registry_of_the_stream_and_push_metrics(config: Config, tmp_path: Path) -> None:
    stream = StreamMetrics()
    stream.record_batch("stream_silver", {"silver": 7, "quarantine": 2}, None)
    with job_run("stream_silver", config, metrics=stream.job):
        pass
    found = samples(tmp_path / "metrics" / "stream_silver.prom")
    assert found[("dip_stream_output_rows_total", (("output", "quarantine"), ("query", "stream_silver")))] == 2.0
    assert found[("dip_job_last_run_success", (("job", "stream_silver"),))] == 1.0

    push = OnlinePushMetrics(views=["post_features_daily"])
    with job_run("push_online", config, metrics=JobMetrics(push.registry)):
        push.record_push("post_features_daily", 40, 2, 1.5)
    found = samples(tmp_path / "metrics" / "push_online.prom")
    assert {k: v for k, v in found.items() if k[0].startswith("dip_online")} == {
        ("dip_online_push_rows_total", (("outcome", "written"), ("view", "post_features_daily"))): 40.0,
        ("dip_online_push_rows_total", (("outcome", "skipped_stale"), ("view", "post_features_daily"))): 2.0,
        ("dip_online_push_failures_total", (("view", "post_features_daily"),)): 0.0,
        ("dip_online_push_duration_seconds", (("view", "post_features_daily"),)): 1.5,
    }


def test_online_push_failure_counter() -> None:
    push = OnlinePushMetrics(views=["post_features_daily", "account_features_daily"])
    push.record_failure("account_features_daily")
    assert push.registry.get_sample_value("dip_online_push_failures_total", {"view": "account_features_daily"}) == 1.0
    assert push.registry.get_sample_value("dip_online_push_failures_total", {"view": "post_features_daily"}) == 0.0


def test_a_batch_over_the_dlq_share_is_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    stream = StreamMetrics(max_rejected_share=0.05)
    stream.record_batch("stream_silver", {"bronze": 100, "silver": 95, "dlq": 5}, None)  # 5 %: at the limit
    stream.record_batch("stream_bronze", {"kafka": 10, "bronze": 2, "dlq": 8}, None)  # input is Kafka here
    stream.record_batch("stream_silver", {"bronze": 20, "silver": 10, "dlq": 10}, None)

    def value(name: str, query: str) -> float | None:
        return stream.registry.get_sample_value(name, {"query": query})

    assert value("dip_stream_rejected_batches_total", "stream_silver") == 1.0
    assert value("dip_stream_rejected_batches_total", "stream_bronze") == 1.0
    assert value("dip_stream_batch_rejected_share", "stream_silver") == 0.5
    assert value("dip_stream_batch_rejected_share", "stream_bronze") == 0.8
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "stream_bronze: 8 of 10 rows of this batch went to the DLQ (80.0% > 5.0%); `dip dlq list` has the reasons",
        "stream_silver: 10 of 20 rows of this batch went to the DLQ (50.0% > 5.0%); `dip dlq list` has the reasons",
    ]
