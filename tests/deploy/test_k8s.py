"""Kubernetes manifests: valid against the Kubernetes JSON schemas (offline, the
schemas ship in the kubernetes-validate wheel) and consistent with each other,
the images and the settings the services read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions.settings import Settings
from outbox.relay import RelayConfig
from tests.deploy.dockerfile import parse
from tests.deploy.tools import DEPLOY, DOCKER, K8S, ROOT, kubernetes_validate, run

MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
# Oldest Kubernetes still supported by the big managed services, and the newest.
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]
PORTS = {"rasa": 5005, "actions": 5055, "api": 8000}
HEALTH_PATHS = {"rasa": "/", "actions": "/health", "api": "/health"}
# The action server is live at once and ready once its passages are embedded.
READY_PATHS = {**HEALTH_PATHS, "actions": "/ready"}


@pytest.fixture(scope="module")
def resources() -> list[dict[str, Any]]:
    docs = []
    for path in MANIFESTS:
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def _find(resources: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [
        r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name
    ]
    assert len(matches) == 1, f"{kind}/{name}"
    return matches[0]


def _pod_specs(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        r["metadata"]["name"]: r["spec"]["template"]["spec"]
        for r in resources
        if r["kind"] in ("Deployment", "Job")
    }


def _container_env(pod: dict[str, Any], config: dict[str, str]) -> dict[str, str]:
    """What the container sees: the ConfigMap, then made-up values for Secrets."""
    (container,) = pod["containers"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            assert source["configMapRef"]["name"] == "easyflow-config"
            env.update(config)
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            key = item["valueFrom"]["secretKeyRef"]["key"]
            env[item["name"]] = {
                "EASYFLOW_DATABASE_URL": "postgresql://u:p@db:5432/easyflow",
                "EASYFLOW_RABBITMQ_URL": "amqp://u:p@mq:5672/",
                "EASYFLOW_REDIS_URL": "redis://:p@redis:6379/0",
            }.get(key, f"{key.lower()}-0123456789abcdef")
    return env


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_manifests_match_the_kubernetes_schemas(version: str) -> None:
    result = run(
        [kubernetes_validate(), "--strict", "-k", version, *map(str, MANIFESTS)]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    passed = [line for line in result.stdout.splitlines() if " passed " in line]
    count = sum(1 for p in MANIFESTS for d in yaml.safe_load_all(p.read_text()) if d)
    assert len(passed) == count, result.stdout


def test_the_validator_rejects_a_broken_manifest(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (K8S / "rasa.yaml").read_text().replace("containerPort:", "containerPorts:")
    )
    result = run([kubernetes_validate(), "--strict", str(broken)])
    assert result.returncode != 0
    assert "did not validate for resource deployment/rasa" in result.stdout


def test_kustomization_lists_every_manifest_and_image(
    resources: list[dict[str, Any]],
) -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["namespace"] == "easyflow"
    assert sorted(kustomization["resources"]) == sorted(p.name for p in MANIFESTS)
    images = {
        c["image"].split(":")[0]
        for pod in _pod_specs(resources).values()
        for c in pod["containers"]
    }
    assert images == {i["name"] for i in kustomization["images"]}
    assert images == {"easyflow/rasa", "easyflow/actions", "easyflow/api"}


def test_no_secret_values_in_git(resources: list[dict[str, Any]]) -> None:
    assert not [r for r in resources if r["kind"] == "Secret"]
    config = _find(resources, "ConfigMap", "easyflow-config")["data"]
    for key, value in config.items():
        assert not re.search(r"PASSWORD|SECRET|TOKEN", key), key
        assert not re.search(r"://[^/@]+:[^/@]+@", value), f"{key} holds a password"
    for name, pod in _pod_specs(resources).items():
        for item in pod["containers"][0].get("env", []):
            assert "valueFrom" in item, f"{name}: {item['name']} is written inline"
            assert item["valueFrom"]["secretKeyRef"]["name"] == "easyflow-secrets"


def test_secret_keys_are_documented(resources: list[dict[str, Any]]) -> None:
    readme = (DEPLOY / "README.md").read_text()
    keys = {
        item["valueFrom"]["secretKeyRef"]["key"]
        for pod in _pod_specs(resources).values()
        for item in pod["containers"][0].get("env", [])
    }
    for key in keys:
        assert key in readme, f"deploy/README.md does not explain {key}"
    assert "easyflow-secrets" in readme and "easyflow-bot-secrets" in readme


@pytest.mark.parametrize("name", sorted(PORTS))
def test_deployments_have_probes_resources_and_run_as_non_root(
    resources: list[dict[str, Any]], name: str
) -> None:
    pod = _find(resources, "Deployment", name)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    port_names = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port_names == {"http": PORTS[name]}
    for probe, paths in (
        ("livenessProbe", HEALTH_PATHS),
        ("readinessProbe", READY_PATHS),
    ):
        http = container[probe]["httpGet"]
        assert http["port"] == "http" and http["path"] == paths[name]
    healthcheck = parse(DOCKER / f"{name}.Dockerfile").final.all("HEALTHCHECK")[0]
    assert f"127.0.0.1:{PORTS[name]}{HEALTH_PATHS[name]}'" in healthcheck
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}, kind
    assert pod["securityContext"]["runAsUser"] != 0


def test_every_pod_meets_the_restricted_pod_security_standard(
    resources: list[dict[str, Any]],
) -> None:
    namespace = _find(resources, "Namespace", "easyflow")
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    for name, pod in _pod_specs(resources).items():
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert context["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert security["readOnlyRootFilesystem"] is True, name
            mounted = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounted, f"{name}: a read-only root needs a /tmp"


def test_services_select_their_deployments(resources: list[dict[str, Any]]) -> None:
    for name, port in PORTS.items():
        service = _find(resources, "Service", name)["spec"]
        assert "clusterIP" not in service
        labels = _find(resources, "Deployment", name)["spec"]["template"]["metadata"][
            "labels"
        ]
        assert service["selector"].items() <= labels.items()
        assert service["ports"] == [
            {"name": "http", "port": port, "targetPort": "http"}
        ]


def test_ingress_routes(resources: list[dict[str, Any]]) -> None:
    ingress = _find(resources, "Ingress", "easyflow")["spec"]
    (rule,) = ingress["rules"]
    assert ingress["tls"][0]["hosts"] == [rule["host"]]
    routes = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert routes == {
        "/webhooks": "rasa",
        "/socket.io": "rasa",
        "/pay": "actions",
        "/payments": "actions",
        # Only these two of /orders: signed or token-checked platform calls.
        "/orders/shopify/webhook": "actions",
        "/orders/bitrix24/events": "actions",
        "/api": "api",
        "/": "api",
    }
    for path in rule["http"]["paths"]:
        assert path["backend"]["service"]["port"] == {"name": "http"}
        exact = path["path"].startswith("/orders/")
        assert path["pathType"] == ("Exact" if exact else "Prefix")


@pytest.mark.parametrize(("name", "minimum"), [("rasa", 2), ("actions", 1)])
def test_cpu_autoscaling(
    resources: list[dict[str, Any]], name: str, minimum: int
) -> None:
    hpa = _find(resources, "HorizontalPodAutoscaler", name)
    assert hpa["apiVersion"] == "autoscaling/v2"
    spec = hpa["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    assert spec["minReplicas"] == minimum < spec["maxReplicas"]
    (metric,) = spec["metrics"]
    assert metric["resource"]["name"] == "cpu"
    deployment = _find(resources, "Deployment", name)
    assert deployment["spec"]["replicas"] == minimum
    assert (
        "cpu"
        in deployment["spec"]["template"]["spec"]["containers"][0]["resources"][
            "requests"
        ]
    )


def test_migration_job_upgrades_the_api_database(
    resources: list[dict[str, Any]],
) -> None:
    job = _find(resources, "Job", "easyflow-api-migrate")["spec"]
    (container,) = job["template"]["spec"]["containers"]
    assert container["image"] == "easyflow/api:0.1.0"
    assert container["command"] == ["python", "-m", "easyflow_api", "migrate"]
    names = {e["name"] for e in container["env"]}
    assert "EASYFLOW_API_DATABASE_URL" in names
    assert job["template"]["spec"]["restartPolicy"] in ("OnFailure", "Never")


def test_pods_are_scraped_under_the_job_names_of_the_alerts(
    resources: list[dict[str, Any]],
) -> None:
    scraped = {}
    for deployment in (r for r in resources if r["kind"] == "Deployment"):
        template = deployment["spec"]["template"]
        annotations = template["metadata"].get("annotations", {})
        if annotations.get("prometheus.io/scrape") == "true":
            job = template["metadata"]["labels"]["app.kubernetes.io/name"]
            scraped[job] = int(annotations["prometheus.io/port"])
            assert annotations["prometheus.io/path"] == "/metrics"
    assert scraped == PORTS


def test_rasa_pods_get_every_variable_of_the_production_endpoints(
    resources: list[dict[str, Any]],
) -> None:
    config = _find(resources, "ConfigMap", "easyflow-config")["data"]
    env = _container_env(_pod_specs(resources)["rasa"], config)
    lines = [
        line
        for line in (ROOT / "endpoints.production.yml").read_text().splitlines()
        if not line.lstrip().startswith("#")
    ]
    needed = set(re.findall(r"\$\{(\w+)\}", "\n".join(lines)))
    assert needed <= set(env), needed - set(env)
    assert env["EASYFLOW_PROFILE"] == "production"
    assert "EASYFLOW_RASA_TOKEN" in env


def test_action_server_and_outbox_accept_the_cluster_settings(
    resources: list[dict[str, Any]], tmp_path: Path
) -> None:
    config = _find(resources, "ConfigMap", "easyflow-config")["data"]
    pods = _pod_specs(resources)
    env = _container_env(pods["actions"], config)
    env["EASYFLOW_DATA_DIR"] = str(tmp_path)
    env["EASYFLOW_KNOWLEDGE_DIR"] = str(ROOT / "data" / "knowledge")
    settings = Settings.from_env(env)
    settings.require_action_token()
    assert settings.environment.value == "production"
    outbox = pods["outbox"]["containers"][0]
    assert outbox["command"] == ["python", "-m", "outbox"]
    relay = RelayConfig.from_env(_container_env(pods["outbox"], config))
    assert relay.queue == config["EASYFLOW_RABBITMQ_QUEUE"] == "rasa_events"
    assert config["EASYFLOW_API_INGEST"] == "rabbitmq"


def test_prometheus_finds_every_pod_through_headless_services(
    resources: list[dict[str, Any]],
) -> None:
    config = yaml.safe_load(
        (DEPLOY / "monitoring" / "prometheus" / "prometheus.k8s.yml").read_text()
    )
    jobs = {
        job["job_name"]: job["dns_sd_configs"][0] for job in config["scrape_configs"]
    }
    assert set(jobs) == set(PORTS)
    for name, port in PORTS.items():
        service = _find(resources, "Service", f"{name}-metrics")["spec"]
        assert service["clusterIP"] == "None"
        assert service["selector"] == {"app.kubernetes.io/name": name}
        assert jobs[name]["names"] == [f"{name}-metrics.easyflow.svc.cluster.local"]
        assert jobs[name]["port"] == port == service["ports"][0]["port"]
