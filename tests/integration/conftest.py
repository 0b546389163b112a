"""Fixtures of the service-backed tests: the built artefacts (`make dist`) and a Python that has only them."""

from __future__ import annotations

from pathlib import Path

import pytest

from dip.deploy import build_dist
from tests.integration.helpers import Artefacts, jobs_python

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Artefacts:
    """Built once per test run: jobs run from these prove the wheel and the dist are complete."""
    tmp_path = tmp_path_factory.mktemp("artefacts")
    dist = tmp_path / "dist"
    manifest = build_dist(ROOT, dist)
    python = jobs_python(tmp_path / "jobs-venv", next(dist.glob("dip-*.whl")))
    return Artefacts(dist=dist, manifest=manifest, python=python)
