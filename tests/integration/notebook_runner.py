"""Execute the notebooks in ``notebooks/`` (jupytext percent sources) top to bottom with nbclient; any cell error
fails the test."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
KERNEL_NAME = "dip-notebooks"
CELL_TIMEOUT_S = 300


def _kernel_manager(kernels_dir: Path):  # jupyter_client is a dev-only import
    """A kernel manager whose only kernel runs this interpreter (the venv), whatever kernelspecs are installed."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    spec_dir = kernels_dir / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "DIP venv",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(kernels_dir)])
    return AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)


def run_notebooks(env: Mapping[str, str], work_dir: Path, notebooks: list[Path] | None = None) -> dict[str, float]:
    """Run each notebook (default: every ``notebooks/*.py``) in a fresh venv kernel with ``env``; seconds per notebook.

    The ``.py`` sources are read as notebooks by jupytext (as Jupyter opens them); executed copies (``.ipynb`` with
    outputs) are written to ``work_dir`` for inspection.
    """
    import jupytext
    import nbformat
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient

    paths = notebooks or sorted(NOTEBOOKS.glob("*.py"))
    assert paths, f"no notebooks in {NOTEBOOKS}"
    work_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    for path in paths:
        notebook = jupytext.read(path)
        client = NotebookClient(
            notebook,
            km=_kernel_manager(work_dir / "kernels"),
            timeout=CELL_TIMEOUT_S,
            allow_errors=False,
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        started = time.monotonic()
        try:
            client.execute(env=dict(env), cwd=str(NOTEBOOKS))
        finally:
            nbformat.write(notebook, work_dir / path.with_suffix(".ipynb").name)
            # nbclient shuts down only kernels it created itself: this one (and its Spark JVM) would otherwise
            # live until the test process ends, holding a core's worth of threads and GBs for the rest of the run
            if client.km is not None and run_sync(client.km.is_alive)():
                run_sync(client.km.shutdown_kernel)(now=False)
        timings[path.name] = round(time.monotonic() - started, 1)
    return timings
