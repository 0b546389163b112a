"""dip_backfill (manual, params from/to): re-derive silver from bronze, then features and the online push.

Trigger: airflow dags trigger dip_backfill -c '{"from": "2026-11-01", "to": "2026-11-25"}'.
Feature days already completed are skipped, so a failed backfill resumes where it stopped.
"""

from datetime import timedelta

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param
from dip_common import DEFAULT_ARGS, FEATURES, SILVER, START, TAGS, dip_cli, spark_job

FROM, TO = "{{ params['from'] }}", "{{ params['to'] }}"

with DAG(
    dag_id="dip_backfill",
    description="Silver rebuild and feature backfill for a date range",
    schedule=None,
    start_date=START,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=12),
    default_args=DEFAULT_ARGS,
    params={
        "from": Param(type="string", format="date", description="First day (YYYY-MM-DD)."),
        "to": Param(type="string", format="date", description="Last day, inclusive (YYYY-MM-DD)."),
    },
    tags=[*TAGS, "backfill"],
    doc_md=__doc__,
):
    # no silver asset events: dip_nightly listens for day partitions, and this DAG recomputes the range's features
    silver_rebuild = BashOperator(
        task_id="silver_rebuild",
        execution_timeout=timedelta(hours=4),
        **dip_cli("silver", "rebuild", "--from", FROM, "--to", TO),
    )
    batch_features = SparkSubmitOperator(
        task_id="batch_features",
        inlets=SILVER,
        outlets=FEATURES,
        execution_timeout=timedelta(hours=6),
        **spark_job("batch_features", "--from", FROM, "--to", TO, "--force"),
    )
    push_online = SparkSubmitOperator(task_id="push_online", inlets=FEATURES, **spark_job("push_online"))

    silver_rebuild >> batch_features >> push_online
