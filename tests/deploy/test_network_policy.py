"""deploy/k8s/networkpolicy.yaml, evaluated: which pod may open which port.

A small evaluator of the NetworkPolicy semantics the manifests use (pod and
namespace label selectors, ipBlock, ports; policies are additive, a pod selected
by a policy of a direction allows only what some policy allows) walks the flows an
attacker inside the cluster would try and the flows the assistant needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from tests.deploy.tools import K8S

NAMESPACE = "easyflow"


@dataclass(frozen=True)
class Pod:
    name: str  # app.kubernetes.io/name, or a stranger's app label
    namespace: str = NAMESPACE
    labels: dict[str, str] = field(default_factory=dict)

    def all_labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name, **self.labels}


EXTERNAL = Pod("internet", namespace="")  # an address outside the cluster


def _policies() -> list[dict[str, Any]]:
    docs = yaml.safe_load_all((K8S / "networkpolicy.yaml").read_text())
    return [d for d in docs if d and d["kind"] == "NetworkPolicy"]


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = selector.get("matchLabels", {})
    assert not selector.get("matchExpressions"), "evaluator: matchExpressions"
    return all(labels.get(k) == v for k, v in wanted.items())


def _peer_matches(peer: dict[str, Any], other: Pod) -> bool:
    if "ipBlock" in peer:
        return other is EXTERNAL and peer["ipBlock"]["cidr"] == "0.0.0.0/0"
    if other is EXTERNAL:
        return False
    namespace_ok = (
        _matches(
            peer["namespaceSelector"], {"kubernetes.io/metadata.name": other.namespace}
        )
        if "namespaceSelector" in peer
        else other.namespace == NAMESPACE
    )
    pod_ok = _matches(peer.get("podSelector", {}), other.all_labels())
    return namespace_ok and pod_ok


def _port_matches(rules: list[dict[str, Any]] | None, port: int, protocol: str) -> bool:
    if not rules:
        return True
    return any(
        r.get("port") == port and r.get("protocol", "TCP") == protocol for r in rules
    )


def _allowed(pod: Pod, other: Pod, port: int, protocol: str, direction: str) -> bool:
    """Whether ``pod``'s policies of ``direction`` let traffic to/from ``other``."""
    if pod is EXTERNAL or pod.namespace != NAMESPACE:
        return True  # not ours: no policy selects it
    key, peer_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    selecting = [
        p
        for p in _policies()
        if _matches(p["spec"]["podSelector"], pod.all_labels())
        and direction in p["spec"]["policyTypes"]
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get(key, []):
            peers = rule.get(peer_key)
            peer_ok = not peers or any(_peer_matches(peer, other) for peer in peers)
            if peer_ok and _port_matches(rule.get("ports"), port, protocol):
                return True
    return False


def can_connect(src: Pod, dst: Pod, port: int, protocol: str = "TCP") -> bool:
    return _allowed(src, dst, port, protocol, "Egress") and _allowed(
        dst, src, port, protocol, "Ingress"
    )


RASA, ACTIONS, API, OUTBOX = Pod("rasa"), Pod("actions"), Pod("api"), Pod("outbox")
MIGRATE = Pod("api-migrate")
INGRESS = Pod("ingress-nginx", namespace="ingress-nginx")
PROMETHEUS = Pod("prometheus", namespace="monitoring")
DNS = Pod("kube-dns", namespace="kube-system")
STRANGER = Pod("debug-shell", namespace="default")  # any other workload
INSIDER = Pod("debug-shell")  # a stray pod in our own namespace


@pytest.mark.parametrize(
    ("src", "dst", "port"),
    [
        (RASA, ACTIONS, 5055),  # the internal action endpoint
        (API, RASA, 5005),  # handoff, conversation review
        (API, ACTIONS, 5055),
        (ACTIONS, RASA, 5005),  # payment notices through trigger_intent
        (ACTIONS, API, 8000),  # the Shop page's public settings
        (INGRESS, RASA, 5005),
        (INGRESS, ACTIONS, 5055),  # pay pages and payment webhooks
        (INGRESS, API, 8000),
        (PROMETHEUS, RASA, 5005),
        (PROMETHEUS, ACTIONS, 5055),
        (PROMETHEUS, API, 8000),
        (RASA, EXTERNAL, 5432),
        (RASA, EXTERNAL, 6379),
        (RASA, EXTERNAL, 443),  # Telegram, VK… APIs
        (ACTIONS, EXTERNAL, 443),  # marketplaces, payment providers, the LLM
        (API, EXTERNAL, 5672),
        (OUTBOX, EXTERNAL, 5432),
        (OUTBOX, EXTERNAL, 5672),
        (MIGRATE, EXTERNAL, 5432),
    ],
)
def test_the_flows_the_assistant_needs_are_open(src: Pod, dst: Pod, port: int) -> None:
    assert can_connect(src, dst, port)


@pytest.mark.parametrize("pod", [RASA, ACTIONS, API, OUTBOX, MIGRATE])
def test_every_pod_resolves_names(pod: Pod) -> None:
    assert can_connect(pod, DNS, 53, "UDP")
    assert can_connect(pod, DNS, 53, "TCP")


@pytest.mark.parametrize(
    ("src", "dst", "port"),
    [
        (STRANGER, ACTIONS, 5055),  # another namespace calling actions directly
        (INSIDER, ACTIONS, 5055),  # a stray pod in our namespace
        (OUTBOX, ACTIONS, 5055),
        (MIGRATE, ACTIONS, 5055),
        (STRANGER, RASA, 5005),
        (STRANGER, API, 8000),
        (INGRESS, OUTBOX, 8000),
        (RASA, API, 8000),
        (OUTBOX, RASA, 5005),
        (OUTBOX, EXTERNAL, 443),  # the relay talks only to PostgreSQL and RabbitMQ
        (MIGRATE, EXTERNAL, 443),
        (RASA, EXTERNAL, 22),
        (ACTIONS, EXTERNAL, 25),  # no mail relay from a compromised action server
        (INGRESS, ACTIONS, 8080),
        (PROMETHEUS, OUTBOX, 9000),
    ],
)
def test_everything_else_is_denied(src: Pod, dst: Pod, port: int) -> None:
    assert not can_connect(src, dst, port)


def test_the_evaluator_sees_an_open_cluster_without_the_policies() -> None:
    # Guards the evaluator itself: with no policy selecting a pod, all flows pass.
    assert _allowed(STRANGER, ACTIONS, 5055, "TCP", "Egress")
    assert can_connect(EXTERNAL, STRANGER, 1)
