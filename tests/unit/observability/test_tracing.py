"""Traces: spans of job stages and connector requests with an in-memory exporter; a cheap no-op when off."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from dip.config import Config, load_config
from dip.connectors.http import ApiClient
from dip.connectors.metrics import ConnectorMetrics
from dip.connectors.throttle import RequestBudget
from dip.connectors.tiktok import classify_tiktok_error
from dip.observability import tracing
from dip.observability.jobs import job_run
from dip.observability.tracing import (
    configure_tracing,
    in_current_context,
    otlp_endpoint,
    shutdown_tracing,
    span,
    tracing_enabled,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture()
def config(tmp_path: Path) -> Config:
    return load_config(
        "local",
        environ={
            "DIP_HOME": str(ROOT),
            "DIP__LAKE__ROOT": str(tmp_path / "lake"),
            "DIP__METRICS__TEXTFILE_DIR": str(tmp_path / "metrics"),
        },
    )


@pytest.fixture()
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    shutdown_tracing()
    assert configure_tracing(None, exporter=exporter)
    yield exporter
    shutdown_tracing()


def test_off_by_default_is_a_shared_noop(config: Config) -> None:
    shutdown_tracing()
    assert configure_tracing(config, environ={}) is False
    assert not tracing_enabled()
    cm = span("anything", **{"dip.job": "x"})
    assert cm is span("other")  # one shared object: no allocation, no SDK
    with cm as current:
        current.set_attribute("k", "v")


def test_tracing_off_imports_no_opentelemetry() -> None:
    code = (
        "import sys\n"
        "from dip.observability.tracing import configure_tracing, span\n"
        "import dip.connectors.http\n"
        "assert configure_tracing(None, environ={}) is False\n"
        "with span('x', a=1) as s: s.set_attribute('b', 2)\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_endpoint_from_config_then_standard_variables(config: Config) -> None:
    assert otlp_endpoint(config, {}) is None
    assert otlp_endpoint(config, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318"}) == "http://otel:4318"
    assert otlp_endpoint(config, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:4318/v1/traces"}) == (
        "http://t:4318/v1/traces"
    )
    assert (
        otlp_endpoint(config, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318", "OTEL_SDK_DISABLED": "true"}) is None
    )
    configured = config.model_copy(deep=True)
    configured.observability.otlp_endpoint = "http://collector:4318/"
    assert otlp_endpoint(configured, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318"}) == "http://collector:4318/"
    assert tracing._otlp_exporter(configured, {})._endpoint == "http://collector:4318/v1/traces"


def test_configured_endpoint_turns_tracing_on_without_a_collector(config: Config) -> None:
    shutdown_tracing()
    try:
        assert configure_tracing(config, environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9/"}) is True
        assert tracing_enabled()
    finally:
        shutdown_tracing()  # nothing recorded, so nothing is sent to the absent collector
    assert not tracing_enabled()


def test_job_and_stage_spans(spans: InMemorySpanExporter, config: Config) -> None:
    with job_run("unit_job", config, flush=False), span("dip.stage.read", **{"dip.job": "unit_job", "rows": 3}):
        pass
    read, job = spans.get_finished_spans()
    assert (read.name, job.name) == ("dip.stage.read", "dip.job.unit_job")
    assert dict(read.attributes) == {"dip.job": "unit_job", "rows": 3}
    assert dict(job.attributes) == {"dip.job": "unit_job", "dip.env": "local"}
    assert read.parent.span_id == job.context.span_id
    assert job.resource.attributes["service.name"] == "dip"


def test_failed_job_span_is_an_error(spans: InMemorySpanExporter, config: Config) -> None:
    with pytest.raises(ValueError), job_run("unit_job", config, flush=False):
        raise ValueError("boom")
    (job,) = spans.get_finished_spans()
    assert job.status.status_code is StatusCode.ERROR
    assert [e.name for e in job.events] == ["exception"]


def test_connector_request_spans(spans: InMemorySpanExporter, config: Config) -> None:
    answers = [
        httpx.Response(429, json={"error": {"code": "rate_limit_exceeded", "message": "m", "log_id": "L"}}),
        httpx.Response(200, json={"data": {"user": {}}, "error": {"code": "ok", "message": "", "log_id": "L"}}),
    ]
    client = ApiClient(
        "tiktok",
        "http://tt.test",
        config.connectors.model_copy(update={"backoff_initial_s": 0.0, "backoff_max_s": 0.0}),
        RequestBudget(1000, sleep=lambda _s: None),
        ConnectorMetrics(),
        classify_tiktok_error,
        transport=httpx.MockTransport(lambda request: answers.pop(0)),
        sleep=lambda _s: None,
    )
    client.request("GET", "/v2/user/info/", entity="user", endpoint="user_info", account_id="open1")
    limited, ok = spans.get_finished_spans()
    expected = {"dip.source": "tiktok", "dip.entity": "user", "dip.endpoint": "user_info", "http.request.method": "GET"}
    assert limited.name == ok.name == "dip.connector.request"
    assert dict(limited.attributes) == expected
    assert limited.status.status_code is StatusCode.ERROR
    assert dict(ok.attributes) == {**expected, "http.response.status_code": 200}
    assert ok.status.status_code is StatusCode.UNSET


def test_worker_threads_join_the_callers_trace(spans: InMemorySpanExporter) -> None:
    def work() -> None:
        with span("dip.connector.request"):
            pass

    with span("dip.job.ingest"), ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(in_current_context(work)), pool.submit(work)]:
            future.result()
    (job,) = [s for s in spans.get_finished_spans() if s.name == "dip.job.ingest"]
    requests = [s for s in spans.get_finished_spans() if s.name == "dip.connector.request"]
    # the wrapped call joins the trace; a plain submit starts its own (why ingest wraps its workers)
    assert sorted(r.parent.span_id if r.parent else 0 for r in requests) == [0, job.context.span_id]


def test_in_current_context_is_identity_when_off() -> None:
    shutdown_tracing()
    assert in_current_context(print) is print
