"""The api's layers depend one way: core knows no service, route or app
wiring, and services know no route; read from each module's own imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "easyflow_api"
ABOVE = {
    "core": ("services", "routes", "deps", "main", "seed", "__main__"),
    "services": ("routes", "deps", "main", "__main__"),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("layer", sorted(ABOVE))
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    modules = sorted((PACKAGE / layer).rglob("*.py"))
    assert modules, f"no modules under {layer}/"
    forbidden = tuple(f"easyflow_api.{name}" for name in ABOVE[layer])
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name
            for name in _imports(path)
            if any(name == f or name.startswith(f + ".") for f in forbidden)
        )
        for path in modules
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_walk_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from easyflow_api.services.rasa_client import RasaClient\n")
    assert "easyflow_api.services.rasa_client" in _imports(module)
