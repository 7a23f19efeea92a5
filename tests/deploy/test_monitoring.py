"""Prometheus configuration, alert rules (with promtool's unit tests) and the
Grafana dashboards, all against the fixed metric names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.promql import EXPORTED, problems
from tests.deploy.tools import COMPOSE_FILE, GRAFANA, PROMETHEUS, ROOT, promtool, run

RULES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
# The source file that registers each job's metrics.
PRODUCERS = {
    "rasa": ROOT / "connectors" / "metrics.py",
    "actions": ROOT / "actions" / "server.py",
    "api": ROOT / "api" / "easyflow_api" / "core" / "metrics.py",
}


def _alerts() -> list[dict[str, Any]]:
    return [
        rule
        for path in RULES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels = []
    for panel in dashboard["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels


def _dashboard(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus.k8s.yml"])
def test_promtool_accepts_the_configuration(config: str) -> None:
    result = run([promtool(), "check", "config", config], cwd=PROMETHEUS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr
    # rule_files are found relative to the configuration and checked with it.
    assert "rules/easyflow.rules.yml" in result.stdout + result.stderr


def test_promtool_accepts_the_rules() -> None:
    assert RULES
    result = run([promtool(), "check", "rules", *map(str, RULES)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_alerts())} rules found" in result.stdout


def test_alert_unit_tests_pass() -> None:
    assert RULE_TESTS
    result = run([promtool(), "test", "rules", *map(str, RULE_TESTS)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_unit_tests_catch_a_wrong_threshold(tmp_path: Path) -> None:
    """The unit tests fail when an alert's threshold moves (they are not empty)."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    rules = (PROMETHEUS / "rules" / "easyflow.rules.yml").read_text()
    assert 'max(easyflow_ingest_lag_seconds{job="api"}) > 120' in rules
    (tmp_path / "rules" / "easyflow.rules.yml").write_text(
        rules.replace(
            'easyflow_ingest_lag_seconds{job="api"}) > 120',
            'easyflow_ingest_lag_seconds{job="api"}) > 600',
        )
    )
    for test in RULE_TESTS:
        (tmp_path / "tests" / test.name).write_text(test.read_text())
    result = run(
        [
            promtool(),
            "test",
            "rules",
            *(str(tmp_path / "tests" / t.name) for t in RULE_TESTS),
        ]
    )
    assert result.returncode != 0
    assert "EasyFlowIngestLagHigh" in result.stdout + result.stderr


def test_every_alert_has_a_firing_unit_test() -> None:
    tested = {
        case["alertname"]
        for path in RULE_TESTS
        for group in yaml.safe_load(path.read_text())["tests"]
        for case in group.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {rule["alert"] for rule in _alerts()} == tested


def test_the_required_alerts_exist() -> None:
    alerts = {rule["alert"]: rule for rule in _alerts()}
    wanted = {
        "EasyFlowHighFallbackRate": "easyflow_fallbacks_total",
        "EasyFlowActionErrors": "easyflow_action_errors_total",
        "EasyFlowMessageLatencyHigh": "histogram_quantile(0.95",
        "EasyFlowRasaDown": 'up{job="rasa"}',
        "EasyFlowApiDown": 'up{job="api"}',
        "EasyFlowIngestLagHigh": "easyflow_ingest_lag_seconds",
    }
    for name, fragment in wanted.items():
        assert fragment in alerts[name]["expr"], name
    for rule in alerts.values():
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_alert_rules_use_only_the_fixed_metrics() -> None:
    for rule in _alerts():
        assert problems(rule["expr"]) == [], rule["alert"]


def test_scrape_jobs_are_the_jobs_the_rules_select() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert set(EXPORTED) <= jobs


@pytest.mark.parametrize("job", sorted(PRODUCERS))
def test_fixed_metrics_are_the_ones_the_services_register(job: str) -> None:
    source = PRODUCERS[job].read_text()
    for metric in EXPORTED[job]:
        assert f'"{metric}"' in source, f"{PRODUCERS[job]} does not register {metric}"


def test_grafana_provisioning_points_at_prometheus_and_the_dashboards() -> None:
    datasources = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"]
    (source,) = datasources
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    providers = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "easyflow.yml").read_text()
    )["providers"]
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    path = providers[0]["options"]["path"]
    assert f"../monitoring/grafana/dashboards:{path}:ro" in mounts
    assert "../monitoring/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_panels_query_only_the_fixed_metrics(path: Path) -> None:
    dashboard = _dashboard(path)
    uid = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"][0]["uid"]
    panels = [p for p in _panels(dashboard) if p["type"] != "row"]
    assert len({p["id"] for p in _panels(dashboard)}) == len(_panels(dashboard))
    used = set()
    for panel in panels:
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert problems(target["expr"]) == [], (panel["title"], target["expr"])
            used.update(
                m for job in EXPORTED.values() for m in job if m in target["expr"]
            )
    every = {m for job in EXPORTED.values() for m in job}
    assert used == every, f"no panel shows {every - used}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_queries_parse(path: Path, tmp_path: Path) -> None:
    """promtool parses each panel query (as a recording rule)."""
    rules = [
        {
            "record": f"panel_{panel['id']}_{target['refId']}",
            "expr": target["expr"].replace("$__rate_interval", "5m"),
        }
        for panel in _panels(_dashboard(path))
        for target in panel.get("targets", [])
    ]
    file = tmp_path / "panels.yml"
    file.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    result = run([promtool(), "check", "rules", str(file)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout
