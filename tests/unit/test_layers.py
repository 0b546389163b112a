"""The package's layers only point down: import-linter's layers contract (.importlinter) holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_layers_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), str(ROOT / ".importlinter"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_an_import_pointing_up_breaks_the_contract(tmp_path: Path) -> None:
    """The check can fail: with dip.tables put below dip.config, its import of the config is reported."""
    inverted = tmp_path / "inverted.ini"
    inverted.write_text(
        "[importlinter]\nroot_package = dip\n\n[importlinter:contract:inverted]\nname = inverted\ntype = layers\n"
        "layers =\n    dip.config\n    dip.tables\n",
        encoding="utf-8",
    )
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), str(inverted), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1
    assert "dip.tables -> dip.config" in result.stdout
