"""A bounded dialogue-fuzzer run (tests/dialogue_fuzz.py): zero invariant breaks.

The trained agent with the real action server plays random conversations (dev-set
messages, form answers, topic switches, typed payloads, both languages); every
turn must answer once to three times, without repeats, end listening, with no
failed action, in the shopper's language, and with no typed system intent.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.dialogue_fuzz import fuzz
from tests.servers import action_server, agent_for

CONVERSATIONS = 300


def test_random_conversations_keep_every_turn_invariant(tmp_path: Path) -> None:
    with action_server(tmp_path) as url:
        agent = agent_for(url)
        report = asyncio.run(fuzz(agent, CONVERSATIONS, seed=20261205))

    assert report.conversations == CONVERSATIONS
    assert report.turns >= 2 * CONVERSATIONS
    assert not report.violations, report.summary()
