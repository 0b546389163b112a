"""dip_nightly (daily, for the finished UTC day {{ ds }}): batch_features -> push_online -> quality report -> train.

Reads the silver assets dip_ingest produces; train runs weekly or when the feature set version changed
(and is skipped while jobs/train.py does not exist). No catchup: past days go through dip_backfill.
"""

from datetime import timedelta

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import ShortCircuitOperator
from airflow.sdk import DAG, CronDataIntervalTimetable, Param
from dip_common import DEFAULT_ARGS, DS, FEATURES, SILVER, START, TAGS, deadline, dip_cli, spark_job, train_due, trained

with DAG(
    dag_id="dip_nightly",
    deadline=deadline("dip_nightly"),
    description="Feature tables, online store, quality report and (weekly) training for one day",
    schedule=CronDataIntervalTimetable("30 1 * * *", timezone="UTC"),  # interval = the day before
    start_date=START,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=3),
    default_args=DEFAULT_ARGS,
    params={"force_train": Param(False, type="boolean", description="Train even if not due.")},
    tags=[*TAGS, "features", "nightly"],
    doc_md=__doc__,
):
    batch_features = SparkSubmitOperator(
        task_id="batch_features",
        inlets=SILVER,
        outlets=FEATURES,
        execution_timeout=timedelta(hours=1),
        **spark_job("batch_features", "--date", DS),
    )
    push_online = SparkSubmitOperator(task_id="push_online", inlets=FEATURES, **spark_job("push_online"))
    quality_report = BashOperator(task_id="quality_report", **dip_cli("quality", "report", "--date", DS))
    train_gate = ShortCircuitOperator(task_id="train_due", python_callable=train_due)
    train = SparkSubmitOperator(
        task_id="train",
        inlets=FEATURES,
        execution_timeout=timedelta(hours=2),
        on_success_callback=trained,
        **spark_job("train"),  # trains on all offline features up to now; no date argument
    )

    batch_features >> push_online >> quality_report >> train_gate >> train
