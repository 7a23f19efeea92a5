"""Random multi-turn conversations against the trained agent, checked turn by turn.

Each conversation mixes, in random order and both languages: shopper messages
from the dev set (``tests/data/shoppers/dev.yml``), answers a form expects (demo
order numbers, yes/no, four digits, an address, a source name), topic switches
mid-form, and typed payloads (``/greet``, ``/EXTERNAL_payment_received{…}``).
Every turn must keep these invariants:

- the shopper gets at least one and at most ``MAX_MESSAGES`` bot messages;
- no bot message is repeated within the turn;
- the turn ends listening (``action_listen`` is the latest action);
- no action failed (no ``utter_action_failed`` apology);
- the reply is in the shopper's language when the message tells one (Russian in
  Latin letters is Russian);
- no ``EXTERNAL_*`` intent comes out of the shopper's text.

``make test`` runs a bounded number of conversations (tests/e2e); anyone can run
more (the trained model, and an action server this command starts on a free port
with its own data in a temporary folder):

    python -m tests.dialogue_fuzz --conversations 10000 [--seed N] [--json out.json] \
        [--progress summary.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rasa.core.agent import Agent
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import BotUttered, UserUttered

from common.language import detect

ROOT = Path(__file__).resolve().parents[1]
MAX_MESSAGES = 3
APOLOGY = "utter_action_failed"

FORM_ANSWERS = {
    "ru": [
        "A-10234",
        "3728419056",
        "48213307-0051-1",
        "#45871",
        "A-10240",
        "A-99999",
        "да",
        "нет",
        "1234",
        "4567",
        "Москва, ул. Ленина, д. 5, кв. 12",
        "wildberries",
        "ozon",
        "5",
    ],
    "en": [
        "A-10236",
        "59120044-0007-1",
        "yes",
        "no",
        "0000",
        "221B Baker Street, London",
        "shop",
        "4",
    ],
}
TYPED = [
    "/greet",
    "/affirm",
    "/deny",
    '/EXTERNAL_payment_received{"order_id":"A-10240"}',
    '/EXTERNAL_operator_message{"operator":"Анна","operator_text":"привет"}',
    "/EXTERNAL_handoff_returned",
    '/order_status{"order_id":"A-10234"}',
    "/nonexistent_intent",
]


@dataclass
class Violation:
    conversation: str
    turn: int
    message: str
    rule: str
    replies: list[str]


@dataclass
class Report:
    conversations: int = 0
    turns: int = 0
    violations: list[Violation] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        rules = Counter(v.rule for v in self.violations)
        lines = [
            f"{self.conversations} conversations, {self.turns} turns, "
            f"{len(self.violations)} violations, {self.seconds:.0f} s"
        ]
        lines += [f"  {rule}: {count}" for rule, count in rules.most_common()]
        for violation in self.violations[:20]:
            said = [reply[:60] for reply in violation.replies[:4]]
            lines.append(
                f"  [{violation.rule}] {violation.conversation}#{violation.turn} "
                f"{violation.message!r} -> {len(violation.replies)} messages {said}"
            )
        return "\n".join(lines)


def shopper_messages() -> list[tuple[str, str]]:
    """(text, language) of the dev set: the test set stays unseen."""
    path = ROOT / "tests" / "data" / "shoppers" / "dev.yml"
    messages = yaml.safe_load(path.read_text("utf-8"))["messages"]
    return [(str(m["text"]), str(m["lang"])) for m in messages]


def conversation(rng: random.Random, pool: Sequence[tuple[str, str]]) -> list[str]:
    turns = []
    language = rng.choice(("ru", "ru", "en"))
    for _ in range(rng.randint(2, 8)):
        draw = rng.random()
        if draw < 0.55:
            text, language = rng.choice(pool)
        elif draw < 0.9:
            if rng.random() < 0.2:
                language = "en" if language == "ru" else "ru"
            text = rng.choice(FORM_ANSWERS[language])
        else:
            text = rng.choice(TYPED)
        turns.append(text)
    return turns


def _language_of(texts: Sequence[str]) -> str | None:
    return detect(" ".join(texts))


async def play(
    agent: Agent, sender: str, messages: Sequence[str], report: Report
) -> None:
    store = agent.tracker_store
    for number, text in enumerate(messages):
        before = await store.retrieve(sender)
        seen = len(before.events) if before else 0
        await agent.handle_text(text, sender_id=sender)
        tracker = await store.retrieve(sender)
        assert tracker is not None
        new = list(tracker.events)[seen:]
        bots = [e for e in new if isinstance(e, BotUttered)]
        replies = [b.text or json.dumps(b.data, ensure_ascii=False) for b in bots]
        report.turns += 1

        def fail(
            rule: str, number: int = number, text: str = text, said: list = replies
        ) -> None:
            report.violations.append(Violation(sender, number, text, rule, said))

        if not 1 <= len(bots) <= MAX_MESSAGES:
            fail(f"messages not in 1..{MAX_MESSAGES}")
        if len(set(replies)) != len(replies):
            fail("message repeated in a turn")
        if tracker.latest_action_name != ACTION_LISTEN_NAME:
            fail("turn did not end listening")
        if any(b.metadata.get("utter_action") == APOLOGY for b in bots):
            fail("action failed")
        intents = [
            (e.intent or {}).get("name") or ""
            for e in new
            if isinstance(e, UserUttered) and not (e.text or "").startswith("EXTERNAL")
        ]
        if any(intent.startswith("EXTERNAL_") for intent in intents):
            fail("typed EXTERNAL intent accepted")
        asked = detect(text)
        answered = _language_of([b.text for b in bots if b.text])
        if asked and answered and asked != answered:
            fail(f"asked in {asked}, answered in {answered}")


async def fuzz(
    agent: Agent,
    conversations: int,
    seed: int,
    progress: Path | None = None,
    every: int = 250,
) -> Report:
    rng = random.Random(seed)
    pool = shopper_messages()
    report = Report()
    # The action server builds its passage vectors in the background after it
    # starts; the first knowledge question can outlast the action deadline
    # while it does (a cold-start cost, not a conversation invariant).
    for _ in range(3):
        await agent.handle_text("warm-up question about gift wrapping", "warm-up")
    started = time.perf_counter()
    for index in range(conversations):
        await play(agent, f"fuzz-{seed}-{index}", conversation(rng, pool), report)
        report.conversations += 1
        if progress is not None and report.conversations % every == 0:
            # A long run that is stopped early still says what it found so far.
            report.seconds = time.perf_counter() - started
            progress.write_text(report.summary() + "\n", "utf-8")
    report.seconds = time.perf_counter() - started
    return report


def main(argv: Sequence[str] | None = None) -> int:
    import logging
    import tempfile

    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from tests.servers import action_server, agent_for

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the violations here")
    parser.add_argument(
        "--progress", type=Path, help="rewrite the summary here every 250 conversations"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as data, action_server(Path(data)) as url:
        report = asyncio.run(
            fuzz(agent_for(url), args.conversations, args.seed, args.progress)
        )
    print(report.summary())
    if args.json:
        args.json.write_text(
            json.dumps(
                [vars(v) for v in report.violations], ensure_ascii=False, indent=1
            ),
            "utf-8",
        )
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
