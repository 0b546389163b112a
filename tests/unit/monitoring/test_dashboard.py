"""The Grafana dashboard and the alert rules reference only metrics that libs/dip exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml

from tests.unit.monitoring.promql import (
    DASHBOARD,
    METRIC_MODULES,
    ROOT,
    airflow_gauge_names,
    alert_rules,
    dashboard_exprs,
    exported_families,
    exported_sample_names,
    grafana_to_promql,
    metric_names,
)


def test_metric_names_of_expressions() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, route) (rate(dip_a_seconds_bucket{route!~"/x|y"}[5m] offset 1h)))'
        " / on (route) group_left sum without (job) (dip_b_total) > 0.25 and ignoring(x) dip_c"
        ' + max by (query) (label_replace(time() - dip_d{job="j"}, "query", "$1", "job", "(.+)")) > 90 * 60'
    )
    assert metric_names(expr) == {"dip_a_seconds_bucket", "dip_b_total", "dip_c", "dip_d"}
    assert metric_names("sum(rate(dip_serving_errors_total[$__rate_interval]))") == {"dip_serving_errors_total"}


def test_every_metric_module_is_walked() -> None:
    """A new module defining metrics must be added to METRIC_MODULES, or its names would look unexported."""
    pattern = re.compile(r"^from prometheus_client import .*\b(Counter|Gauge|Histogram|Summary|Info|Enum)\b", re.M)
    defining = {
        ".".join(path.relative_to(ROOT / "libs").with_suffix("").parts)
        for path in (ROOT / "libs" / "dip").rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    }
    assert defining == set(METRIC_MODULES)


def test_exported_names_follow_conventions() -> None:
    families = exported_families()
    assert all(name.startswith("dip_") for name in families)
    assert {"dip_connector_requests", "dip_stream_output_rows", "dip_job_failures"} <= {
        n for n, kind in families.items() if kind == "counter"
    }
    assert families["dip_serving_request_duration_seconds"] == "histogram"
    assert families["dip_job_duration_seconds"] == "gauge"
    samples = exported_sample_names()
    assert {"dip_connector_requests_total", "dip_serving_request_duration_seconds_bucket"} <= samples
    assert "dip_connector_requests" not in samples  # counters are stored with _total


def test_airflow_gauges_are_found() -> None:
    assert airflow_gauge_names() == {
        "dip_airflow_task_failed_timestamp_seconds",
        "dip_airflow_deadline_missed_timestamp_seconds",
    }


def test_dashboard_is_a_grafana_dashboard() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "dip-pipeline"
    assert dashboard["schemaVersion"] == 41
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) == 31
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert [t["refId"] for t in panel["targets"]] == [chr(65 + i) for i in range(len(panel["targets"]))]
    assert [v["name"] for v in dashboard["templating"]["list"]] == ["datasource"]


@pytest.mark.parametrize("source", ["dashboard", "alerts"])
def test_expressions_reference_only_exported_metrics(source: str) -> None:
    exprs = dashboard_exprs() if source == "dashboard" else [(r["alert"], r["expr"]) for r in alert_rules()]
    exported = exported_sample_names() | airflow_gauge_names()
    assert len(exprs) == {"dashboard": 36, "alerts": 19}[source]
    for title, expr in exprs:
        names = metric_names(expr)
        assert names, f"{title}: no metric in {expr!r}"
        assert names <= exported, f"{title}: not exported: {sorted(names - exported)}"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool missing: apt-get install prometheus")
def test_dashboard_expressions_parse(tmp_path) -> None:
    """Prometheus' own parser (promtool) accepts every dashboard expression, as recording rules."""
    rules = [
        {"record": f"dip:dashboard_{i}", "expr": grafana_to_promql(e)} for i, (_, e) in enumerate(dashboard_exprs())
    ]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 36 rules found" in result.stdout
