"""Rasa's prediction graph run in order, in process, and policies that cannot win
left out.

Rasa 3.6 runs the NLU pipeline and the policies through ``DaskGraphRunner``: for
every message and every predicted action it copies the schema down to the
targets' ancestors, builds a dask task graph, formats a debug line holding the
whole tracker (even with debug logging off) and hands the graph to dask's
scheduler. ``run`` below gives the same outputs from a node order computed once
per set of targets: each node is called with the outputs of the nodes it needs,
exactly as dask calls it.

**Policies that cannot win.** ``DefaultPolicyPredictionEnsemble`` picks the
prediction with the highest confidence, the higher priority on a tie, after
letting "no user" and end-to-end predictions overrule the others. A policy is
skipped only when none of that could make it win:

- a policy before it in priority order predicted an action with confidence 1.0
  (no probability is higher) at a higher priority (a tie loses);
- the latest action was not rejected (the ensemble zeroes a rejected action's
  probability in every prediction);
- it is a ``MemoizationPolicy`` or a ``TEDPolicy`` trained without user text:
  neither ever makes a "no user" or an end-to-end prediction, and neither adds
  events of its own to the turn.

RulePolicy is never skipped (it makes "no user" predictions). Skipped policies
are not computed at all; the ensemble combines the others, as it would have
combined them with the skipped ones losing. ``tests/bot/dialogue/test_graph_runner.py``
checks the predicted action, policy and events against Rasa's runner on every
turn of the conversation tests.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

logger = logging.getLogger(__name__)

SKIP_LOSERS = True
# Rasa's own ``run``, kept for comparison (tests) before ``install`` replaces it.
RASA_RUN = DaskGraphRunner.run
# Ensemble runs that left at least one policy out, and those that asked all.
stats: Counter[str] = Counter()


class _Plan:
    """The nodes to call for one set of targets, in order, and for each ensemble
    node the policy nodes it may leave out (called lazily, highest priority
    first)."""

    def __init__(self, runner: DaskGraphRunner, targets: tuple[str, ...]) -> None:
        schema = runner._graph_schema  # type: ignore[attr-defined]
        nodes: dict[str, GraphNode] = runner._instantiated_nodes  # type: ignore[attr-defined]
        needed = schema.minimal_graph_schema(list(targets)).nodes
        consumers: dict[str, list[str]] = {name: [] for name in needed}
        for name, node in needed.items():
            for parent in node.needs.values():
                if parent in consumers:
                    consumers[parent].append(name)
        self.needs = {name: tuple(node.needs.values()) for name, node in needed.items()}
        self.lazy: dict[str, list[str]] = {}
        deferred: set[str] = set()
        for name in needed:
            if not _is_ensemble(nodes[name]):
                continue
            policies = [
                parent
                for parent in self.needs[name]
                if parent in needed
                and _is_policy(nodes[parent])
                and consumers[parent] == [name]
                and parent not in targets
            ]
            policies.sort(key=lambda parent: -_component(nodes[parent]).priority)
            self.lazy[name] = policies
            deferred.update(policies)
        self.order: list[str] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen or name not in needed:
                return
            seen.add(name)
            for parent in self.needs[name]:
                visit(parent)
            if name not in deferred:
                self.order.append(name)

        for target in targets:
            visit(target)


def _component(node: GraphNode) -> Any:
    return node._component  # type: ignore[attr-defined]


def _is_policy(node: GraphNode) -> bool:
    return isinstance(_component(node), Policy)


def _is_ensemble(node: GraphNode) -> bool:
    return isinstance(_component(node), DefaultPolicyPredictionEnsemble) and (
        node._fn_name == "combine_predictions_from_kwargs"  # type: ignore[attr-defined]
    )


def never_overrules(policy: Any) -> bool:
    """``policy`` never makes a "no user" or end-to-end prediction and adds no
    events of its own."""
    if isinstance(policy, MemoizationPolicy):
        return True
    if isinstance(policy, TEDPolicy):
        return TEXT not in policy.fake_features
    return False


def _rejected_last(tracker: Any) -> bool:
    """The latest action was rejected: the ensemble then zeroes its probability
    in every prediction, so a 1.0 for it decides nothing."""
    if not isinstance(tracker, DialogueStateTracker):
        return True
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecutionRejected):
            return True
        if isinstance(event, ActionExecuted):
            return False
    return False


def _decided(best: PolicyPrediction | None, policy: Any) -> bool:
    """``policy`` cannot beat ``best``."""
    return (
        best is not None
        and best.max_confidence >= 1.0
        and best.policy_priority > policy.priority
        and never_overrules(policy)
    )


class InOrderRunner:
    """What ``DaskGraphRunner.run`` becomes once ``install()`` ran."""

    @staticmethod
    def run(
        runner: DaskGraphRunner,
        inputs: dict[str, Any] | None = None,
        targets: list[str] | None = None,
    ) -> dict[str, Any]:
        schema = runner._graph_schema  # type: ignore[attr-defined]
        nodes: dict[str, GraphNode] = runner._instantiated_nodes  # type: ignore[attr-defined]
        run_targets = tuple(targets if targets else schema.target_names)
        plans: dict[tuple[str, ...], _Plan] = runner.__dict__.setdefault(
            "_easyflow_plans", {}
        )
        plan = plans.get(run_targets)
        if plan is None:
            plan = plans[run_targets] = _Plan(runner, run_targets)
        values: dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in schema.nodes:
                raise GraphRunError(
                    f"Input value '{value}' clashes with a node name. Make sure "
                    f"that none of the input names passed to the `run` method are the "
                    f"same as node names in the graph schema."
                )
            values[name] = (name, value)
        try:
            for name in plan.order:
                lazy = plan.lazy.get(name)
                if lazy is not None:
                    values[name] = _combine(nodes, name, lazy, plan, values)
                    continue
                values[name] = nodes[name](*_arguments(plan.needs[name], values))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(values[target] for target in run_targets)


def _arguments(needs: tuple[str, ...], values: dict[str, Any]) -> list[Any]:
    # As dask: a name nothing provides is passed as the name itself.
    return [values.get(parent, parent) for parent in needs]


def _combine(
    nodes: dict[str, GraphNode],
    name: str,
    policies: list[str],
    plan: _Plan,
    values: dict[str, Any],
) -> tuple[str, Any]:
    best: PolicyPrediction | None = None
    ensemble = nodes[name]
    tracker_input = ensemble._inputs.get("tracker")  # type: ignore[attr-defined]
    tracker = values.get(tracker_input, (None, None))[1]
    may_skip = SKIP_LOSERS and not _rejected_last(tracker)
    skipped = 0
    for policy_name in policies:
        node = nodes[policy_name]
        if may_skip and _decided(best, _component(node)):
            skipped += 1
            continue
        values[policy_name] = node(*_arguments(plan.needs[policy_name], values))
        prediction = values[policy_name][1]
        if best is None or (prediction.max_confidence, prediction.policy_priority) > (
            best.max_confidence,
            best.policy_priority,
        ):
            best = prediction
    received = {
        parent: values[parent][1]
        for parent in plan.needs[name]
        if isinstance(values.get(parent), tuple)
    }
    kwargs = {
        argument: received[parent]
        for argument, parent in ensemble._inputs.items()  # type: ignore[attr-defined]
        if parent in received
    }
    output = ensemble._fn(_component(ensemble), **kwargs)  # type: ignore[attr-defined]
    stats["skipped" if skipped else "all_asked"] += 1
    return name, output


def install() -> None:
    """Every ``DaskGraphRunner`` in this process runs in order; idempotent."""
    DaskGraphRunner.run = InOrderRunner.run  # type: ignore[method-assign,assignment]
