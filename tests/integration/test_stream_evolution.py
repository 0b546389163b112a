"""Schema evolution, late data, DLQ replay after a fix, and reconcile, through the real streams."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from dip.config import Config
from dip.reconcile import TABLE_HAS_DELIVERED, TABLE_IS_EXPLAINED, reconcile
from dip.silver.stream_job import run_stream_silver
from dip.streaming.bronze_job import run_stream_bronze
from dip.streaming.dlq_replay import replay
from dip.tables import DLQ, SILVER_POSTS, SILVER_QUARANTINE
from tests.integration.helpers import envelope, isolated_config, produce

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def _media(media_id: str, **extra: object) -> dict:
    return {
        "id": media_id,
        "caption": f"post {media_id} #abaya",
        "media_type": "IMAGE",
        "permalink": f"https://www.instagram.com/p/{media_id}/",
        "timestamp": "2026-11-20T10:00:00+0000",
        "like_count": 3,
        "comments_count": 1,
        **extra,
    }


@pytest.fixture()
def config(stack: Config, tmp_path: Path) -> Config:
    config = isolated_config(stack, tmp_path)
    schemas = tmp_path / "schemas"
    shutil.copytree(ROOT / "conf" / "schemas", schemas)
    config.connectors.schemas_dir = str(schemas)
    config.streaming.watermark_delay_hours = 24
    return config


def _add_media_v2(config: Config) -> None:
    """v2 of instagram/media: v1 plus an optional ``alt_text`` (backward compatible)."""
    folder = Path(config.connectors.schemas_dir) / "instagram" / "media"
    schema = json.loads((folder / "v1.json").read_text())
    schema["properties"]["alt_text"] = {"type": "string"}
    (folder / "v2.json").write_text(json.dumps(schema))


def _sql(value: object) -> str:
    return "NULL" if value is None else f"'{value}'" if isinstance(value, str) else str(value)


def test_evolution_late_data_replay_and_reconcile(
    spark: SparkSession, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = f"{config.kafka.topics.raw_prefix}instagram"
    produce(config, topic, [
        (b"a", envelope("instagram", "media", "2001", _media("2001"), fetched_at="2026-11-26T10:00:00Z")),
        # v2 before the registry knows it: dead-lettered as an unknown version
        (b"b", envelope("instagram", "media", "2002", _media("2002", alt_text="black abaya"),
                        fetched_at="2026-11-26T10:00:00Z", schema_version=2)),
        # payload without an id: parsed, but fails not-null(post_id) -> quarantine with that reason
        (b"c", envelope("instagram", "media", "2003", {"caption": "no id", "media_type": "IMAGE",
                                                        "timestamp": "2026-11-20T10:00:00+0000"},
                        fetched_at="2026-11-26T10:00:00Z")),
    ])  # fmt: skip
    run_stream_bronze(spark, config)
    first = run_stream_silver(spark, config)
    assert {k: first.total(k) for k in ("silver", "dlq", "quarantine")} == {"silver": 1, "dlq": 1, "quarantine": 1}
    dead = spark.read.format("delta").load(DLQ.path(config)).where("stage = 'silver'").collect()
    assert [(r["error_type"], r["entity_id"]) for r in dead] == [("unknown_schema_version", "2002")]
    quarantine = spark.read.format("delta").load(SILVER_QUARANTINE.path(config))
    reasons = sorted((r["table_name"], tuple(r["failed_expectations"])) for r in quarantine.collect())
    assert reasons == [  # nulls pass every check but not-null, as in Great Expectations
        ("post_captions", ("expect_column_values_to_not_be_null(post_id)",)),
        ("post_metrics", ("expect_column_values_to_not_be_null(post_id)",)),
        ("posts", ("expect_column_values_to_not_be_null(post_id)",)),
    ]

    # The fix: register v2, replay the dead letter; it flows through without restarting from scratch.
    _add_media_v2(config)
    assert replay(spark, config, stage="silver") == 1
    # A late snapshot (older than the newest event time minus 24 h) goes to the DLQ as late.
    produce(
        config,
        topic,
        [(b"d", envelope("instagram", "media", "2004", _media("2004"), fetched_at="2026-11-24T09:00:00Z"))],
    )
    run_stream_bronze(spark, config)
    second = run_stream_silver(spark, config)
    assert {k: second.total(k) for k in ("silver", "dlq")} == {"silver": 1, "dlq": 1}
    late = spark.read.format("delta").load(DLQ.path(config)).where("error_type = 'late'").collect()
    assert [r["entity_id"] for r in late] == ["2004"]
    assert late[0]["error_message"] == ("event time 2026-11-24 09:00:00 is before the watermark 2026-11-25 10:00:00")

    posts = spark.read.format("delta").load(SILVER_POSTS.path(config)).select("post_id", "caption")
    assertDataFrameEqual(
        posts,
        spark.createDataFrame(
            [("2001", "post 2001 #abaya"), ("2002", "post 2002 #abaya")], "post_id STRING, caption STRING"
        ),
    )  # the quarantined row never reaches silver

    balances = reconcile(spark, config)
    assert all(b.balanced for b in balances), [b for b in balances if not b.balanced]
    by_scope = {(b.check.split(" =")[0], b.scope): (b.expected, b.parts) for b in balances}
    assert by_scope[("kafka", topic)] == (5, {"bronze": 5, "dlq": 0})
    assert by_scope[("bronze", "instagram/media")] == (5, {"silver": 2, "quarantine": 1, "dlq": 2, "duplicate": 0})
    media_tables = ("post_captions", "post_metrics", "posts")
    assert {(c, s): v for (c, s), v in by_scope.items() if c in (TABLE_HAS_DELIVERED, TABLE_IS_EXPLAINED)} == {
        **{(TABLE_HAS_DELIVERED, t): (2, {"in table": 2}) for t in media_tables},
        **{(TABLE_IS_EXPLAINED, t): (2, {"from accepted rows": 2}) for t in media_tables},
    }  # counted in the silver tables themselves: posts 2001 and 2002; the quarantined 2003 and late 2004 are not there

    # A message produced after bronze's last batch is pending, not missing.
    produce(
        config,
        topic,
        [(b"e", envelope("instagram", "media", "2005", _media("2005"), fetched_at="2026-11-26T11:00:00Z"))],
    )
    later = {b.scope: b for b in reconcile(spark, config) if b.check.startswith("kafka")}
    assert (later[topic].expected, later[topic].actual, later[topic].pending, later[topic].balanced) == (5, 5, 1, True)

    # Tampering in every direction is caught, each by exactly the balance it breaks, and the CLI exits 1.
    from delta.tables import DeltaTable
    from typer.testing import CliRunner

    from dip.cli import app
    from dip.commands import streaming as streaming_commands
    from dip.tables import BRONZE_EVENTS, SILVER_LEDGER

    def broken() -> list[tuple[str, str]]:
        return [(b.check, b.scope) for b in reconcile(spark, config) if not b.balanced]

    entity_balance = ("bronze = silver + quarantine + dlq + duplicates", "instagram/media")
    unexplained = [(TABLE_IS_EXPLAINED, t) for t in media_tables]  # a post's keys in all three tables
    cases = [
        (BRONZE_EVENTS, "entity_id = '2001'", [("kafka = bronze + dlq", topic), entity_balance, *unexplained]),
        (SILVER_LEDGER, "outcome = 'silver'", [entity_balance, *unexplained]),
        (SILVER_QUARANTINE, "true", [("ledger quarantine = quarantined bronze rows", "all")]),
        (DLQ, "stage = 'silver'", [("ledger dlq = silver DLQ rows", "all")]),
        (SILVER_POSTS, "post_id = '2001'", [(TABLE_HAS_DELIVERED, "posts")]),  # a delivered row lost from silver
    ]
    for table, where, expected in cases:
        delta = DeltaTable.forPath(spark, table.path(config))
        version = delta.history(1).first()["version"]
        first = spark.read.format("delta").load(table.path(config)).where(where).limit(1).collect()[0]
        delta.delete(" AND ".join(f"`{c}` <=> {_sql(first[c])}" for c in ("topic", "partition", "offset", "post_id")
                                  if c in first.asDict()))  # fmt: skip
        assert broken() == expected, table.name
        delta.restoreToVersion(version)
    posts = DeltaTable.forPath(spark, SILVER_POSTS.path(config))
    version = posts.history(1).first()["version"]
    spark.read.format("delta").load(SILVER_POSTS.path(config)).where("post_id = '2001'").withColumn(
        "post_id", F.lit("9999")
    ).write.format("delta").mode("append").save(SILVER_POSTS.path(config))  # a silver row no bronze row explains
    assert broken() == [(TABLE_IS_EXPLAINED, "posts")]
    posts.restoreToVersion(version)
    assert broken() == []

    spark.read.format("delta").load(BRONZE_EVENTS.path(config)).limit(1).write.format("delta").mode("append").save(
        BRONZE_EVENTS.path(config)
    )  # a bronze row the ledger never saw
    balances = reconcile(spark, config)
    assert [b.scope for b in balances if not b.balanced] == [topic, "instagram/media"]
    monkeypatch.setattr(streaming_commands, "config_or_exit", lambda env: config)
    monkeypatch.setattr(streaming_commands, "session", lambda config, name: spark)
    result = CliRunner().invoke(app, ["reconcile"], env={"COLUMNS": "200"})
    summary = f"reconcile: {len(balances) - 2} balanced, 2 unbalanced (1 Kafka messages after bronze's last batch"
    assert result.exit_code == 1 and result.output.splitlines()[-1].startswith(summary), result.output
