"""Helpers of the monitoring tests: PromQL metric names, the dashboard's and rules' expressions, exported names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
MONITORING = ROOT / "conf" / "monitoring"
ALERTS = MONITORING / "alerts.yml"
DASHBOARD = MONITORING / "grafana" / "dip.json"

# every module defining Prometheus metrics, with how to build its collectors on a fresh registry
METRIC_MODULES = {
    "dip.observability.alerts": "SellerAlertMetrics",
    "dip.connectors.metrics": "ConnectorMetrics",
    "dip.observability.jobs": "JobMetrics",
    "dip.observability.lifecycle": "MaintenanceMetrics",
    "dip.observability.online": "OnlinePushMetrics",
    "dip.observability.streaming": "StreamMetrics",
    "dip.serving.metrics": "ServingMetrics",
}
SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
}

_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_OFFSET = re.compile(r"\boffset\s+-?\w+")
_IDENT = re.compile(r"(?<![\w.:])[a-zA-Z_:][\w:]*")
_KEYWORDS = {"and", "or", "unless", "bool", "by", "without", "on", "ignoring", "group_left", "group_right", "offset"}
_KEYWORDS |= {"inf", "nan", "atan2"}


def metric_names(expr: str) -> set[str]:
    """Metric names an expression selects: identifiers left after removing strings, label matchers,
    ranges, grouping clauses, offsets, function/aggregation calls and keywords."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _OFFSET.sub(" ", text)
    names = set()
    for match in _IDENT.finditer(text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("("):  # function or aggregation call
            continue
        if match.group().lower() in _KEYWORDS:
            continue
        names.add(match.group())
    return names


def grafana_to_promql(expr: str) -> str:
    """A dashboard expression with Grafana's interval variables replaced, so Prometheus can parse it."""
    for variable in ("$__rate_interval", "$__interval", "$__range"):
        expr = expr.replace(variable, "5m")
    return expr


def dashboard_exprs() -> list[tuple[str, str]]:
    """(panel title, expr) of every target of every panel, rows' nested panels included."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    panels = list(dashboard["panels"])
    for panel in dashboard["panels"]:
        panels.extend(panel.get("panels", []))
    return [(p["title"], t["expr"]) for p in panels for t in p.get("targets", [])]


def alert_rules() -> list[dict]:
    """Every rule of alerts.yml."""
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def exported_families() -> dict[str, str]:
    """Metric family name -> type, collected from the registries of every metric-defining class."""
    import importlib

    families: dict[str, str] = {}
    for module_name, class_name in METRIC_MODULES.items():
        registry = getattr(importlib.import_module(module_name), class_name)().registry
        for family in registry.collect():
            families[family.name] = family.type
    return families


def exported_sample_names() -> set[str]:
    """Names of the samples Prometheus stores for those families (``_total``, ``_bucket``...)."""
    return {name + suffix for name, kind in exported_families().items() for suffix in SAMPLE_SUFFIXES[kind]}


def airflow_gauge_names() -> set[str]:
    """The textfile gauges the DAG helper writes (``_alert_gauge("<name>", ...)`` in airflow/dags/dip_common.py)."""
    text = (ROOT / "airflow" / "dags" / "dip_common.py").read_text(encoding="utf-8")
    return set(re.findall(r'_alert_gauge\(\s*"(dip_airflow_[a-z_]+)"', text))
