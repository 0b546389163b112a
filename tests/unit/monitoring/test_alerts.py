"""conf/monitoring: promtool accepts the rules and the example config, and the rules' unit tests pass."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from dip.config import load_config
from tests.unit.monitoring.promql import MONITORING, alert_rules

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool missing: apt-get install prometheus (Debian package)"
)


def _promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], cwd=MONITORING, capture_output=True, text=True, check=False)


@needs_promtool
def test_promtool_check_rules() -> None:
    result = _promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 19 rules found" in result.stdout


@needs_promtool
def test_promtool_test_rules() -> None:
    result = _promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@needs_promtool
def test_promtool_check_example_config() -> None:
    result = _promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_cover_the_pipeline() -> None:
    assert sorted({r["alert"] for r in alert_rules()}) == [
        "DipAirflowDeadlineMissed",
        "DipAirflowTaskFailed",
        "DipBatchJobStale",
        "DipConnectorDlqRateHigh",
        "DipConnectorErrorRateHigh",
        "DipConnectorRateLimited",
        "DipFreshnessSlaBreached",
        "DipJobFailed",
        "DipJobSlow",
        "DipLiveLagHigh",
        "DipOnlinePushFailed",
        "DipQuarantineRateHigh",
        "DipSellerAlertsRaised",
        "DipServing5xxRateHigh",
        "DipServingLatencyP99High",
        "DipStreamBatchRejectedShareHigh",
        "DipStreamDlqRateHigh",
        "DipStreamStale",
    ]
    assert all(r["labels"]["severity"] in {"warning", "critical"} for r in alert_rules())


def test_freshness_thresholds_match_the_status_slas() -> None:
    """The alert thresholds and `dip status` (status.sla_minutes in conf/base.yaml) agree."""
    slas = load_config("local", conf_dir=MONITORING.parent, environ={}).status.sla_minutes
    freshness = [r for r in alert_rules() if r["alert"] == "DipFreshnessSlaBreached"]
    found = {
        r["labels"]["table"]: int(re.search(r">\s*(\d+)\s*\*\s*60\s*$", r["expr"].strip()).group(1)) for r in freshness
    }
    assert found == {"bronze_events": 90, "silver_post_metrics": 120}
    assert {table: slas[table] for table in found} == found
