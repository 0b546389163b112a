"""Run lineage: every job run appends one row to the Delta table ``<lake>/_runs``.

A row holds the run id, job, logical date, code version (wheel version and git sha), status,
start/end, what the run read (Delta versions of its inputs, streaming source offsets from the
checkpoint: Kafka offsets or the bronze version) and, per written table, the versions it
produced. ``dip lineage <table>`` walks these rows back from a table's latest version.

In a job::

    lineage.add_arguments(parser)
    ...
    with lineage.recorded_run(spark, config, "stream_bronze", args, writes=[BRONZE_EVENTS, DLQ],
                              streams={"stream_bronze": None}) as run:
        summary = run_stream_bronze(...)
        run.counts = {"bronze": summary.total("bronze")}
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dip.config import Config
from dip.io.table_access import read_delta_if_exists, table_format, table_version
from dip.tables import ALL_TABLES, Table

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

RUNS_PATH = "_runs"
SUCCESS, FAILED = "success", "failed"

# The runs table's columns (name, type, nullable), one description for both writers: Spark (:func:`runs_schema`)
# and delta-rs (jobs without a session), so an ingest host needs no pyspark to record its run.
READ_FIELDS = (("kind", "string"), ("name", "string"), ("path", "string"), ("version", "long"), ("detail", "string"))
# kind: delta | hudi | kafka | delta_stream; detail: JSON (Kafka offsets per partition, stream offset)
WRITE_FIELDS = (("name", "string"), ("path", "string"), ("version_before", "long"), ("version_after", "long"))
RUNS_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("run_id", "string", False),
    ("job", "string", False),
    ("env", "string", True),
    ("logical_date", "string", True),
    ("parent_run", "string", True),  # the orchestrator's id, e.g. Airflow dag/run/task/try
    ("status", "string", False),
    ("error", "string", True),
    ("started_at", "timestamp", True),
    ("ended_at", "timestamp", True),
    ("dip_version", "string", True),
    ("git_sha", "string", True),
    ("params", "map<string,string>", True),
    ("reads", "array<read>", True),
    ("writes", "array<write>", True),
    ("counts", "map<string,long>", True),
)


def _column_type(kind: str, scalar: Mapping[str, Any], struct: Callable, array: Callable, mapping: Callable) -> Any:
    """One column type of :data:`RUNS_COLUMNS` built with a library's constructors (Spark's or Arrow's)."""
    if kind.startswith("array<"):
        fields = READ_FIELDS if kind == "array<read>" else WRITE_FIELDS
        return array(struct([(name, scalar[t]) for name, t in fields]))
    if kind.startswith("map<"):
        return mapping(scalar["string"], scalar[kind.removeprefix("map<string,").rstrip(">")])
    return scalar[kind]


@cache
def runs_schema() -> Any:
    """The runs table's Spark schema."""
    from pyspark.sql import types as T

    scalar = {"string": T.StringType(), "long": T.LongType(), "timestamp": T.TimestampType()}

    def struct(fields: list) -> T.StructType:
        return T.StructType([T.StructField(name, kind) for name, kind in fields])

    return T.StructType(
        [
            T.StructField(name, _column_type(kind, scalar, struct, T.ArrayType, T.MapType), nullable)
            for name, kind, nullable in RUNS_COLUMNS
        ]
    )


def _arrow_runs_schema() -> Any:
    """The runs table's schema as Arrow, the way Spark writes it (timestamps in UTC, maps, arrays of structs)."""
    import pyarrow as pa

    scalar = {"string": pa.string(), "long": pa.int64(), "timestamp": pa.timestamp("us", tz="UTC")}

    def struct(fields: list) -> pa.DataType:
        return pa.struct([pa.field(name, kind) for name, kind in fields])

    return pa.schema(
        [
            pa.field(name, _column_type(kind, scalar, struct, pa.list_, pa.map_), nullable)
            for name, kind, nullable in RUNS_COLUMNS
        ]
    )


@dataclass
class RunRecord:
    """One job run as it is being recorded; the job may fill ``counts`` and ``params``."""

    run_id: str
    job: str
    env: str
    logical_date: str | None
    parent_run: str | None
    started_at: datetime
    params: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    reads: list[dict[str, Any]] = field(default_factory=list)
    writes: list[dict[str, Any]] = field(default_factory=list)
    status: str = SUCCESS
    error: str | None = None
    ended_at: datetime | None = None


def runs_path(config: Config) -> str:
    """URI of the runs table."""
    from dip.tables import lake_path

    return lake_path(config, RUNS_PATH)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--run-id`` (the orchestrator's run reference) and ``--logical-date`` for a job's parser."""
    parser.add_argument("--run-id", dest="parent_run", default=None, help="orchestrator run reference (lineage)")
    parser.add_argument("--logical-date", default=None, help="logical date of the run (lineage), ISO-8601")


def code_version() -> tuple[str, str | None]:
    """The installed ``dip`` version and, when running from a git checkout, the commit sha."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        dip_version = version("dip")
    except PackageNotFoundError:
        from dip import __version__ as dip_version
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return dip_version, None
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = None
    return dip_version, sha or None


def delta_version(spark: SparkSession, path: str) -> int | None:
    """Latest committed version of the Delta table at ``path``; None when it does not exist yet."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return int(DeltaTable.forPath(spark, path).history(1).first()["version"])


def _read_text(spark: SparkSession, uri: str) -> str:
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    stream = fs.open(path)
    try:
        return str(jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))
    finally:
        stream.close()


def checkpoint_offsets(spark: SparkSession, checkpoint: str) -> list[Any] | None:
    """Source end offsets of the newest committed batch of a streaming checkpoint (``offsets/<n>`` with a
    ``commits/<n>``), parsed JSON; a batch planned but not committed has not been consumed."""
    jvm = spark.sparkContext._jvm
    fs = jvm.org.apache.hadoop.fs.Path(checkpoint).getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())

    def batch_ids(name: str) -> set[int]:
        folder = jvm.org.apache.hadoop.fs.Path(f"{checkpoint.rstrip('/')}/{name}")
        if not fs.exists(folder):
            return set()
        return {int(s.getPath().getName()) for s in fs.listStatus(folder) if s.getPath().getName().isdigit()}

    batches = batch_ids("offsets") & batch_ids("commits")
    if not batches:
        return None
    lines = _read_text(spark, f"{checkpoint.rstrip('/')}/offsets/{max(batches)}").splitlines()
    # line 1: format version, line 2: batch metadata, then one line per source
    return [json.loads(line) for line in lines[2:] if line.strip() and line.strip() != "-"]


def _consumed_version(offset: dict[str, Any]) -> int:
    """The last Delta version a stream consumed: an offset with index -1 points at the next version."""
    version = int(offset["reservoirVersion"])
    return version - 1 if int(offset.get("index", -1)) == -1 and not offset.get("isStartingVersion") else version


def stream_reads(spark: SparkSession, config: Config, query: str, source: Table | None) -> list[dict[str, Any]]:
    """What streaming ``query`` has consumed so far: Kafka offsets per topic, or the version of Delta ``source``."""
    from dip.tables import checkpoint_path

    reads: list[dict[str, Any]] = []
    for offset in checkpoint_offsets(spark, checkpoint_path(config, query)) or []:
        if isinstance(offset, dict) and "reservoirVersion" in offset:
            reads.append(
                {
                    "kind": "delta_stream",
                    "name": source.name if source else query,
                    "path": source.path(config) if source else None,
                    "version": _consumed_version(offset),
                    "detail": json.dumps({"query": query, **offset}, sort_keys=True),
                }
            )
        elif isinstance(offset, dict):
            for topic, partitions in sorted(offset.items()):
                reads.append(
                    {
                        "kind": "kafka",
                        "name": topic,
                        "path": None,
                        "version": None,
                        "detail": json.dumps(partitions, sort_keys=True),
                    }
                )
    return reads


def _values(record: RunRecord, dip_version: str, git_sha: str | None) -> dict[str, Any]:
    """The record as the runs table's column values (UTC timestamps, string params, integer counts)."""
    values = {name: getattr(record, name, None) for name, _, _ in RUNS_COLUMNS}
    values.update(
        started_at=record.started_at,
        ended_at=record.ended_at or record.started_at,
        dip_version=dip_version,
        git_sha=git_sha,
        params={k: str(v) for k, v in record.params.items()},
        counts={k: int(v) for k, v in record.counts.items()},
    )
    return values


def append_run(spark: SparkSession | None, config: Config, record: RunRecord) -> None:
    """Append one run row to ``<lake>/_runs`` (blind Delta append: concurrent jobs do not conflict).

    Jobs without a Spark session (``dip ingest``) append the same row with delta-rs (no JVM, no pyspark).
    """
    dip_version, git_sha = code_version()
    values = _values(record, dip_version, git_sha)
    if spark is None:
        _append_without_jvm(config, values)
        return
    from pyspark.sql import Row

    values.update(
        started_at=values["started_at"].replace(tzinfo=None),  # Spark takes naive timestamps as session-local: UTC
        ended_at=values["ended_at"].replace(tzinfo=None),
        reads=[Row(**r) for r in values["reads"]],
        writes=[Row(**w) for w in values["writes"]],
    )
    frame = spark.createDataFrame([Row(**values)], runs_schema())
    frame.write.format("delta").mode("append").save(runs_path(config))


def _append_without_jvm(config: Config, values: dict[str, Any]) -> None:
    """The run row appended by delta-rs in the schema Spark writes."""
    import pyarrow as pa
    from deltalake import write_deltalake

    row = {**values, "params": list(values["params"].items()), "counts": list(values["counts"].items())}
    write_deltalake(runs_path(config), pa.Table.from_pylist([row], schema=_arrow_runs_schema()), mode="append")


@contextmanager
def recorded_run(
    spark: SparkSession | None,
    config: Config,
    job: str,
    args: argparse.Namespace | None = None,
    *,
    reads: Sequence[Table] = (),
    writes: Sequence[Table] = (),
    streams: Mapping[str, Table | None] | None = None,
    parent_run: str | None = None,
    logical_date: str | None = None,
    echo: Callable[[str], object] = print,
) -> Iterator[RunRecord]:
    """Record the run of ``job`` around the ``with`` body: input versions before, outputs and status after.

    A failure of the body is recorded as ``failed`` and re-raised; a failure to record is reported
    on stderr and never changes the job's outcome. ``streams`` maps a streaming query to its Delta
    source table (None for Kafka): what it consumed is read from its checkpoint after the body.
    The orchestrator's reference and logical date come from ``args`` (``add_arguments``) or the keywords.
    ``spark`` may be None for a job without a session: no table versions, the row appended with delta-rs.
    """
    record = RunRecord(
        run_id=uuid.uuid4().hex,
        job=job,
        env=config.env,
        logical_date=logical_date or getattr(args, "logical_date", None),
        parent_run=parent_run or getattr(args, "parent_run", None),
        started_at=datetime.now(UTC),
    )
    before = {t.name: _safe_version(spark, config, t) for t in writes}
    record.reads = [
        {
            "kind": table_format(config, t),
            "name": t.name,
            "path": t.path(config),
            "version": _safe_version(spark, config, t),
            "detail": None,
        }
        for t in reads
    ]
    try:
        yield record
    except BaseException as exc:
        record.status, record.error = FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        raise
    finally:
        record.ended_at = datetime.now(UTC)
        _finish(spark, config, record, writes, before, streams or {}, echo)


def _safe_version(spark: SparkSession | None, config: Config, table: Table) -> int | None:
    """Delta version or Hudi instant of ``table``; None (with a note on stderr) when it cannot be read."""
    if spark is None:
        return None
    try:
        return table_version(spark, config, table)
    except Exception as exc:  # lineage must not break the job
        print(f"lineage: cannot read the version of {table.path(config)}: {exc}", file=sys.stderr)
        return None


def _finish(
    spark: SparkSession | None,
    config: Config,
    record: RunRecord,
    writes: Sequence[Table],
    before: dict[str, int | None],
    streams: Mapping[str, Table | None],
    echo: Callable[[str], object],
) -> None:
    try:
        for query, source in streams.items() if spark is not None else ():
            record.reads.extend(stream_reads(spark, config, query, source))
        record.writes = [
            {
                "name": t.name,
                "path": t.path(config),
                "version_before": before[t.name],
                "version_after": _safe_version(spark, config, t),
            }
            for t in writes
        ]
        append_run(spark, config, record)
        echo(f"lineage: run {record.run_id} ({record.job}, {record.status}) recorded in {runs_path(config)}")
    except Exception as exc:  # lineage must not change the job's outcome
        print(f"lineage: could not record run {record.run_id}: {exc}", file=sys.stderr)


def find_table(name: str) -> Table:
    """A lake table by catalog name (``silver_posts``, ``dip.silver_posts``) or lake path (``silver/posts``)."""
    wanted = name.removeprefix("dip.").strip("/")
    for table in ALL_TABLES:
        if wanted in (table.name, table.relative_path) or f"silver_{wanted}" == table.name:
            return table
    known = ", ".join(t.name for t in ALL_TABLES)
    raise ValueError(f"unknown table {name!r} (known: {known})")


@dataclass(frozen=True)
class Origin:
    """The recorded run that produced ``version`` of ``table`` (run is None when no run recorded it)."""

    table: str
    path: str
    version: int | None
    run: dict[str, Any] | None
    upstream: tuple[Origin, ...] = ()


def _runs(spark: SparkSession, config: Config) -> DataFrame | None:
    """The run records as a DataFrame (never collected whole: the table grows with every run)."""
    return read_delta_if_exists(spark, runs_path(config))


def _producer(runs: DataFrame | None, path: str, version: int) -> dict[str, Any] | None:
    """The newest successful run whose write of ``path`` spans ``version`` (one row collected)."""
    if runs is None:
        return None
    from pyspark.sql import functions as F

    def spans(w: Column) -> Column:
        after, start = w["version_after"], w["version_before"]
        return (w["path"] == path) & after.isNotNull() & (start.isNull() | (start < version)) & (after >= version)

    match = F.exists("writes", spans)  # null when a run wrote nothing: not a match
    found = runs.where((F.col("status") == SUCCESS) & match).orderBy(F.col("ended_at").desc()).limit(1).collect()
    return found[0].asDict(recursive=True) if found else None


def _origin(runs: DataFrame | None, table: Table, config: Config, version: int | None, depth: int) -> Origin:
    path = table.path(config)
    run = _producer(runs, path, version) if version is not None else None
    upstream: list[Origin] = []
    if run and depth > 0:
        for read in run["reads"] or []:
            if read["kind"] in ("delta", "hudi", "delta_stream") and read["path"] and read["version"] is not None:
                try:
                    upstream.append(_origin(runs, find_table(read["name"]), config, read["version"], depth - 1))
                except ValueError:
                    continue
    return Origin(table.name, path, version, run, tuple(upstream))


def table_origin(spark: SparkSession, config: Config, name: str, depth: int = 2) -> Origin:
    """Where the latest version of table ``name`` came from, following inputs ``depth`` levels up."""
    table = find_table(name)
    return _origin(_runs(spark, config), table, config, table_version(spark, config, table), depth)


def recent_runs(spark: SparkSession, config: Config, job: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The newest recorded runs, optionally of one job."""
    from pyspark.sql import functions as F

    runs = _runs(spark, config)
    if runs is None:
        return []
    if job is not None:
        runs = runs.where(F.col("job") == job)
    return [r.asDict(recursive=True) for r in runs.orderBy(F.col("ended_at").desc()).limit(limit).collect()]
