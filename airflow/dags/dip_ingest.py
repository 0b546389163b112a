"""dip_ingest (hourly): connectors -> Kafka -> stream_bronze -> stream_silver (available-now) -> reconcile -> close_day.

close_day publishes each UTC day that has ended (and was not published yet) as a partition of the silver
table assets; dip_nightly runs once per published day. No catchup: ingest fetches the APIs' current state
and the streams resume from their checkpoints, so one run catches up on everything missed.
"""

from datetime import timedelta

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, CronTriggerTimetable
from dip_common import DEFAULT_ARGS, LINEAGE_ARGS, SILVER, START, TAGS, close_days, deadline, dip_cli, spark_job

with DAG(
    dag_id="dip_ingest",
    deadline=deadline("dip_ingest"),
    description="Connectors -> Kafka -> bronze -> silver, then the reconcile balance check",
    schedule=CronTriggerTimetable("5 * * * *", timezone="UTC"),
    start_date=START,
    catchup=False,
    max_active_runs=1,  # the streams share checkpoints
    dagrun_timeout=timedelta(minutes=55),
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "ingest", "streaming"],
    doc_md=__doc__,
):
    ingest = BashOperator(
        task_id="ingest", execution_timeout=timedelta(minutes=20), **dip_cli("ingest", "--source", "all", *LINEAGE_ARGS)
    )
    stream_bronze = SparkSubmitOperator(
        task_id="stream_bronze", **spark_job("stream_bronze", "--trigger", "available-now")
    )
    stream_silver = SparkSubmitOperator(
        task_id="stream_silver", **spark_job("stream_silver", "--trigger", "available-now")
    )
    reconcile = BashOperator(
        task_id="reconcile", retries=0, **dip_cli("reconcile", *LINEAGE_ARGS)
    )  # unbalanced: retrying won't help
    # only a balanced run publishes days; skipped (no asset events) in the hours no day ends
    close_day = PythonOperator(task_id="close_day", outlets=SILVER, python_callable=close_days)

    ingest >> stream_bronze >> stream_silver >> reconcile >> close_day
