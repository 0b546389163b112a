"""The core install (setup.py's ``install_requires``) covers what the cluster-side modules import.

A static scan: the modules that run on a cluster's driver and executors (streaming, silver, features, the
online writers, io) and every ``dip`` module they import when loaded; their third-party imports map to
distributions through the installed metadata and must be in the core requirements or what those pull in.
pyspark and delta-spark are the cluster's. Imports inside functions that only some runs reach belong to a
role's extra, listed here with the reason.
"""

from __future__ import annotations

import ast
import functools
import runpy
import sys
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path
from typing import Any

import pytest
import setuptools
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LIBS = ROOT / "libs"
CLUSTER_PACKAGES = ("dip.streaming", "dip.silver", "dip.features", "dip.online", "dip.io")
CLUSTER_PROVIDED = {"pyspark", "delta-spark"}
# parts of pyspark whose own dependencies pyspark declares only as extras: imported module prefix -> distributions
SPARK_PART_NEEDS = {
    "pyspark.ml": {"numpy", "pandas"},  # pyspark.ml imports numpy, pyspark.ml.functions pandas
    "pyspark.mllib": {"numpy"},
    "pyspark.pandas": {"numpy", "pandas", "pyarrow"},
}
# lazy imports of the cluster packages that come with an extra: import name -> (extra, why)
EXTRA_IMPORTS = {
    "great_expectations": ("quality", "silver's suites run on the driver: install dip[quality] where silver runs"),
    "deltalake": ("readers", "io.arrow_reader: JVM-free reads for the notebook helpers"),
    "hudi": ("readers", "the Hudi timeline (push_online, lineage versions): deploy.JOB_EXTRAS"),
    "pyarrow": ("readers", "io.arrow_reader's Arrow tables (a cluster has its own pyarrow)"),
    "opentelemetry": ("otel", "spans only when observability.otlp_endpoint is set (no-op otherwise)"),
}


@pytest.fixture(scope="module")
def setup_kwargs(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, Any]:
    """What setup.py passes to ``setup()``, without building anything."""
    captured: dict[str, Any] = {}
    monkeypatch_module.setattr(setuptools, "setup", lambda **kwargs: captured.update(kwargs))
    runpy.run_path(str(ROOT / "setup.py"), run_name="setup")
    return captured


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _module_file(module: str) -> Path | None:
    path = LIBS / module.replace(".", "/")
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _load_time_nodes(nodes: list[ast.AST]) -> list[ast.AST]:
    """The nodes that run when a module loads: not function bodies, not ``if TYPE_CHECKING:`` blocks."""
    found: list[ast.AST] = []
    for node in nodes:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        found += [node, *_load_time_nodes(list(ast.iter_child_nodes(node)))]
    return found


def _imports(path: Path, *, load_time_only: bool) -> list[str]:
    """Absolute imports of a module: those that run when it loads, or all of them (lazy ones too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = _load_time_nodes(tree.body) if load_time_only else list(ast.walk(tree))
    names: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return names


def _cluster_modules() -> list[str]:
    """The cluster packages' modules and every ``dip`` module (with its parents) they import when loaded."""
    todo = [
        str(p.relative_to(LIBS).with_suffix("")).replace("/", ".").removesuffix(".__init__")
        for package in CLUSTER_PACKAGES
        for p in (LIBS / package.replace(".", "/")).rglob("*.py")
    ]
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        path = _module_file(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += [m for m in _imports(path, load_time_only=True) if m.split(".")[0] == "dip"]
    return sorted(seen)


def _third_party(modules: list[str], *, load_time_only: bool) -> dict[str, set[str]]:
    """Top-level third-party import name -> the modules importing it."""
    found: dict[str, set[str]] = {}
    for module in modules:
        for name in _imports(_module_file(module), load_time_only=load_time_only):  # type: ignore[arg-type]
            top = name.split(".")[0]
            if top not in sys.stdlib_module_names and top not in ("dip", "__future__"):
                found.setdefault(top, set()).add(module)
    return found


@functools.cache
def _providers() -> dict[str, list[str]]:
    return packages_distributions()


def _distributions(import_name: str) -> set[str]:
    """The installed distributions that provide a top-level import name."""
    return {canonicalize_name(d) for d in _providers().get(import_name, [import_name])}


def _closure(requirements: list[str]) -> set[str]:
    """The requirements' distributions and, through the installed metadata, everything they depend on."""
    names: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in names:
            continue
        names.add(name)
        try:
            dependencies = requires(name) or []
        except PackageNotFoundError:
            continue
        for dependency in map(Requirement, dependencies):
            if dependency.marker is None or dependency.marker.evaluate({"extra": ""}):
                todo.append(dependency)
    return names


def test_the_scan_sees_the_cluster_modules() -> None:
    modules = _cluster_modules()
    assert {"dip.silver.process", "dip.streaming.bronze_job", "dip.online.spark_write", "dip.io.kafka"} <= set(modules)
    assert {"dip.config.loader", "dip.schemas.registry"} <= set(modules)  # pulled in by the cluster packages
    assert "dip.serving.app" not in modules and "dip.cli" not in modules


def test_core_install_covers_what_cluster_modules_import_when_loaded(setup_kwargs: dict[str, Any]) -> None:
    core = _closure(setup_kwargs["install_requires"]) | CLUSTER_PROVIDED
    imported = _third_party(_cluster_modules(), load_time_only=True)
    assert {"pydantic", "yaml", "jsonschema", "redis", "pyspark"} <= set(imported)
    missing = {name: sorted(by) for name, by in imported.items() if not _distributions(name) & core}
    assert missing == {}


def test_core_install_covers_the_parts_of_pyspark_cluster_modules_use(setup_kwargs: dict[str, Any]) -> None:
    core = _closure(setup_kwargs["install_requires"])
    imported = {name for module in _cluster_modules() for name in _imports(_module_file(module), load_time_only=False)}  # type: ignore[arg-type]
    used = {prefix for prefix in SPARK_PART_NEEDS for name in imported if name.startswith(prefix + ".")}
    assert "pyspark.ml" in used  # the caption features' HashingTF and vector_to_array
    assert {prefix: sorted(SPARK_PART_NEEDS[prefix] - core) for prefix in used} == {p: [] for p in used}


def test_lazy_imports_of_cluster_modules_are_core_or_a_declared_extra(setup_kwargs: dict[str, Any]) -> None:
    core = _closure(setup_kwargs["install_requires"]) | CLUSTER_PROVIDED
    imported = _third_party(_cluster_modules(), load_time_only=False)
    assert {"confluent_kafka", "boto3", "hvac", "delta"} <= set(imported)
    assert {name for name in imported if not _distributions(name) & core} == set(EXTRA_IMPORTS)
    extras = setup_kwargs["extras_require"]
    for name, (extra, _why) in EXTRA_IMPORTS.items():
        assert _distributions(name) & {canonicalize_name(Requirement(r).name) for r in extras[extra]}


def test_core_install_leaves_the_roles_out(setup_kwargs: dict[str, Any]) -> None:
    core = {canonicalize_name(Requirement(r).name) for r in setup_kwargs["install_requires"]}
    roles = {"mlflow", "mlflow-skinny", "scikit-learn", "great-expectations", "fastapi", "uvicorn", "pyspark"}
    assert core & roles == set()
    assert setup_kwargs["python_requires"] == ">=3.11,<3.13"
    assert all(Requirement(r).specifier for r in setup_kwargs["install_requires"])  # ranges, never bare names
    assert not any("==" in r for r in setup_kwargs["install_requires"])  # exact pins live in conf/constraints.txt


def test_cluster_jobs_get_the_extras_they_import(setup_kwargs: dict[str, Any]) -> None:
    from dip.deploy import JOB_EXTRAS, cluster_extras, list_jobs

    assert set(JOB_EXTRAS) <= set(list_jobs(ROOT))
    assert {e for extras in JOB_EXTRAS.values() for e in extras} <= set(setup_kwargs["extras_require"])
    assert cluster_extras() == "dip[ml,quality,readers]"
