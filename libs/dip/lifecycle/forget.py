"""``dip forget``: remove one account's data everywhere DIP keeps it, and keep it out.

Works from the account's hash (:mod:`dip.lifecycle.requests`), so a request queued by a platform's deletion callback
(which stores no id) is carried out the same way: every :data:`~dip.lifecycle.targets.LAKE_TARGETS` table (Delta
DELETE; Hudi's delete operation for Hudi feature tables), the raw zone and its archive, the Redis online keys of the
account and its posts, the ingest state. Deleted rows stay in older table versions until ``VACUUM`` drops them after
``lifecycle.delta.vacuum_retention_hours`` (the nightly ``dip maintain``); ``purge`` vacuums the touched tables at
once (and cleans Hudi to the latest file version), giving up time travel to before the deletion.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.connectors.raw_zone import ARCHIVE_ROOT, RAW_ROOT, ObjectStore, object_store, store_at
from dip.connectors.state import state_location
from dip.features.specs import feature_table
from dip.features.store import feature_store
from dip.io.delta_conflicts import retry_conflicts
from dip.io.forgotten import account_hash
from dip.io.table_access import delete_rows, table_exists, table_format
from dip.lifecycle.requests import ForgetRequest, record_completed
from dip.lifecycle.targets import LAKE_TARGETS, LakeTarget
from dip.online import make_client, online_key
from dip.tables import SILVER_ACCOUNT_METRICS, SILVER_ACCOUNTS, SILVER_POST_METRICS, SILVER_POSTS

# silver tables naming the account's ids and its posts' ids (the Redis keys and post-keyed tables need them)
_ID_SOURCES = (
    (SILVER_ACCOUNTS, None),
    (SILVER_ACCOUNT_METRICS, None),
    (SILVER_POSTS, "post_id"),
    (SILVER_POST_METRICS, "post_id"),
)


@dataclass
class ForgetReport:
    """Counts per place (``<table>``, ``raw_zone``, ``redis``, ``ingest_state``), never the data."""

    request: ForgetRequest
    counts: dict[str, int] = field(default_factory=dict)

    def totals(self) -> dict[str, int]:
        places = {"raw_zone": "raw_objects", "redis": "redis_keys", "ingest_state": "state_files"}
        out = {v: self.counts.get(k, 0) for k, v in places.items()}
        out["lake_rows"] = sum(n for k, n in self.counts.items() if k not in places)
        return out


def _hash_of(source: Column, account: Column) -> Column:
    return F.sha2(F.concat_ws(":", source, account), 256)


def _condition(target: LakeTarget, request: ForgetRequest, post_ids: list[str]) -> Column | None:
    """Rows of the account in ``target``: matched by hash (no id needed), or by its posts' ids."""
    if target.account is not None:
        source = F.col("source") if target.has_source else F.lit(request.source)
        return F.coalesce(_hash_of(source, target.account()) == request.account_hash, F.lit(False))
    if target.post is not None and post_ids:
        same_source = (F.col("source") == request.source) if target.has_source else F.lit(True)
        return same_source & target.post().isin(*post_ids)
    return None


def _ids(spark: SparkSession, config: Config, request: ForgetRequest) -> tuple[list[str], list[str]]:
    """The account ids (one, unless ids were re-keyed) and post ids of the account, from silver, before deletion."""
    accounts: set[str] = set()
    posts: set[str] = set()
    matches = F.col("source") == request.source
    for table, column in _ID_SOURCES:
        if not table_exists(spark, config, table):
            continue
        df = spark.read.format("delta").load(table.path(config)).where(matches)
        df = df.where(_hash_of(F.col("source"), F.col("account_id")) == request.account_hash)
        for row in df.select("account_id", *([column] if column else [])).distinct().collect():
            accounts.add(row["account_id"])
            if column:
                posts.add(row[column])
    return sorted(accounts), sorted(posts)


def _forget_table(spark: SparkSession, config: Config, target: LakeTarget, condition: Column, purge: bool) -> int:
    table = target.table
    if table_format(config, table) == "hudi":
        rows = feature_store(spark, config).delete_where(feature_table(table.name), condition)
        if purge and rows:
            name = f"dip_forget_{table.name}"
            spark.sql(f"CREATE TABLE IF NOT EXISTS {name} USING hudi LOCATION '{table.path(config)}'")
            try:
                spark.sql(
                    f"CALL run_clean(table => '{name}', clean_policy => 'KEEP_LATEST_FILE_VERSIONS', "
                    "file_versions_retained => 1)"
                ).collect()
            finally:
                spark.sql(f"DROP TABLE IF EXISTS {name}")
        return rows
    path = table.path(config)
    rows = retry_conflicts(lambda: delete_rows(spark, path, condition))
    if purge and rows:
        from delta.tables import DeltaTable

        check = "spark.databricks.delta.retentionDurationCheck.enabled"
        spark.conf.set(check, "false")
        try:
            DeltaTable.forPath(spark, path).vacuum(0.0)
        finally:
            spark.conf.unset(check)
    return rows


def _forget_raw(store: ObjectStore, request: ForgetRequest) -> int:
    """Raw (and archived raw) objects of the account: each body's metadata names its account."""
    removed = 0
    for root in (RAW_ROOT, ARCHIVE_ROOT):
        for key in store.list(f"{root}/source={request.source}/"):
            if not key.endswith(".meta.json"):
                continue
            meta = json.loads(store.get(key))
            if account_hash(request.source, str(meta.get("account_id", ""))) != request.account_hash:
                continue
            store.delete(key.removesuffix(".meta.json") + ".json.gz")
            store.delete(key)
            removed += 2
    return removed


def _forget_state(store: ObjectStore, request: ForgetRequest) -> int:
    """The account's ingest state file (its cursors and fingerprints)."""
    removed = 0
    for key in store.list(f"{request.source}/"):
        try:
            data = json.loads(store.get(key))
        except ValueError:  # not a state file
            continue
        if not isinstance(data, dict):
            continue
        if account_hash(request.source, str(data.get("account_id", ""))) == request.account_hash:
            store.delete(key)
            removed += 1
    return removed


def _forget_redis(config: Config, account_ids: list[str], post_ids: list[str]) -> int:
    """Online keys: account views keyed by the account id, post views by its posts' ids (nightly and live)."""
    keys = []
    for name, view in config.online.views.items():
        ids = account_ids if view.entity == "account" else post_ids if view.entity == "post" else []
        keys += [online_key(name, i) for i in ids]
    if not keys:
        return 0
    client = make_client(config.redis)
    try:
        return int(sum(client.delete(*keys[i : i + 500]) for i in range(0, len(keys), 500)))
    finally:
        client.close()


def run_forget(
    spark: SparkSession,
    config: Config,
    request: ForgetRequest,
    on_place: Callable[[str, int], None] = lambda _p, _n: None,
    account_id: str | None = None,
) -> ForgetReport:
    """Delete everything of ``request``'s account and append the ``completed`` audit row (counts per place)."""
    report = ForgetReport(request)
    account_ids, post_ids = _ids(spark, config, request)
    if account_id is not None and account_id not in account_ids:  # given by `dip forget`: its keys even without silver
        account_ids.append(account_id)

    def done(place: str, count: int) -> None:
        report.counts[place] = count
        on_place(place, count)

    for target in LAKE_TARGETS:
        condition = _condition(target, request, post_ids)
        if condition is not None and table_exists(spark, config, target.table):
            done(target.table.name, _forget_table(spark, config, target, condition, request.purge))
    done("raw_zone", _forget_raw(object_store(config), request))
    done("redis", _forget_redis(config, account_ids, post_ids))
    done("ingest_state", _forget_state(store_at(state_location(config), config.connectors.s3_endpoint_url), request))
    record_completed(config, request, report.counts)
    return report


def carry_out(
    spark: SparkSession,
    config: Config,
    requests: list[ForgetRequest],
    echo: Callable[[str], object] = print,
    account_id: str | None = None,
) -> dict[str, int]:
    """Run every request (``dip forget``, ``jobs/forget.py``), printing each place's count; the summed totals."""
    counts: dict[str, int] = {"raw_objects": 0, "lake_rows": 0, "redis_keys": 0, "state_files": 0}
    for request in requests:
        report = run_forget(
            spark, config, request, on_place=lambda place, n: echo(f"  {place:24} {n:>8}"), account_id=account_id
        )
        for key, value in report.totals().items():
            counts[key] += value
        echo(f"forget {request.request_id} ({request.source}): completed")
    return counts
