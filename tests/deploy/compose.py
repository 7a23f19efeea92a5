"""Reads the compose file the way `docker compose config` would: YAML with merge
keys, then `${VAR}`, `${VAR:-default}` and `${VAR:?message}` interpolation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

_VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")


class MissingVariables(Exception):
    def __init__(self, names: set[str]) -> None:
        super().__init__(", ".join(sorted(names)))
        self.names = names


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def variables(node: Any) -> set[str]:
    """Every variable the file refers to."""
    found: set[str] = set()
    for text in _strings(node):
        for match in _VARIABLE.finditer(text):
            name = match.group(1) or match.group(4)
            if name:
                found.add(name)
    return found


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def interpolate(node: Any, env: dict[str, str]) -> Any:
    missing: set[str] = set()

    def one(text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name = match.group(1) or match.group(4)
            operator, argument = match.group(2), match.group(3)
            value = env.get(name)
            empty = value is None or (value == "" and operator and ":" in operator)
            if operator in (":-", "-") and empty:
                return argument or ""
            if operator in (":?", "?") and empty:
                missing.add(name)
                return ""
            return value or ""

        return _VARIABLE.sub(replace, text)

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return one(item)
        if isinstance(item, dict):
            return {key: walk(value) for key, value in item.items()}
        if isinstance(item, list):
            return [walk(value) for value in item]
        return item

    result = walk(node)
    if missing:
        raise MissingVariables(missing)
    return result


def env_file(path: Path, commented: bool = False) -> dict[str, str]:
    """KEY=VALUE lines of an env file; with `commented`, `# KEY=VALUE` lines too."""
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#"):
            if not commented:
                continue
            line = line.lstrip("#").strip()
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            values.setdefault(match.group(1), match.group(2).strip())
    return values
