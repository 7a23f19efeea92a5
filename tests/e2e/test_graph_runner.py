"""The in-order graph runner (bot/dialogue/graph_runner.py) and the rule-match
cache (bot/dialogue/speedups.py) against Rasa's own code.

The trained agent plays random conversations (the dialogue fuzzer's: dev-set
messages, form answers, topic switches, typed payloads, both languages) and
every graph run — each message's NLU and each action prediction — is run a
second time through Rasa's ``DaskGraphRunner`` with every policy computed: the
parse and the winning prediction (action probabilities, policy, events,
flags) must be identical; so must every set of matching rules the cache hands
RulePolicy. Rasa's conversation tests run with both in ``make test-core``
(``--fail-on-prediction-errors``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.runner.dask import DaskGraphRunner

from bot.dialogue import graph_runner, speedups
from tests.dialogue_fuzz import fuzz
from tests.servers import action_server, agent_for

CONVERSATIONS = 150


def _comparable(output: Any) -> Any:
    if isinstance(output, PolicyPrediction):
        return output
    if isinstance(output, list):  # NLU: the parsed messages
        return [message.as_dict() for message in output]
    return output


def _shown(output: Any) -> str:
    if isinstance(output, PolicyPrediction):
        return f"{output.policy_name} #{output.max_confidence_index}"
    return repr(_comparable(output))[:200]


def test_every_prediction_and_parse_equals_rasas_runner(
    tmp_path: Path, monkeypatch: Any
) -> None:
    seen: Counter[str] = Counter()
    mismatches: list[str] = []

    def shadowed(
        runner: DaskGraphRunner,
        inputs: dict[str, Any] | None = None,
        targets: list[str] | None = None,
    ) -> dict[str, Any]:
        ours = graph_runner.InOrderRunner.run(runner, inputs, targets)
        rasas = graph_runner.RASA_RUN(runner, inputs, targets)
        for target, output in ours.items():
            seen[target] += 1
            if _comparable(output) != _comparable(rasas[target]):
                mismatches.append(
                    f"{target}: {_shown(output)} != {_shown(rasas[target])}"
                )
        return ours

    rule_checks: Counter[str] = Counter()

    def checked_rules(self: RulePolicy, lookup: Any, states: Any) -> set[str]:
        cached = speedups._get_possible_keys(self, lookup, states)
        rule_checks[
            "same"
            if cached == speedups._RASA_POSSIBLE_KEYS(self, lookup, states)
            else "different"
        ] += 1
        return cached

    with action_server(tmp_path) as url:
        agent = agent_for(url)  # its generator installs the speed-ups
        assert DaskGraphRunner.run is graph_runner.InOrderRunner.run
        assert RulePolicy._get_possible_keys is speedups._get_possible_keys
        monkeypatch.setattr(DaskGraphRunner, "run", shadowed)
        monkeypatch.setattr(RulePolicy, "_get_possible_keys", checked_rules)
        skipped_before = graph_runner.stats["skipped"]
        report = asyncio.run(fuzz(agent, CONVERSATIONS, seed=20261207))

    assert not mismatches, mismatches[:3]
    assert rule_checks["different"] == 0 and rule_checks["same"] > 4 * CONVERSATIONS
    assert not report.violations, report.summary()
    assert sum(seen.values()) > 4 * CONVERSATIONS
    # Both paths ran: turns decided early (TED or memoization left out) and
    # turns where every policy had to be asked.
    assert graph_runner.stats["skipped"] > skipped_before
    assert graph_runner.stats["all_asked"] > 0
