"""Dockerfiles: pinned multi-stage builds, non-root, health checks, and a build
context that holds every file they copy and every module the code imports."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.dockerfile import Dockerfile, DockerIgnore, copy_sources, parse
from tests.deploy.tools import DOCKER, ROOT

PINNED = re.compile(r"^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$")
IMAGES = {
    "rasa": DOCKER / "rasa.Dockerfile",
    "actions": DOCKER / "actions.Dockerfile",
    "api": DOCKER / "api.Dockerfile",
}
PORTS = {"rasa": "5005", "actions": "5055", "api": "8000"}
TRACKED = set(
    subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
)
FIRST_PARTY = {
    p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").is_file()
}


@pytest.fixture(scope="module")
def ignore() -> DockerIgnore:
    return DockerIgnore((ROOT / ".dockerignore").read_text())


def _dockerfile(image: str) -> Dockerfile:
    return parse(IMAGES[image])


def _copied_from_context(dockerfile: Dockerfile) -> list[str]:
    sources = []
    for arguments in dockerfile.all("COPY"):
        stage, paths = copy_sources(arguments)
        if stage is None:
            sources.extend(paths)
    return sources


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_base_images_are_pinned_by_tag_and_digest(image: str) -> None:
    dockerfile = _dockerfile(image)
    stage_names = {s.name for s in dockerfile.stages if s.name}
    for stage in dockerfile.stages:
        if stage.image in stage_names or stage.image.startswith("model-"):
            continue
        assert PINNED.match(stage.image), f"{image}: {stage.image} is not tag@sha256"


@pytest.mark.parametrize(
    ("image", "python"), [("rasa", "3.10"), ("actions", "3.10"), ("api", "3.12")]
)
def test_python_version_of_each_image(image: str, python: str) -> None:
    final = _dockerfile(image).final
    assert final.image.startswith(f"python:{python}"), final.image


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_multi_stage_non_root_with_healthcheck(image: str) -> None:
    dockerfile = _dockerfile(image)
    assert len(dockerfile.stages) >= 2, "dependencies are built in a separate stage"
    final = dockerfile.final
    users = final.all("USER")
    assert users, f"{image}: the runtime stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"{image}: USER {users[-1]}"
    healthchecks = final.all("HEALTHCHECK")
    assert len(healthchecks) == 1 and PORTS[image] in healthchecks[0]
    assert final.all("EXPOSE") == [PORTS[image]]
    assert final.all("CMD") or final.all("ENTRYPOINT")
    # The build tools stay in the build stages.
    assert not any("uv" in a.split() for a in final.all("RUN"))


@pytest.mark.parametrize("image", ["rasa", "actions"])
def test_bot_images_install_the_root_lock(image: str) -> None:
    dockerfile = _dockerfile(image)
    assert "pyproject.toml uv.lock ./" in dockerfile.all("COPY")
    syncs = [r for r in dockerfile.all("RUN") if "uv sync" in r]
    assert syncs and all("--frozen" in r and "--no-dev" in r for r in syncs)


def test_api_image_builds_the_dashboard_and_installs_the_api_lock() -> None:
    dockerfile = _dockerfile("api")
    dashboard = dockerfile.stage("dashboard")
    assert dashboard.image.startswith("node:")
    runs = dashboard.all("RUN")
    assert "npm ci" in runs and any("npm run build" in r for r in runs)
    assert "dashboard/package.json dashboard/package-lock.json ./" in dashboard.all(
        "COPY"
    )
    deps = dockerfile.stage("deps")
    assert "api/pyproject.toml api/uv.lock ./" in deps.all("COPY")
    assert any("uv sync --frozen --no-dev" in r for r in deps.all("RUN"))
    final_copies = dockerfile.final.all("COPY")
    assert any("--from=dashboard" in c and "dashboard/dist" in c for c in final_copies)


def test_rasa_image_trains_on_training_data_only_or_copies_the_model() -> None:
    dockerfile = _dockerfile("rasa")
    assert dockerfile.global_args["MODEL_SOURCE"] == "train"
    train = dockerfile.stage("model-train")
    (command,) = [r for r in train.all("RUN") if "rasa train" in r]
    assert "--data data/nlu data/rules data/stories" in command
    assert "data/tests" not in command and "--fixed-model-name easyflow" in command
    assert dockerfile.stage("model-copy").all("COPY") == [
        "models/easyflow.tar.gz models/easyflow.tar.gz"
    ]
    assert dockerfile.final.all("ENTRYPOINT") == ['["easyflow-rasa"]']


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_every_copied_path_is_in_the_build_context(
    image: str, ignore: DockerIgnore
) -> None:
    for source in _copied_from_context(_dockerfile(image)):
        path = ROOT / source
        assert not ignore.excluded(source), f"{image}: {source} is in .dockerignore"
        if source == "models/easyflow.tar.gz":
            continue  # made by `make train`, for MODEL_SOURCE=copy only
        assert path.exists(), f"{image}: COPY {source}: not in the repository"
        assert source in TRACKED or any(
            t.startswith(source) for t in TRACKED
        ), f"{image}: COPY {source}: not tracked by git, a clean clone lacks it"
        if path.is_dir():
            files = [p for p in path.rglob("*") if p.is_file()]
            kept = [p for p in files if not ignore.excluded(str(p.relative_to(ROOT)))]
            assert kept, f"{image}: everything in {source} is in .dockerignore"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _copied_packages(image: str) -> set[str]:
    return {
        source.rstrip("/")
        for source in _copied_from_context(_dockerfile(image))
        if source.rstrip("/") in FIRST_PARTY
    }


def _class_paths(path: Path) -> set[str]:
    """Top-level packages of the class paths a Rasa config file loads."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and key.count(".") >= 2:
                    found.add(key.split(".")[0])
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str) and re.fullmatch(r"[a-z_]+(\.\w+){2,}", node):
            found.add(node.split(".")[0])

    walk(yaml.safe_load(path.read_text()))
    return found & FIRST_PARTY


@pytest.mark.parametrize("image", ["rasa", "actions"])
def test_image_holds_every_first_party_package_it_imports(image: str) -> None:
    packages = _copied_packages(image)
    entry = {"rasa": {"bot", "connectors"}, "actions": {"actions"}}[image]
    assert entry <= packages
    if image == "rasa":
        for config in ("config.yml", "credentials.yml", "endpoints.yml"):
            missing = _class_paths(ROOT / config) - packages
            assert not missing, f"{config} loads {missing}, not in the rasa image"
    for package in packages:
        for module in (ROOT / package).rglob("*.py"):
            missing = (_imports(module) & FIRST_PARTY) - packages
            assert not missing, f"{module.relative_to(ROOT)} imports {missing}"


def test_dockerignore_keeps_secrets_and_local_state_out(ignore: DockerIgnore) -> None:
    for path in (
        ".env",
        ".env.production",
        ".git/config",
        ".venv/bin/python",
        "deploy/.venv/bin/python",
        "api/.venv/bin/python",
        "dashboard/node_modules/vite/package.json",
        "var/demo_store.sqlite",
        "models/old.tar.gz",
        "actions/__pycache__/server.cpython-310.pyc",
        "tests/conftest.py",
    ):
        assert ignore.excluded(path), path
    for path in (
        ".env.example",
        "models/easyflow.tar.gz",
        "uv.lock",
        "dashboard/package-lock.json",
        "dashboard/src/main.tsx",
        "deploy/docker/rasa-entrypoint.sh",
    ):
        assert not ignore.excluded(path), path
