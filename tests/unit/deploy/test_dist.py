"""`make dist`: the wheel holds every dip package and no Spark dependency outside the `local` extra;
jobs/, conf/ and expectations/ (also as dip_home.tar.gz) sit next to it."""

from __future__ import annotations

import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from dip.deploy import build_dist, list_jobs

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow  # builds the wheel with pip (~20 s)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist") / "dist"
    build_dist(ROOT, out)
    return out


def test_wheel_contains_every_dip_package_and_keeps_spark_optional(dist: Path) -> None:
    wheel = zipfile.ZipFile(dist / "dip-0.1.0-py3-none-any.whl")
    names = set(wheel.namelist())
    packages = sorted(str(p.parent.relative_to(ROOT / "libs")) for p in (ROOT / "libs" / "dip").rglob("__init__.py"))
    assert len(packages) > 10
    missing = [p for p in packages if f"{p}/__init__.py" not in names]
    assert missing == []
    modules = sorted(str(p.relative_to(ROOT / "libs")) for p in (ROOT / "libs" / "dip").rglob("*.py"))
    assert [m for m in modules if m not in names] == []
    static = {f"dip/serving/dashboard/static/{f}" for f in ("index.html", "dashboard.js", "dashboard.css")}
    assert static <= names  # the dashboard's page, script and style ship as package data
    requires = [
        line for line in wheel.read("dip-0.1.0.dist-info/METADATA").decode().splitlines() if line.startswith("Requires")
    ]
    spark = [r for r in requires if "pyspark" in r or "delta-spark" in r]
    assert spark and all("extra ==" in r for r in spark)
    assert "dip = dip.cli:main" in wheel.read("dip-0.1.0.dist-info/entry_points.txt").decode()


def test_cluster_wheel_holds_no_dev_only_code(dist: Path) -> None:
    """Simulator, local stack, demo and Maven jar resolution are dip-local's; none of it ships to clusters."""
    wheel = zipfile.ZipFile(dist / "dip-0.1.0-py3-none-any.whl")
    names = wheel.namelist()
    assert sorted({n.split("/")[0] for n in names if not n.startswith("dip-0.1.0.dist-info/")}) == ["dip"]
    dev_only = ("dip/simulator/", "dip/stack/", "dip/demo/", "dip/jars.py", "dip/commands/demo.py")
    assert [n for n in names if n.startswith(dev_only)] == []
    sources = {n: wheel.read(n).decode() for n in names if n.endswith(".py")}
    assert [n for n, text in sources.items() if "dependency:copy-dependencies" in text or "dip_local" in text] == []
    assert "dip.commands" not in wheel.read("dip-0.1.0.dist-info/entry_points.txt").decode()


def test_jobs_conf_and_expectations_ship_next_to_the_wheel(dist: Path) -> None:
    assert sorted(p.stem for p in (dist / "jobs").glob("*.py")) == list_jobs(ROOT)
    for name in ("base.yaml", "local.yaml", "emr.yaml", "databricks.yaml"):
        assert (dist / "conf" / name).is_file()
    schemas = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "conf" / "schemas").rglob("*.json"))
    assert schemas and all((dist / s).is_file() for s in schemas)
    suites = sorted(p.name for p in (ROOT / "expectations").glob("*.json"))
    assert suites and sorted(p.name for p in (dist / "expectations").glob("*.json")) == suites
    with tarfile.open(dist / "dip_home.tar.gz") as archive:
        members = set(archive.getnames())
    assert {"conf/base.yaml", "conf/emr.yaml", *schemas, *(f"expectations/{s}" for s in suites)} <= members
    assert not any(m.startswith("airflow") for m in members)  # the DAGs go to the scheduler, not the jobs
    assert sorted(p.name for p in (dist / "airflow" / "dags").glob("*.py")) == sorted(
        p.name for p in (ROOT / "airflow" / "dags").glob("*.py")
    )
    assert (dist / "manifest.json").is_file()


def test_emr_bootstrap_installs_the_built_wheel(dist: Path) -> None:
    wheel = next(dist.glob("dip-*.whl")).name
    script = (dist / "emr_bootstrap.sh").read_text(encoding="utf-8")
    assert f'aws s3 cp "$artifacts/{wheel}" /tmp/{wheel}' in script
    assert "sudo dnf install -y -q python3.11 python3.11-pip" in script  # EMR 7's python3 is 3.9
    assert f"/usr/bin/python3.11 -m pip install --quiet /tmp/{wheel}" in script
    assert subprocess.run(["bash", "-n", str(dist / "emr_bootstrap.sh")], check=False).returncode == 0
    usage = subprocess.run(["bash", str(dist / "emr_bootstrap.sh")], capture_output=True, text=True, check=False)
    assert usage.returncode != 0 and "usage: emr_bootstrap.sh <artifacts_uri>" in usage.stderr


def test_config_loads_from_the_shipped_dip_home(dist: Path) -> None:
    from dip.config import load_config

    config = load_config("databricks", environ={"DIP_HOME": str(dist), "DIP__KAFKA__SASL_USERNAME": "u",
                                                 "DIP__KAFKA__SASL_PASSWORD": "p"})  # fmt: skip
    assert config.lake.root == "s3://dip-lake/databricks"
    assert Path(config.quality.expectations_dir) == dist / "expectations"
