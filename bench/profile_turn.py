"""Where a message's time goes inside the Rasa process.

Loads a trained model in this process with the project's endpoints (the action
server must be running at ``--actions``), plays the serving benchmark's
conversations ``--rounds`` times through ``Agent.handle_text`` under cProfile, and
prints the wall time per message and the functions with the most cumulative time.

    .venv/bin/python -m bench.profile_turn --model models/easyflow.tar.gz \
        --actions http://127.0.0.1:5055/webhook [--no-tracker-store] [--speedups]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from bench.serving import OUR_CONVERSATIONS


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


def main(argv: Sequence[str] | None = None) -> int:
    from rasa.core.agent import load_agent
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--actions", default="http://127.0.0.1:5055/webhook")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-tracker-store", action="store_true")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--speedups", action="store_true", help="bot.speedups")
    args = parser.parse_args(argv)
    if args.speedups:
        from bot import speedups

        speedups.install()

    work = Path(tempfile.mkdtemp(prefix="easyflow-profile-"))
    tracker_store = None
    if not args.no_tracker_store:
        tracker_store = EndpointConfig(
            type="SQL", dialect="sqlite", db=str(work / "tracker.db")
        )
    endpoints = AvailableEndpoints(
        action=EndpointConfig(args.actions),
        nlg=EndpointConfig(type="bot.nlg.LanguageAwareNLG", action_timeout_s=10),
        tracker_store=tracker_store,
    )
    agent = asyncio.run(load_agent(model_path=str(args.model), endpoints=endpoints))
    if tracker_store is not None:
        agent.tracker_store = TrackerStore.create(tracker_store, agent.domain)
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
