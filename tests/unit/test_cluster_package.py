"""The cluster package ``dip`` stands alone: no module of it imports the dev-only ``dip_local``."""

from __future__ import annotations

import ast
from pathlib import Path

LIBS = Path(__file__).resolve().parents[2] / "libs"


def _imported_modules(tree: ast.AST) -> list[str]:
    """Every module an ``import``/``from ... import`` names, lazy ones inside functions included."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_no_dip_module_imports_dip_local() -> None:
    modules = sorted((LIBS / "dip").rglob("*.py"))
    assert len(modules) > 100
    offenders = []
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # string constants too: import_module("dip_local...") or a patch target would import it just the same
        strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        imported = [m for m in _imported_modules(tree) if m.split(".")[0] == "dip_local"]
        if imported or any(s.startswith("dip_local") for s in strings):
            offenders.append(str(path.relative_to(LIBS)))
    assert offenders == []
