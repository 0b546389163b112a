"""dip_ingest (hourly): connectors -> Kafka -> stream_bronze -> stream_silver (available-now) -> reconcile.

Outlets: the silver tables as assets. No catchup: ingest fetches the APIs' current state and the streams
resume from their checkpoints, so one run catches up on everything missed.
"""

from datetime import timedelta

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, CronTriggerTimetable
from dip_common import DEFAULT_ARGS, SILVER, START, TAGS, deadline, dip_cli, spark_job

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
        task_id="ingest", execution_timeout=timedelta(minutes=20), **dip_cli("ingest", "--source", "all")
    )
    stream_bronze = SparkSubmitOperator(
        task_id="stream_bronze", **spark_job("stream_bronze", "--trigger", "available-now")
    )
    stream_silver = SparkSubmitOperator(
        task_id="stream_silver", outlets=SILVER, **spark_job("stream_silver", "--trigger", "available-now")
    )
    reconcile = BashOperator(task_id="reconcile", retries=0, **dip_cli("reconcile"))  # unbalanced: retrying won't help

    ingest >> stream_bronze >> stream_silver >> reconcile
