"""Where a message's time goes inside the Rasa process.

Loads a trained model in this process with the project's endpoints (the action
server must be running at ``--actions``), plays the serving benchmark's
conversations ``--rounds`` times through ``Agent.handle_text`` under cProfile, and
prints the wall time per message and the functions with the most cumulative time.

    .venv/bin/python -m bench.profile_turn --model models/easyflow.tar.gz \
        --actions http://127.0.0.1:5055/webhook [--action-token T] \
        [--no-tracker-store] [--plain-sqlite] [--no-ted-cache] [--speedups] \
        [--no-vector-cache]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import os
import pstats
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bench.serving import OUR_CONVERSATIONS, ROOT


async def play(agent, rounds: int) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    count = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for conversation in OUR_CONVERSATIONS:
            sender = uuid.uuid4().hex
            for text in conversation:
                await agent.handle_text(text, sender_id=sender)
                count += 1
    return count, time.perf_counter() - started


def project_stores(work: Path, plain_sqlite: bool) -> tuple[Any, Any]:
    """The tracker store and event broker of ``endpoints.yml``, files in ``work``.

    ``plain_sqlite``: Rasa's own ``SQL`` types instead (the before figure of
    ``bot/stores/local_sqlite.py``).
    """
    from rasa.utils.endpoints import EndpointConfig

    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text("utf-8"))
    stores = []
    for key in ("tracker_store", "event_broker"):
        config = dict(endpoints[key])
        config["db"] = str(work / Path(config["db"]).name)
        if plain_sqlite:
            config["type"] = "SQL"
        stores.append(EndpointConfig.from_dict(config))
    return stores[0], stores[1]


def _local_action_token() -> str:
    path = ROOT / "var" / "action_token"
    return path.read_text("utf-8").strip() if path.exists() else ""


def main(argv: Sequence[str] | None = None) -> int:
    from rasa.core.agent import load_agent
    from rasa.core.brokers.broker import EventBroker
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--actions", default="http://127.0.0.1:5055/webhook")
    parser.add_argument(
        "--action-token",
        default=os.environ.get("EASYFLOW_ACTION_TOKEN") or _local_action_token(),
        help="EASYFLOW_ACTION_TOKEN, else var/action_token (what make run made)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-tracker-store", action="store_true")
    parser.add_argument(
        "--plain-sqlite", action="store_true", help="Rasa's SQL types, not WAL"
    )
    parser.add_argument(
        "--no-ted-cache", action="store_true", help="CachedTEDPolicy as TEDPolicy"
    )
    parser.add_argument(
        "--no-vector-cache",
        action="store_true",
        help="encode every English message (bot.nlu.sentence_vectors.RECENT off)",
    )
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--speedups", action="store_true", help="bot.dialogue.speedups")
    args = parser.parse_args(argv)
    # As `rasa run` does: without it every structlog debug line is formatted.
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.INFO)
    configure_structlog(logging.INFO)
    if args.speedups:
        from bot.dialogue import speedups

        speedups.install()

    if args.no_vector_cache:
        from bot.nlu import sentence_vectors

        sentence_vectors.RECENT.size = 0

    work = Path(tempfile.mkdtemp(prefix="easyflow-profile-"))
    endpoints = AvailableEndpoints(
        # The action server's token (actions/access.py), as endpoints.yml sends it.
        action=EndpointConfig(
            args.actions,
            headers={"Authorization": f"Bearer {args.action_token}"},
            enable_selective_domain=yaml.safe_load(
                (ROOT / "endpoints.yml").read_text("utf-8")
            )["action_endpoint"].get("enable_selective_domain", False),
        ),
        nlg=EndpointConfig(
            type="bot.dialogue.nlg.LanguageAwareNLG", action_timeout_s=10
        ),
    )
    agent = asyncio.run(load_agent(model_path=str(args.model), endpoints=endpoints))
    if args.no_ted_cache:
        runner = agent.processor.graph_runner  # type: ignore[union-attr]
        for node in runner._instantiated_nodes.values():  # type: ignore[attr-defined]
            component = getattr(node, "_component", None)
            if component is not None and "prediction_cache_size" in getattr(
                component, "config", {}
            ):
                component.config["prediction_cache_size"] = 0
    if not args.no_tracker_store:
        tracker_store, event_broker = project_stores(work, args.plain_sqlite)
        broker = asyncio.run(EventBroker.create(event_broker))
        agent.tracker_store = TrackerStore.create(
            tracker_store, agent.domain, event_broker=broker
        )
        agent.processor.tracker_store = agent.tracker_store  # type: ignore[union-attr]

    loop = asyncio.new_event_loop()
    loop.run_until_complete(play(agent, 1))  # warm-up
    profiler = cProfile.Profile()
    profiler.enable()
    count, wall = loop.run_until_complete(play(agent, args.rounds))
    profiler.disable()
    print(f"{count} messages, {wall / count * 1000:.1f} ms per message")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
