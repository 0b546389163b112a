"""Silver does not depend on how bronze is cut into micro-batches, and a replayed batch changes nothing.

One bronze table, written in four rounds (so it has several files), is processed into silver two
ways: as one batch, and as one batch per bronze file (``maxFilesPerTrigger=1``) with every batch
processed twice (the second time as a replay after a crash between the writes and the checkpoint,
with fresh settings as after a restart). Every silver table, the quarantine, the silver DLQ rows and
the ledger must be identical.
The input has every outcome: silver rows across batches (media and its insights in different rounds,
combined into one post_metrics row), duplicates, a quarantined row, an unknown schema version, an
unparseable payload and a record dated in 2031 (issue 16: it is dead-lettered and does not make the
normal records after it late).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from dip.config import Config
from dip.silver.stream_job import run_stream_silver, silver_settings
from dip.streaming.bronze_job import run_stream_bronze
from dip.tables import BRONZE_EVENTS, DLQ, SILVER_LEDGER, SILVER_QUARANTINE, SILVER_TABLES
from tests.integration.helpers import envelope, isolated_config, produce

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _media(media_id: str, likes: int, comments: int, caption: str = "عباية #abaya") -> dict:
    return {"id": media_id, "caption": caption, "media_type": "IMAGE", "permalink": f"https://ig/p/{media_id}",
            "timestamp": "2026-11-20T10:00:00+0000", "like_count": likes, "comments_count": comments}  # fmt: skip


def _insights(views: int) -> dict:
    metric = {"period": "lifetime", "title": "t", "description": "d", "id": "x"}
    return {"data": [{**metric, "name": "views", "values": [{"value": views}]},
                     {**metric, "name": "reach", "values": [{"value": views // 2}]}]}  # fmt: skip


def _rounds(config: Config) -> list[list[tuple[bytes, bytes]]]:
    def ig(entity: str, entity_id: str, payload: dict, at: str, run: str = "r1", **kw: object) -> tuple:
        return (entity_id.encode(), envelope("instagram", entity, entity_id, payload, fetched_at=at, run_id=run, **kw))

    account = {"id": "acc1", "username": "noor", "followers_count": 100, "media_count": 3}
    return [
        [
            ig("media", "m1", _media("m1", 10, 1), "2026-11-26T10:00:00Z"),
            ig("media", "m2", _media("m2", 5, 0), "2026-11-26T10:00:01Z"),
            ig("account", "acc1", account, "2026-11-26T10:00:02Z"),
        ],
        [
            ig("media_insights", "m1", _insights(400), "2026-11-26T10:01:00Z"),  # same run as m1's media
            ig("media", "m1", _media("m1", 10, 1), "2026-11-26T10:00:00Z"),  # re-sent: duplicate
            ig("media", "m3", _media("m3", 1, -4), "2026-11-26T10:01:01Z"),  # negative comments: quarantine
            ig("media", "m4", _media("m4", 1, 1), "2026-11-26T10:01:02Z", schema_version=99),  # unknown version
        ],
        [
            ig("media", "m5", {"id": "m5", "like_count": "many"}, "2026-11-26T10:02:00Z"),  # unparseable payload
            ig("media", "m6", _media("m6", 2, 2), "2031-01-01T00:00:00Z"),  # dated in the future
        ],
        [
            ig("media", "m1", _media("m1", 12, 1), "2026-11-26T11:00:00Z", run="r2"),  # next run: new snapshot
            ig("media", "m2", _media("m2", 6, 0, "edited"), "2026-11-26T11:00:01Z", run="r2"),
            ig("account", "acc1", {**account, "followers_count": 101}, "2026-11-26T11:00:02Z", run="r2"),
        ],
    ]


@pytest.fixture(scope="module")
def bronze(stack: Config, tmp_path_factory: pytest.TempPathFactory, spark: SparkSession) -> tuple[Config, Path]:
    """Bronze written in four stream_bronze runs: at least one file per round and source."""
    config = isolated_config(stack, tmp_path_factory.mktemp("bronze"))
    topic = f"{config.kafka.topics.raw_prefix}instagram"
    for messages in _rounds(config):
        produce(config, topic, messages)
        assert run_stream_bronze(spark, config).total("bronze") == len(messages)
    return config, Path(BRONZE_EVENTS.path(config).removeprefix("file://"))


def _lake_with(bronze_dir: Path, base: Config, tmp_path: Path, name: str) -> Config:
    config = isolated_config(base, tmp_path / name)
    target = Path(BRONZE_EVENTS.path(config).removeprefix("file://"))
    shutil.copytree(bronze_dir, target)
    return config


def _tables(spark: SparkSession, config: Config) -> dict[str, DataFrame]:
    """Everything silver writes, without the columns that name when or in which batch it was written."""
    read = spark.read.format("delta").load
    out = {name: read(t.path(config)) for name, t in SILVER_TABLES.items() if Path(
        t.path(config).removeprefix("file://")).exists()}  # fmt: skip
    out["quarantine"] = read(SILVER_QUARANTINE.path(config)).drop("batch_id", "quarantined_at")
    dlq = read(DLQ.path(config)).where("stage = 'silver'").drop("failed_at")
    now_in_message = F.col("error_type") == "future_event_time"  # names the clock at processing time
    out["dlq"] = dlq.withColumn("error_message", F.when(now_in_message, "-").otherwise(F.col("error_message")))
    out["ledger"] = read(SILVER_LEDGER.path(config)).drop("batch_id", "writer", "processed_at")
    return out


def test_one_batch_many_batches_and_replays_give_identical_silver(
    spark: SparkSession, bronze: tuple[Config, Path], tmp_path: Path
) -> None:
    base, bronze_dir = bronze
    files = len(list(bronze_dir.rglob("*.parquet")))
    assert files >= 4

    one = _lake_with(bronze_dir, base, tmp_path, "one")
    run = run_stream_silver(spark, one)
    assert len(run.batches) == 1
    assert {k: run.total(k) for k in ("bronze", "silver", "duplicate", "quarantine", "dlq")} == {
        "bronze": 12, "silver": 7, "duplicate": 1, "quarantine": 1, "dlq": 3,
    }  # fmt: skip

    # one batch per bronze file, every batch twice: the second call is a replay (fresh settings)
    replayed = _lake_with(bronze_dir, base, tmp_path, "replayed")
    replayed.streaming.max_files_per_trigger = 1
    from dip.silver.process import process_silver_batch

    batches: list[int] = []

    def twice(df: DataFrame, batch_id: int) -> None:
        batches.append(batch_id)
        df = df.persist()
        first = process_silver_batch(df, batch_id, replayed, silver_settings(replayed))
        again = process_silver_batch(df, batch_id, replayed, silver_settings(replayed))
        df.unpersist()
        assert {k: v for k, v in again.items() if not k.endswith(("_inserted", "_updated"))} == {
            k: v for k, v in first.items() if not k.endswith(("_inserted", "_updated"))
        }

    from dip.silver.stream_job import read_bronze_stream
    from dip.tables import checkpoint_path

    query = (
        read_bronze_stream(spark, replayed)
        .writeStream.option("checkpointLocation", checkpoint_path(replayed, "replayed"))
        .foreachBatch(twice)
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    assert len(batches) == files

    expected = _tables(spark, one)
    assert sorted(expected) == sorted([*SILVER_TABLES.keys() - {"audience", "predictions"}, "quarantine", "dlq",
                                       "ledger"])  # fmt: skip
    got = _tables(spark, replayed)
    assert sorted(got) == sorted(expected)
    for table, frame in expected.items():
        assertDataFrameEqual(got[table], frame, checkRowOrder=False)

    # the exact outcomes (same in all three lakes, checked above)
    dlq = {(r["entity_id"], r["error_type"]) for r in expected["dlq"].collect()}
    assert dlq == {("m4", "unknown_schema_version"), ("m5", "payload_parse_error"), ("m6", "future_event_time")}
    future = spark.read.format("delta").load(DLQ.path(one)).where("error_type = 'future_event_time'").first()
    assert future["error_message"].startswith("event time 2031-01-01 00:00:00 is after now + max clock skew 2026-")
    metrics = expected["post_metrics"].where("post_id = 'm1'").select("run_id", "views", "likes", "reach")
    assertDataFrameEqual(
        metrics,
        spark.createDataFrame([("r1", 400, 10, 200), ("r2", None, 12, None)],
                              "run_id STRING, views BIGINT, likes BIGINT, reach BIGINT"),
    )  # fmt: skip
    ledger = expected["ledger"].groupBy("outcome").agg(F.count(F.lit(1)).alias("n"))
    assert dict(ledger.collect()) == {"silver": 7, "duplicate": 1, "quarantine": 1, "dlq": 3}
    # the 2031 record did not move the cutoff: the next run's records (after it in bronze) are silver
    after = expected["ledger"].where("fetched_at >= '2026-11-26 11:00:00' AND fetched_at < '2027-01-01'")
    assert sorted(r["outcome"] for r in after.collect()) == ["silver", "silver", "silver"]


def _suites_with_a_failing_table_check(tmp_path: Path) -> Path:
    """The project's suites, posts with one more table-level expectation that this bronze breaks (3 posts)."""
    import json

    target = tmp_path / "expectations"
    shutil.copytree(Path(__file__).resolve().parents[2] / "expectations", target)
    posts = json.loads((target / "posts.json").read_text())
    posts["expectations"].append({"type": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 2}})
    (target / "posts.json").write_text(json.dumps(posts))
    return target


def test_table_level_policies_drop_and_fail_then_a_rebuild_restores_the_table(
    spark: SparkSession, bronze: tuple[Config, Path], tmp_path: Path
) -> None:
    import datetime as dt

    from dip.silver.stream_job import rebuild_silver

    base, bronze_dir = bronze
    suites = _suites_with_a_failing_table_check(tmp_path)
    check = "expect_table_row_count_to_be_between"

    failing = _lake_with(bronze_dir, base, tmp_path, "fail")
    failing.quality.expectations_dir, failing.quality.policies = str(suites), {"posts": "fail"}
    with pytest.raises(Exception, match=f"posts: table-level expectations failed in batch 0: {check}"):
        run_stream_silver(spark, failing)
    assert not Path(SILVER_LEDGER.path(failing).removeprefix("file://")).exists()  # the batch wrote nothing

    dropping = _lake_with(bronze_dir, base, tmp_path, "drop")
    dropping.quality.expectations_dir, dropping.quality.policies = str(suites), {"posts": "drop"}
    run_stream_silver(spark, dropping)
    read = spark.read.format("delta").load
    assert not Path(SILVER_TABLES["posts"].path(dropping).removeprefix("file://")).exists()
    quarantined = read(SILVER_QUARANTINE.path(dropping)).where("table_name = 'posts'")
    assert sorted(r["entity_id"] for r in quarantined.collect()) == ["m1", "m1", "m2", "m2", "m3"]
    assert all(check in r["failed_expectations"] for r in quarantined.collect())
    assert read(SILVER_TABLES["post_metrics"].path(dropping)).count() == 4  # the other tables are written

    # the check fixed (policy warn), a rebuild of the day writes posts and appends its quarantine rows again;
    # the 2031 record stays out (a rebuild let future-dated rows into silver before issue 16's fix)
    dropping.quality.policies = {"posts": "warn"}
    day = read(BRONZE_EVENTS.path(dropping)).first()["ingest_date"]
    before = read(SILVER_QUARANTINE.path(dropping)).count()
    rebuild_silver(spark, dropping, day, day + dt.timedelta(days=0))
    assert sorted(r["post_id"] for r in read(SILVER_TABLES["posts"].path(dropping)).collect()) == ["m1", "m2", "m3"]
    assert read(SILVER_QUARANTINE.path(dropping)).count() > before  # the rebuild's appends are not skipped
