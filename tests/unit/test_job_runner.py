"""The one job runner: every entry point of a job (``dip`` command, ``jobs/*.py``, the demo's stage) records the
same lineage row, OpenLineage events and ``dip_job_*`` series the alert rules use.

The stage functions are replaced by fakes and there is no Spark session (``run_job`` then appends the lineage
row with delta-rs), so these tests check the wiring of each entry point, not the stages (their own tests do that).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from deltalake import DeltaTable
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from dip.config import Config, load_config
from dip.connectors.ingest import SourceSummary
from dip.features.batch import FeatureRunSummary
from dip.features.completed_days import DayResult
from dip.features.push import PushError, ViewPush
from dip.job_runner import Job, run_job
from dip.openlineage_events import dataset_id, parent_from
from dip.quality.daily_quality import TableQuality
from dip.reconcile import Balance
from dip.streaming.runner import BatchCounts, RunSummary
from dip.tables import BRONZE_EVENTS, SILVER_POSTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Lake, metrics textfiles and OpenLineage events under ``tmp_path``, for both load_config() and the CLI."""
    monkeypatch.setenv("DIP_HOME", str(ROOT))
    monkeypatch.setenv("DIP_ENV", "local")
    monkeypatch.setenv("DIP__LAKE__ROOT", (tmp_path / "lake").as_uri())
    monkeypatch.setenv("DIP__METRICS__TEXTFILE_DIR", str(tmp_path / "metrics"))
    monkeypatch.setenv("DIP__LINEAGE__OPENLINEAGE__FILE", str(tmp_path / "ol" / "events.jsonl"))
    monkeypatch.delenv("OPENLINEAGE_PARENT_ID", raising=False)
    return tmp_path


def _runs(tmp: Path) -> list[dict[str, Any]]:
    path = tmp / "lake" / "_runs"
    return DeltaTable(str(path)).to_pyarrow_table().to_pylist() if path.exists() else []


def _series(tmp: Path, job: str) -> dict[tuple[str, tuple], float]:
    text = (tmp / "metrics" / f"{job}.prom").read_text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.name.endswith("_created")
    }


def _events(tmp: Path) -> list[dict[str, Any]]:
    path = tmp / "ol" / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def assert_recorded(tmp: Path, job: str, counts: dict[str, int], *, status: str = "success") -> None:
    """One lineage row, the alert rules' dip_job_* series and START + COMPLETE/FAIL events for ``job``."""
    (row,) = [r for r in _runs(tmp) if r["job"] == job]
    assert (row["status"], dict(row["counts"])) == (status, counts)
    series = _series(tmp, job)
    label = (("job", job),)
    assert series[("dip_job_last_run_success", label)] == (1.0 if status == "success" else 0.0)
    assert ("dip_job_duration_seconds", label) in series
    assert series[("dip_job_failures_total", label)] == (0.0 if status == "success" else 1.0)
    if status == "success":
        assert ("dip_job_last_success_timestamp_seconds", label) in series
    for name, value in counts.items():
        assert series[("dip_job_count", (("count", name), ("job", job)))] == value
    events = [e for e in _events(tmp) if e["job"]["name"] == job]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE" if status == "success" else "FAIL"]
    assert {e["run"]["runId"].replace("-", "") for e in events} == {row["run_id"]}


def _load_job(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"job_{name}", ROOT / "jobs" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.session_factory = lambda _config, _job: lambda: None  # no Spark: the runner records with delta-rs
    return module


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    from dip.cli import app

    for module in ("dip.commands.features", "dip.commands.ml", "dip.commands.streaming", "dip.commands.common"):
        monkeypatch.setattr(f"{module}.session", lambda _config, _name: None)
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _summary(query: str, **counts: int) -> RunSummary:
    return RunSummary(query, [BatchCounts(0, counts, 0.1)], 0.1)


def _fake_stream(query: str, counts: dict[str, int], many: bool = False) -> Callable[..., Any]:
    """A stream run that records its one batch in the StreamMetrics it is given (the dip_stream_* series)."""

    def run(*_args: Any, metrics: Any = None, **_kwargs: Any) -> Any:
        metrics.record_batch(query, counts, 1_800_000_000.0)
        return [_summary(query, **counts)] if many else _summary(query, **counts)

    return run


FEATURE_ROWS = {"post_features_daily": 4, "post_features_hourly": 9, "account_features_daily": 2}


def _fake_features(*_args: Any, **_kwargs: Any) -> FeatureRunSummary:
    return FeatureRunSummary([DayResult(date(2026, 11, 25), FEATURE_ROWS, 0.1)], 0.1)


def _fake_push(_spark: Any, _config: Config, views: Any = None, metrics: Any = None) -> list[ViewPush]:
    pushes = [
        ViewPush("post_features_daily", "1", "2", 5, 1, 0.1),
        ViewPush("account_features_daily", "1", "2", 2, 0, 0.1),
    ]
    for p in pushes:
        metrics.record_push(p.view, p.written, p.skipped_stale, p.seconds)
    return pushes


def _fake_training(*_args: Any, **_kwargs: Any) -> Any:
    return SimpleNamespace(run_id="abc", version="3", champion=True, n_train=40, n_valid=10)


def test_a_run_without_spark_is_recorded_everywhere(env: Path) -> None:
    config = load_config()
    job = Job("unit_job", reads=(SILVER_POSTS,), writes=(BRONZE_EVENTS,), counts=("rows",))
    lines: list[str] = []
    with run_job(job, config, parent_run="dag/run/task/1", logical_date="2026-11-25", echo=lines.append) as run:
        run.counts["rows"] = 7
        run.params["day"] = "2026-11-25"
    assert_recorded(env, "unit_job", {"rows": 7})
    (row,) = _runs(env)
    assert (row["parent_run"], row["logical_date"], dict(row["params"])) == (
        "dag/run/task/1",
        "2026-11-25",
        {"day": "2026-11-25"},
    )
    start, complete = _events(env)
    assert start["inputs"] == [
        {"namespace": "file", "name": str(env / "lake" / "silver" / "posts"), "facets": {}, "inputFacets": {}}
    ]
    assert start["job"]["namespace"] == "dip" and complete["outputs"][0]["name"] == str(
        env / "lake" / "bronze" / "events"
    )
    seconds = lines[1].split(" in ")[1].split("s (")[0]
    assert lines == [
        f"lineage: run {row['run_id']} (unit_job, success) recorded in {(env / 'lake').as_uri()}/_runs",
        f"unit_job: success in {seconds}s (rows 7); metrics: {env / 'metrics' / 'unit_job.prom'}",
    ]


def test_a_malformed_parent_run_never_fails_the_job(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENLINEAGE_PARENT_ID", "airflow/dip_ingest.ingest/run-7")  # not a UUID: ignored
    with run_job(Job("unit_job"), load_config(), echo=lambda _l: None) as run:
        run.counts["rows"] = 2
    assert_recorded(env, "unit_job", {"rows": 2})
    assert all("parent" not in e["run"]["facets"] for e in _events(env))


def test_a_failed_run_is_recorded_and_reraised(env: Path) -> None:
    config = load_config()
    with pytest.raises(RuntimeError, match="redis down"), run_job(Job("unit_job"), config, echo=lambda _l: None):
        raise RuntimeError("redis down")
    assert_recorded(env, "unit_job", {}, status="failed")
    (row,) = _runs(env)
    assert row["error"] == "RuntimeError: redis down"
    fail = _events(env)[-1]
    assert fail["run"]["facets"]["errorMessage"]["message"] == "RuntimeError: redis down"


def test_the_parent_run_comes_from_the_airflow_provider_conf_or_the_environment() -> None:
    conf = {
        "spark.openlineage.parentJobNamespace": "airflow",
        "spark.openlineage.parentJobName": "dip_nightly.batch_features",
        "spark.openlineage.parentRunId": "01934f2e-0000-7000-8000-000000000001",
    }
    assert parent_from(conf, {}) == {
        "namespace": "airflow",
        "name": "dip_nightly.batch_features",
        "run_id": "01934f2e-0000-7000-8000-000000000001",
    }
    parent = "airflow/dip_ingest.ingest/01934f2e-0000-7000-8000-000000000002"
    assert parent_from({}, {"OPENLINEAGE_PARENT_ID": parent}) == {
        "namespace": "airflow",
        "name": "dip_ingest.ingest",
        "run_id": "01934f2e-0000-7000-8000-000000000002",
    }
    assert parent_from({}, {"OPENLINEAGE_PARENT_ID": "airflow/dip_ingest.ingest/not-a-uuid"}) is None
    assert parent_from({}, {}) is None
    assert dataset_id("s3a://lake-bucket/dip/silver/posts") == ("s3://lake-bucket", "dip/silver/posts")


# every entry point of each job: (job, counts, how to run it)
def _job_script(name: str, patches: dict[str, Callable], *argv: str) -> Callable[[pytest.MonkeyPatch], None]:
    def run(_monkeypatch: pytest.MonkeyPatch) -> None:
        module = _load_job(name)
        for attr, fake in patches.items():
            setattr(module, attr, fake)
        assert module.main(list(argv)) == 0

    return run


def _command(patches: dict[str, Callable], *args: str) -> Callable[[pytest.MonkeyPatch], None]:
    def run(monkeypatch: pytest.MonkeyPatch) -> None:
        for target, fake in patches.items():
            monkeypatch.setattr(target, fake)
        _cli(monkeypatch, *args)

    return run


def _stream_job(name: str, target: str, fake: Callable) -> Callable[[pytest.MonkeyPatch], None]:
    """Run ``jobs/<name>.py`` as spark-submit does (``__main__``), its stream function replaced by ``fake``."""

    def run(monkeypatch: pytest.MonkeyPatch) -> None:
        import runpy
        import sys

        monkeypatch.setattr(target, fake)
        monkeypatch.setattr("dip.job_main.session_factory", lambda _config, _job: lambda: None)
        monkeypatch.setattr(sys, "argv", [f"jobs/{name}.py"])
        with pytest.raises(SystemExit) as exited:
            runpy.run_path(str(ROOT / "jobs" / f"{name}.py"), run_name="__main__")
        assert exited.value.code == 0

    return run


BRONZE = {"kafka": 3, "bronze": 2, "dlq": 1}
SILVER = {"bronze": 2, "silver": 2, "quarantine": 0, "dlq": 0, "duplicate": 0}
LIVE = {"changes": 2, "written": 2, "skipped_stale": 0}
PUSHED = {"post_features_daily": 5, "account_features_daily": 2}
INGESTED = {"accounts": 2, "records": 9, "unchanged": 1, "dlq": 0, "errors": 0}


class _FakeIngest:
    def __init__(self, _config: Config) -> None:
        from dip.connectors.metrics import ConnectorMetrics

        self.metrics, self.run_id = ConnectorMetrics(), "ingest-1"

    def run(self, _source: str) -> list[SourceSummary]:
        return [SourceSummary("instagram", accounts=1, records=5, unchanged=1), SourceSummary("tiktok", 1, records=4)]


ENTRY_POINTS = {
    "jobs/batch_features.py": (
        "batch_features",
        FEATURE_ROWS,
        _job_script("batch_features", {"run_features": _fake_features}, "--date", "2026-11-25"),
    ),
    "dip features": (
        "batch_features",
        FEATURE_ROWS,
        _command({"dip.features.batch.run_features": _fake_features}, "features", "--date", "2026-11-25"),
    ),
    "jobs/push_online.py": ("push_online", PUSHED, _job_script("push_online", {"push_online": _fake_push})),
    "dip push-online": ("push_online", PUSHED, _command({"dip.features.push.push_online": _fake_push}, "push-online")),
    "jobs/train.py": (
        "train",
        {"train_rows": 40, "validation_rows": 10},
        _job_script("train", {"run_training": _fake_training, "result_lines": lambda _r, _c: ["trained"]}),
    ),
    "dip train": (
        "train",
        {"train_rows": 40, "validation_rows": 10},
        _command(
            {"dip.ml.train.run_training": _fake_training, "dip.ml.train.result_lines": lambda _r, _c: ["trained"]},
            "train",
        ),
    ),
    "dip evaluate": (
        "evaluate",
        {"variants": 1, "predictions": 6},
        _command(
            {"dip.ml.evaluate.run_evaluate": lambda _s, _c: [{"variant": "a", "count": 6, "mae": 0.1, "rmse": 0.2}]},
            "evaluate",
        ),
    ),
    "jobs/stream_bronze.py": (
        "stream_bronze",
        BRONZE,
        _stream_job(
            "stream_bronze", "dip.streaming.bronze_job.run_stream_bronze", _fake_stream("stream_bronze", BRONZE)
        ),
    ),
    "dip stream bronze": (
        "stream_bronze",
        BRONZE,
        _command(
            {"dip.streaming.bronze_job.run_stream_bronze": _fake_stream("stream_bronze", BRONZE)},
            "stream",
            "bronze",
        ),
    ),
    "jobs/stream_silver.py": (
        "stream_silver",
        SILVER,
        _stream_job("stream_silver", "dip.silver.stream_job.run_stream_silver", _fake_stream("stream_silver", SILVER)),
    ),
    "dip stream silver": (
        "stream_silver",
        SILVER,
        _command(
            {"dip.silver.stream_job.run_stream_silver": _fake_stream("stream_silver", SILVER)},
            "stream",
            "silver",
        ),
    ),
    "jobs/stream_live.py": (
        "stream_live",
        LIVE,
        _stream_job("stream_live", "dip.features.live_job.run_live_job", _fake_stream("stream_live_posts", LIVE)),
    ),
    "dip stream live": (
        "stream_live",
        LIVE,
        _command(
            {"dip.features.live_job.run_stream_live": _fake_stream("stream_live_posts", LIVE, many=True)},
            "stream",
            "live",
        ),
    ),
    "dip stream all": (
        "stream_all",
        {
            **{f"stream_bronze.{k}": v for k, v in BRONZE.items()},
            **{f"stream_silver.{k}": v for k, v in SILVER.items()},
        },
        _command(
            {
                "dip.stream_all.run_stream_all": lambda *_a, **_k: [
                    _summary("stream_bronze", **BRONZE),
                    _summary("stream_silver", **SILVER),
                ]
            },
            "stream",
            "all",
        ),
    ),
    "dip ingest": ("ingest", INGESTED, _command({"dip.connectors.ingest.IngestRun": _FakeIngest}, "ingest")),
    "dip reconcile": (
        "reconcile",
        {"balanced": 1, "unbalanced": 0, "pending": 2},
        _command({"dip.reconcile.reconcile": lambda *_a: [Balance("kafka", "t", 5, {"bronze": 5}, 2)]}, "reconcile"),
    ),
    "dip quality report": (
        "quality_report",
        {"evaluated": 7, "failed": 0},
        _command(
            {"dip.quality.daily_quality.quality_report": lambda *_a: [TableQuality("posts", 7, 0, 0, 1, ())]},
            "quality",
            "report",
        ),
    ),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_every_entry_point_records_through_the_runner(entry: str, env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    job, counts, run = ENTRY_POINTS[entry]
    run(monkeypatch)
    assert_recorded(env, job, counts)
    if job.startswith("stream_") and job != "stream_all":  # the series the stream alert rules read
        query = "stream_live_posts" if job == "stream_live" else job
        output = next(iter(counts))
        assert (
            _series(env, job)[("dip_stream_output_rows_total", (("output", output), ("query", query)))]
            == counts[output]
        )
        assert ("dip_stream_event_time_lag_seconds", (("query", query),)) in _series(env, job)
    if job == "push_online":  # the series DipOnlinePushFailed reads, per view, under both entry points
        series = _series(env, job)
        assert series[("dip_online_push_failures_total", (("view", "post_features_daily"),))] == 0.0
        assert series[("dip_online_push_rows_total", (("outcome", "written"), ("view", "post_features_daily")))] == 5


def test_a_failed_push_counts_the_view_and_fails_the_run(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_push(_spark: Any, _config: Config, views: Any = None, metrics: Any = None) -> list[ViewPush]:
        metrics.record_failure("post_features_daily")
        raise PushError("Redis at 127.0.0.1:6379 is unreachable")

    module = _load_job("push_online")
    module.push_online = failing_push
    assert module.main([]) == 1
    assert_recorded(env, "push_online", {}, status="failed")
    assert _series(env, "push_online")[("dip_online_push_failures_total", (("view", "post_features_daily"),))] == 1.0


def test_events_reach_a_marquez_compatible_endpoint_over_http(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[tuple[str, str, dict]] = []

    class Lineage(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers.get("Authorization", ""), json.loads(body)))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Lineage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("DIP__LINEAGE__OPENLINEAGE__TRANSPORT", "http")
        monkeypatch.setenv("DIP__LINEAGE__OPENLINEAGE__URL", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.setenv("DIP__LINEAGE__OPENLINEAGE__API_KEY", "ol-token")
        with run_job(Job("unit_job", writes=(BRONZE_EVENTS,)), load_config(), echo=lambda _l: None) as run:
            run.counts["rows"] = 1
    finally:
        server.shutdown()
    assert [(path, auth, event["eventType"]) for path, auth, event in received] == [
        ("/api/v1/lineage", "Bearer ol-token", "START"),
        ("/api/v1/lineage", "Bearer ol-token", "COMPLETE"),
    ]
    (row,) = _runs(env)
    assert received[1][2]["run"]["runId"].replace("-", "") == row["run_id"]
    assert received[1][2]["outputs"][0]["name"] == str(env / "lake" / "bronze" / "events")


def test_an_http_transport_without_url_is_a_config_error(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dip.config import ConfigError

    monkeypatch.setenv("DIP__LINEAGE__OPENLINEAGE__TRANSPORT", "http")
    with pytest.raises(ConfigError, match=r"lineage\.openlineage\.transport http needs lineage\.openlineage\.url"):
        load_config()


def test_ingest_records_its_run_on_a_host_without_pyspark(env: Path) -> None:
    """The `connectors` role installs no pyspark: ingest's run goes to `_runs` with delta-rs all the same."""
    import subprocess
    import sys

    code = """
import sys
class NoSpark:
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("pyspark", "py4j", "delta"):
            raise ImportError(f"no {name} on an ingest host")
sys.meta_path.insert(0, NoSpark())
import dip.cli
from dip.config import load_config
from dip.connectors.ingest import INGEST
from dip.job_runner import run_job
with run_job(INGEST, load_config(), echo=print) as run:
    run.counts.update({"accounts": 2, "records": 9})
assert not [m for m in sys.modules if m.startswith(("pyspark", "py4j"))]
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_recorded(env, "ingest", {"accounts": 2, "records": 9})


def test_an_unbalanced_reconcile_exits_1_and_is_a_failed_run(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dip.cli import app

    monkeypatch.setattr("dip.commands.common.session", lambda _config, _name: None)
    monkeypatch.setattr("dip.reconcile.reconcile", lambda *_a: [Balance("kafka", "t", 5, {"bronze": 4})])
    result = CliRunner().invoke(app, ["reconcile", "--run-id", "dip_ingest/r/reconcile/1"])
    assert result.exit_code == 1 and result.output.splitlines()[-1] == "reconcile: 0 balanced, 1 unbalanced"
    assert_recorded(env, "reconcile", {"balanced": 0, "unbalanced": 1, "pending": 0}, status="failed")
    assert _runs(env)[0]["parent_run"] == "dip_ingest/r/reconcile/1"
