"""A job launched by `dip submit` (real spark-submit) runs every doctor check, from the built artefacts with the
wheel's Python (like on a cluster). The same job from the source tree is not run separately (CI time): the jobs of
the source tree run in the stream, chaos and demo tests, and `dip submit` is the same command here."""

import os
import subprocess

import pytest

from dip.config import Config
from tests.integration.helpers import Artefacts

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _doctor_lines(result: subprocess.CompletedProcess) -> list[list[str]]:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if line[:7].strip() in {"OK", "FAILED", "SKIPPED"}]
    return [line.split()[:2] for line in lines]


def _expected(stack: Config) -> list[list[str]]:
    hudi = "OK" if stack.spark.hudi_enabled else "SKIPPED"
    return [["OK", "spark"], ["OK", "delta"], [hudi, "hudi"], ["OK", "kafka"], ["OK", "redis"]]


def test_doctor_job_from_the_built_artefacts(stack: Config, artefacts: Artefacts) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIP")} | {
        "DIP_HOME": str(artefacts.dist),
        "DIP_ENV": "local",
        "DIP__JARS__DIR": str(stack.jars.dir),  # resolved by `make jars`; the dist ships no jars
        "DIP__LAKE__ROOT": stack.lake.root,
    }
    result = subprocess.run(
        [str(artefacts.dip), "submit", str(artefacts.dist / "jobs" / "doctor.py"), "--env", "local"],
        env=env, cwd=artefacts.dist, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert _doctor_lines(result) == _expected(stack)
