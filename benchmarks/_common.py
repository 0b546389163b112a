"""Shared helpers for benchmarks: CLI, timing with warm-up and median, isolated config, seeded data, results.

Every benchmark measures its DIP side and its baseline in the same process, on the same seeded
data, interleaving the two sides run by run so machine load drifts hit both alike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


# --- CLI, timing, results ------------------------------------------------------------------------


def bench_parser(doc: str, *, rows: int | None, runs: int = 3) -> argparse.ArgumentParser:
    """The options benchmarks share: [--rows] --runs --warmup --seed --env --results-dir."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if rows is not None:
        parser.add_argument("--rows", type=int, default=rows, help=f"data size (default {rows:,})")
    parser.add_argument("--runs", type=int, default=runs, help="timed runs per side; the median is reported")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per side first")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--env", default=None, help="config environment (default $DIP_ENV or local)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    return parser


def median_seconds(fn: Callable[[], object], runs: int = 3, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall time of ``fn`` over ``runs`` after ``warmup`` untimed runs."""
    timing = interleaved({"fn": fn}, runs, warmup)["fn"]
    return timing.median_s, timing.runs_s


@dataclass
class Timing:
    """Wall times of one side's timed runs and what its last run returned."""

    runs_s: list[float] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(self.runs_s)

    @property
    def result(self) -> Any:
        return self.results[-1] if self.results else None


def interleaved(sides: dict[str, Callable[[], Any]], runs: int = 3, warmup: int = 1) -> dict[str, Timing]:
    """Run every side ``warmup`` times untimed, then ``runs`` rounds of one timed run per side, in turn."""
    for _ in range(warmup):
        for fn in sides.values():
            fn()
    timings = {name: Timing() for name in sides}
    for _ in range(max(runs, 1)):
        for name, fn in sides.items():
            started = time.perf_counter()
            timings[name].results.append(fn())
            timings[name].runs_s.append(time.perf_counter() - started)
    return timings


def summary(runs_s: list[float], rows: int) -> dict[str, Any]:
    """Median, every run and the median throughput of one side."""
    median = statistics.median(runs_s)
    return {"median_s": round(median, 3), "runs_s": [round(t, 3) for t in runs_s], "rows_per_s": rate(rows, median)}


def environment(spark: Any | None = None, config: Any | None = None) -> dict[str, Any]:
    """Machine and versions, recorded with every result."""
    info: dict[str, Any] = {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()}
    with contextlib.suppress(OSError):
        info["load_avg_1m"] = round(os.getloadavg()[0], 2)
    for name in ("delta-spark", "great-expectations", "confluent-kafka", "redis", "fastapi"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            info[name.replace("-", "_")] = metadata.version(name)
    if spark is not None:
        info["spark"] = spark.version
    if config is not None:
        info["feature_table_format"] = config.features.table_format
        if config.spark.hudi_enabled:
            info["hudi"] = next((p.split(":")[-1] for p in config.spark.runtime_packages if ":hudi-" in p), "bundle")
        info["redis_server"] = redis_server_version(config)
    return info


def redis_server_version(config: Any) -> str | None:
    from dip.online import make_client

    try:
        client = make_client(config.redis)
        try:
            return str(client.info("server").get("redis_version"))
        finally:
            client.close()
    except Exception:  # a version is informative only
        return None


def write_result(name: str, payload: dict[str, Any], results_dir: Path = RESULTS) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def side_line(label: str, side: dict[str, Any], extra: str = "") -> str:
    """``  <label>  <median>s  <rows/s> rows/s  <extra>`` for a :func:`summary` dict."""
    return f"  {label:28}{side['median_s']:8.2f}s  {side['rows_per_s']:>9,} rows/s  {extra}".rstrip()


def rate(rows: int, seconds: float) -> int:
    return round(rows / seconds) if seconds > 0 else 0


# --- isolated configuration ------------------------------------------------------------------------


class Scratch:
    """A temp folder plus a unique tag: lakes, topics, checkpoints and app ids nobody else uses."""

    def __init__(self, name: str) -> None:
        self.tag = f"{name}{uuid.uuid4().hex[:8]}"
        self.root = Path(tempfile.mkdtemp(prefix=f"dip-bench-{name}-"))
        self.last_config: Any = None

    def config(self, env: str | None, lake: str = "lake", **overrides: str) -> Any:
        """The ``env`` config with its own lake ``<root>/<lake>``, topics and app id (``DIP__*`` overrides)."""
        from dip.config import load_config

        environ = {
            **os.environ,
            "DIP__LAKE__ROOT": (self.root / lake).as_uri(),
            "DIP__CONNECTORS__STATE_DIR": str(self.root / "ingest-state"),
            "DIP__KAFKA__TOPICS__RAW_PREFIX": f"{self.tag}.raw.",
            "DIP__KAFKA__TOPICS__DLQ": f"{self.tag}.dlq",
            "DIP__KAFKA__TOPICS__PREDICTIONS": f"{self.tag}.predictions",
            "DIP__STREAMING__APP_ID": self.tag,
            "DIP__SPARK__REGISTER_TABLES": "false",
            **overrides,
        }
        self.last_config = load_config(env, environ=environ)
        return self.last_config

    def drop_topics(self) -> None:
        """Delete every Kafka topic named under the tag (best effort). Call it after the Spark session
        stopped: a cached Kafka consumer of a live session can auto-create a deleted topic again."""
        from dip.config import load_config
        from dip.io.kafka import make_admin

        try:
            admin = make_admin(self.last_config or load_config())
            names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(f"{self.tag}.")]
            for future in (admin.delete_topics(names, operation_timeout=30) if names else {}).values():
                future.result()
        except Exception as exc:  # best effort, report and go on
            print(f"warning: could not delete topics {self.tag}.*: {exc}")

    def cleanup(self) -> None:
        """Delete the folder and the Kafka topics made under the tag."""
        self.drop_topics()
        shutil.rmtree(self.root, ignore_errors=True)


# --- seeded data ------------------------------------------------------------------------------------

SNAPSHOT_START = datetime(2026, 11, 26, tzinfo=UTC)  # after the simulator's newest post


def run_spark_benchmark(
    name: str,
    measure: Callable[[Any, Scratch, Any], dict[str, Any]],
    report: Callable[[dict[str, Any]], str],
    *,
    env: str | None,
    results_dir: Path,
    config: Callable[[Scratch], Any] | None = None,
    cleanup: Callable[[Any], None] = lambda _config: None,
) -> int:
    """The shared ``main`` of the Spark benchmarks: one session on a scratch lake, ``measure``, result file.

    ``measure(spark, scratch, config)`` returns the result's figures; ``config`` builds the scratch config
    (default ``scratch.config(env)``); ``cleanup(config)`` runs after the session stops.
    """
    from dip.spark import build_session

    scratch = Scratch(name)
    bench_config = config(scratch) if config else scratch.config(env)
    spark = build_session(bench_config, app_name=f"dip-bench-{name}")
    try:
        result = {
            "benchmark": name,
            **measure(spark, scratch, bench_config),
            "environment": environment(spark, bench_config),
        }
    finally:
        spark.stop()
        cleanup(bench_config)
        scratch.cleanup()
    path = write_result(name, result, results_dir)
    print(report(result))
    print(f"wrote {path}")
    return 0


def snapshot_messages(config: Any, rows: int, seed: int) -> Iterator[Any]:
    """``rows`` raw-topic messages exactly as the connectors publish them (Record -> envelope -> message).

    The simulator's seeded world (3 Instagram + 3 TikTok sellers) is scaled so every post gets a
    metric snapshot per tick; ticks are one minute apart (far inside silver's lateness watermark)
    and metrics grow with the tick, so every message is a new snapshot, none a duplicate.
    Instagram media objects and TikTok video objects (list + query fields merged, as the
    connector merges them) alternate in post order.
    """
    from dip.connectors.base import Record
    from dip.connectors.instagram import MEDIA_FIELDS
    from dip.connectors.instagram import InstagramSource as Instagram
    from dip.connectors.kafka_messages import raw_message
    from dip.connectors.pipeline import raw_topic
    from dip.connectors.tiktok import LIST_FIELDS, METRIC_FIELDS
    from dip.connectors.tiktok import TikTokSource as TikTok
    from dip_local.simulator.data import build_dataset
    from dip_local.simulator.instagram import media_object
    from dip_local.simulator.tiktok import video_object

    posts_per_account = max(1, min(1000, rows // 60))
    dataset = build_dataset(seed, posts_per_account=posts_per_account)
    ig_fields = MEDIA_FIELDS.split(",")
    tt_fields = LIST_FIELDS.split(",") + METRIC_FIELDS.split(",")[1:]
    posts = [
        (source, entity, account, post)
        for source, entity, accounts in (
            ("instagram", "media", dataset.instagram),
            ("tiktok", "video", dataset.tiktok),
        )
        for account in accounts.values()
        for post in account.posts
    ]
    posts.sort(key=lambda p: (p[3].created, p[0]), reverse=True)
    versions = {("instagram", "media"): Instagram.entities["media"], ("tiktok", "video"): TikTok.entities["video"]}
    topics = {s: raw_topic(config, s) for s in ("instagram", "tiktok")}
    run_id = f"bench-{seed}"
    produced, tick = 0, 0
    while produced < rows:
        fetched_at = (SNAPSHOT_START + timedelta(minutes=tick)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for source, entity, account, post in posts:
            if produced == rows:
                break
            payload = (
                media_object(post, account, ig_fields, tick)
                if source == "instagram"
                else video_object(post, account, tt_fields, tick)
            )
            record = Record(
                source, entity, versions[(source, entity)], account.id, post.id, payload, f"req-{tick}", fetched_at
            )
            yield raw_message(record, run_id, topics[source])
            produced += 1
        tick += 1


def load_topics(config: Any, rows: int, seed: int, partitions: int, chunk: int = 20_000) -> dict[str, Any]:
    """Create the raw topics with ``partitions`` partitions and publish ``rows`` snapshots with the connectors'
    Kafka publisher (confluent-kafka, idempotent, acks=all); returns counts and the load time."""
    from dip.connectors.pipeline import raw_topic
    from dip.connectors.publisher import KafkaPublisher

    config.kafka.topics.partitions = partitions
    publisher = KafkaPublisher(config, delivery_timeout_s=300)
    publisher.ensure_topics(raw_topic(config, s) for s in ("instagram", "tiktok"))
    started = time.perf_counter()
    batch: list[Any] = []
    sizes = 0
    for message in snapshot_messages(config, rows, seed):
        batch.append(message)
        sizes += len(message.value)
        if len(batch) == chunk:
            publisher.publish(batch)
            batch = []
    publisher.publish(batch)
    publisher.close()
    return {
        "messages": rows,
        "partitions_per_topic": partitions,
        "topics": [raw_topic(config, s) for s in ("instagram", "tiktok")],
        "mean_message_bytes": round(sizes / rows) if rows else 0,
        "load_s": round(time.perf_counter() - started, 2),
    }


FEATURE_DAY = date(2026, 11, 25)


def synthetic_features(spark: Any, rows: int, vector_size: int, partitions: int) -> Any:
    """``rows`` posts' daily features with the post_features_daily schema, deterministic values."""
    from pyspark.sql import functions as F

    from dip.features.windows import ts_lit

    start = datetime(FEATURE_DAY.year, FEATURE_DAY.month, FEATURE_DAY.day, tzinfo=UTC)
    h = F.abs(F.hash(F.col("id")))
    vec = F.transform(
        F.sequence(F.lit(0), F.lit(vector_size - 1)),
        lambda i: F.when(F.abs(F.hash(F.col("id"), i)) % 8 == 0, F.lit(1.0)).otherwise(F.lit(0.0)).cast("float"),
    )
    return spark.range(rows, numPartitions=partitions).select(
        F.lit("instagram").alias("source"),
        F.concat(F.lit("bp"), F.col("id").cast("string")).alias("post_id"),
        F.concat(F.lit("ba"), (F.col("id") % 1000).cast("string")).alias("account_id"),
        F.lit(FEATURE_DAY.isoformat()).alias("date"),
        ts_lit(start).alias("window_start"),
        ts_lit(start + timedelta(days=1)).alias("window_end"),
        (h % 5 + 1).cast("int").alias("snapshot_count"),
        *[(F.shiftright(h, k) % 1000).cast("bigint").alias(f"{m}_delta") for k, m in enumerate(
            ("views", "likes", "comments", "shares", "saves"))],
        ((h % 997) / 9970.0).alias("engagement_ratio_last"),
        ((h % 991) / 9910.0).alias("engagement_ratio_mean"),
        ((h % 983) / 9830.0).alias("engagement_ratio_max"),
        ((h % 100003) / 7.0).alias("growth_velocity"),
        ((h % 1000) / 3.0).alias("hours_since_publish"),
        (h % 6).cast("int").alias("hashtag_count"),
        (h % 2 == 0).alias("is_arabic"),
        (h % 3 == 0).alias("is_latin"),
        vec.alias("caption_vec"),
        F.lit(1).alias("feature_set_version"),
        ts_lit(start + timedelta(days=1)).alias("computed_at"),
    )  # fmt: skip


def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default); the value itself for one sample."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * pct / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 3)
