"""The jobs on a real cluster manager: a Spark standalone master + worker on loopback (pyspark's own
``spark-class``), `stream_bronze`, `stream_silver` and `batch_features` spark-submitted to it from the
built artefacts (the wheel's Python on driver and executors, the wheel shipped as ``--py-files``, the
driver started in an empty folder). Their tables equal those of the same jobs run in local mode."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from dip.config import Config
from dip.features.batch import run_features
from dip.io.table_access import read_table
from dip.silver.stream_job import run_stream_silver
from dip.streaming.bronze_job import run_stream_bronze
from dip.tables import BRONZE_EVENTS, FEATURE_TABLES, SILVER_ACCOUNT_METRICS, SILVER_POST_METRICS, SILVER_POSTS
from tests.integration.helpers import Artefacts, envelope, isolated_config, produce

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N_POSTS = 6
DAY = date(2026, 11, 26)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _master_state(ui_port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as response:
        return json.load(response)


def _alive_workers(ui_port: int) -> int:
    try:
        return int(_master_state(ui_port).get("aliveworkers", 0))
    except OSError:
        return 0


@pytest.fixture(scope="module")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A standalone master and one worker (2 cores, 2 GiB) on loopback: the master URL and its web UI port."""
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    logs = tmp_path_factory.mktemp("standalone")
    port, ui, worker_ui = _free_port(), _free_port(), _free_port()
    env = {**os.environ, "SPARK_HOME": str(spark_home), "SPARK_LOCAL_IP": "127.0.0.1"}
    spark_class = str(spark_home / "bin" / "spark-class")
    url = f"spark://127.0.0.1:{port}"
    commands = [
        [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
         "--webui-port", str(ui)],
        [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "2",
         "--memory", "2g", "--webui-port", str(worker_ui), "--work-dir", str(logs / "work"), url],
    ]  # fmt: skip
    procs = []
    try:
        for i, cmd in enumerate(commands):
            log = (logs / f"daemon-{i}.log").open("w")
            procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 120
        while _alive_workers(ui) < 1:
            assert all(p.poll() is None for p in procs), (logs / "daemon-1.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the standalone worker never registered with the master"
            time.sleep(0.5)
        yield url, ui
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)


def _produce(config: Config) -> None:
    topic = f"{config.kafka.topics.raw_prefix}tiktok"
    videos = [
        (f"tiktok:video:{i}".encode(), envelope("tiktok", "video", str(7400 + i), {
            "id": str(7400 + i), "create_time": 1764126000 + i * 60, "video_description": f"عباية {i} #abaya",
            "view_count": 100 * (i + 1), "like_count": 10 + i, "comment_count": i, "share_count": 1},
            fetched_at=f"2026-11-26T{10 + h}:00:00Z", account_id="open1", run_id=f"r{h}"))
        for i in range(N_POSTS) for h in range(2)
    ]  # fmt: skip
    user = (b"tiktok:user:open1", envelope("tiktok", "user", "open1", {
        "open_id": "open1", "display_name": "Lina Abayas", "follower_count": 5000, "video_count": N_POSTS},
        fetched_at="2026-11-26T10:00:00Z", account_id="open1", run_id="r0"))  # fmt: skip
    produce(config, topic, [*videos, user])


def _job_env(config: Config, artefacts: Artefacts, master: str) -> dict[str, str]:
    wheel = next(artefacts.dist.glob("dip-*.whl"))
    python = str(artefacts.python)
    return {k: v for k, v in os.environ.items() if not k.startswith(("DIP", "PYSPARK", "SPARK_HOME"))} | {
        "DIP_HOME": str(artefacts.dist),
        "DIP_ENV": "local",
        "DIP__SPARK__MASTER": master,
        "DIP__JARS__DIR": str(config.jars.dir),  # resolved by `make jars`; the dist ships no jars
        "DIP__LAKE__ROOT": config.lake.root,
        "DIP__KAFKA__TOPICS__RAW_PREFIX": config.kafka.topics.raw_prefix,
        "DIP__KAFKA__TOPICS__DLQ": config.kafka.topics.dlq,
        "DIP__KAFKA__TOPICS__PREDICTIONS": config.kafka.topics.predictions,
        "DIP__STREAMING__APP_ID": config.streaming.app_id,
        "DIP__SPARK__CONF__spark.submit.pyFiles": str(wheel),
        "DIP__SPARK__CONF__spark.executor.memory": "1g",
        "DIP__SPARK__CONF__spark.sql.shuffle.partitions": "2",
        "PYSPARK_PYTHON": python,
        "PYSPARK_DRIVER_PYTHON": python,
    }


def _submit(artefacts: Artefacts, env: dict[str, str], cwd: Path, job: str, *args: str) -> str:
    cmd = [str(artefacts.dip), "submit", str(artefacts.dist / "jobs" / f"{job}.py"), *args, "--env", "local"]
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"{job}: " + result.stdout[-3000:] + result.stderr[-3000:]
    return result.stderr


def test_jobs_on_a_standalone_cluster_match_local_mode(
    spark: SparkSession, stack: Config, tmp_path: Path, artefacts: Artefacts, standalone: tuple[str, int]
) -> None:
    master, ui = standalone
    cluster = isolated_config(stack, tmp_path / "cluster")
    local = isolated_config(stack, tmp_path / "local")
    local.kafka.topics = cluster.kafka.topics.model_copy()  # the same messages, each lake its own checkpoints
    _produce(cluster)

    empty = tmp_path / "driver-cwd"
    empty.mkdir()
    env = _job_env(cluster, artefacts, master)
    _submit(artefacts, env, empty, "stream_bronze", "--trigger", "available-now")
    _submit(artefacts, env, empty, "stream_silver", "--trigger", "available-now")
    _submit(artefacts, env, empty, "batch_features", "--date", DAY.isoformat())
    # the three applications ran on the cluster's executors, and finished
    apps = _master_state(ui)["completedapps"]
    assert sorted(a["name"] for a in apps) == ["dip-batch-features", "dip-stream-bronze", "dip-stream-silver"], apps
    assert all(a["state"] == "FINISHED" for a in apps), apps

    run_stream_bronze(spark, local)
    run_stream_silver(spark, local)
    run_features(spark, local, DAY, DAY)

    assert read_table(spark, cluster, BRONZE_EVENTS).count() == 2 * N_POSTS + 1
    for table in (SILVER_POSTS, SILVER_POST_METRICS, SILVER_ACCOUNT_METRICS, *FEATURE_TABLES.values()):
        on_cluster, in_local = read_table(spark, cluster, table), read_table(spark, local, table)
        assert on_cluster.count() > 0, table.name
        assertDataFrameEqual(on_cluster, in_local)
    assert read_table(spark, cluster, FEATURE_TABLES["post_features_daily"]).count() == N_POSTS
