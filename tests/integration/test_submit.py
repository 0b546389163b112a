"""A job launched by `dip submit` (real spark-submit) runs every doctor check."""

import subprocess
import sys
from pathlib import Path

import pytest

from dip.config import Config

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_doctor_job_through_spark_submit(stack: Config) -> None:
    dip = Path(sys.executable).parent / "dip"
    result = subprocess.run(
        [str(dip), "submit", "jobs/doctor.py", "--env", "local"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    lines = [line for line in result.stdout.splitlines() if line[:7].strip() in {"OK", "FAILED", "BLOCKED"}]
    hudi = "OK" if stack.spark.hudi_enabled else "BLOCKED"
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert [line.split()[:2] for line in lines] == [
        ["OK", "spark"], ["OK", "delta"], [hudi, "hudi"], ["OK", "kafka"], ["OK", "redis"],
    ]  # fmt: skip
