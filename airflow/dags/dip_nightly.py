"""dip_nightly (one run per finished UTC day): batch_features -> gold -> push_online -> forget_pending -> maintain ->
quality report -> train. forget_pending carries out deletion requests queued by POST /v1/admin/forget; maintain
compacts, vacuums and checkpoints the tables, cleans Hudi and applies retention (the raw zone's archive locally).

Chained to dip_ingest by assets: it runs when dip_ingest publishes a day partition of the silver tables
(its `close_day` task, once a run of a later day passed reconcile), for that day (`partition_key`). Several
finished days (an ingest outage) give one run each, one at a time. A manual run takes the `day` param
(default: the day before its logical date); past ranges go through dip_backfill. train runs after the
features of `deploy.airflow.train_weekday` (Sunday by default), when the feature set version changed, or on
`force_train`.
"""

from datetime import timedelta

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import ShortCircuitOperator
from airflow.sdk import DAG, AssetAll, Param, PartitionedAssetTimetable
from dip_common import (
    DAY,
    DEFAULT_ARGS,
    FEATURES,
    LINEAGE_ARGS,
    SILVER,
    START,
    TAGS,
    deadline,
    dip_cli,
    spark_job,
    train_due,
    trained,
)

with DAG(
    dag_id="dip_nightly",
    deadline=deadline("dip_nightly"),
    description="Feature tables, online store, quality report and (weekly) training for one day",
    schedule=PartitionedAssetTimetable(assets=AssetAll(*SILVER)),  # the day partition of every silver table
    start_date=START,
    catchup=False,
    max_active_runs=1,  # one day at a time (each reads silver with its own lookback, so order does not matter)
    dagrun_timeout=timedelta(hours=3),
    default_args=DEFAULT_ARGS,
    params={
        "day": Param(None, type=["null", "string"], format="date", description="UTC day of a manual run."),
        "force_train": Param(False, type="boolean", description="Train even if not due."),
    },
    tags=[*TAGS, "features", "nightly"],
    doc_md=__doc__,
):
    batch_features = SparkSubmitOperator(
        task_id="batch_features",
        inlets=SILVER,
        outlets=FEATURES,
        execution_timeout=timedelta(hours=1),
        **spark_job("batch_features", "--date", DAY),
    )
    gold = SparkSubmitOperator(  # the seller dashboard's gold tables and the seller alerts of the day
        task_id="gold", inlets=SILVER, execution_timeout=timedelta(hours=1), **spark_job("gold", "--date", DAY)
    )
    push_online = SparkSubmitOperator(task_id="push_online", inlets=FEATURES, **spark_job("push_online"))
    quality_report = BashOperator(
        task_id="quality_report", **dip_cli("quality", "report", "--date", DAY, *LINEAGE_ARGS)
    )
    train_gate = ShortCircuitOperator(task_id="train_due", python_callable=train_due, op_kwargs={"day": DAY})
    train = SparkSubmitOperator(
        task_id="train",
        inlets=FEATURES,
        execution_timeout=timedelta(hours=2),
        on_success_callback=trained,
        **spark_job("train"),  # trains on all offline features up to now; no date argument
    )

    # deletion requests queued by POST /v1/admin/forget first, so maintain's VACUUM follows their deletes
    forget_pending = SparkSubmitOperator(task_id="forget_pending", **spark_job("forget"))
    maintain = SparkSubmitOperator(task_id="maintain", execution_timeout=timedelta(hours=1), **spark_job("maintain"))

    batch_features >> gold >> push_online >> forget_pending >> maintain >> quality_report >> train_gate >> train
