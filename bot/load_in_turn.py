"""Sanic's workers load the model one after the other, not all at once.

With ``SANIC_WORKERS`` above 1, every worker forked from the server's main
process loads the model before it takes a request. Loading at the same time
they share the cores with each other and with the action server's start: on
this 2-core machine the first answer came 8.7-9.8 s after the start with two
workers, against 6.6-6.9 s with one (``bench/README.md``, ninth pass). In turn,
the first worker loads as fast as one alone and answers while the next loads.

The turn is an exclusive ``flock`` on a file the main process creates before
the fork. Each worker opens the file itself, because a lock belongs to an open
file and one opened before the fork would be shared by all. The kernel lets
the lock go when its holder exits, so a worker that dies while loading does not
stop the next; and a worker waits at most ``WAIT_S`` for its turn, then loads
anyway. Rasa's ``PUT /model`` goes through the same ``load_agent``, so workers
also reload a model in turn.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import functools
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

logger = logging.getLogger(__name__)

WAIT_S = 180.0
POLL_S = 0.05


@contextlib.asynccontextmanager
async def turn(path: str, wait_s: float = WAIT_S) -> AsyncIterator[bool]:
    """Holds the exclusive lock on ``path`` inside the block; yields whether it
    was had (False once ``wait_s`` passed, and the block runs anyway)."""
    with open(path, "a") as handle:
        deadline = time.monotonic() + wait_s
        held = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    logger.warning("load_in_turn.wait_expired", extra={"path": path})
                    break
                await asyncio.sleep(POLL_S)
        try:
            yield held
        finally:
            if held:
                fcntl.flock(handle, fcntl.LOCK_UN)


def in_turn(load: Callable[..., Any], path: str) -> Callable[..., Any]:
    """``load`` (an ``async`` function) run only while holding the turn."""

    @functools.wraps(load)
    async def load_in_turn(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        async with turn(path) as held:
            waited = round(time.monotonic() - started, 2)
            fields = {"pid": os.getpid(), "waited_s": waited, "held": held}
            # Rasa's log format shows the message only: the figures go in it too.
            logger.info(
                "load_in_turn.loading pid=%d waited_s=%.2f held=%s at=%.3f",
                *fields.values(),
                time.time(),
                extra=fields,
            )
            try:
                return await load(*args, **kwargs)
            finally:
                logger.info(
                    "load_in_turn.loaded pid=%d at=%.3f",
                    os.getpid(),
                    time.time(),
                    extra={"pid": os.getpid()},
                )

    return load_in_turn


def workers(env: Mapping[str, str]) -> int:
    try:
        return int(env.get("SANIC_WORKERS", "1"))
    except ValueError:
        return 1  # Rasa says so and uses its default


def install(argv: list[str], env: Mapping[str, str]) -> str | None:
    """For ``rasa run`` with more than one worker: Rasa's ``load_agent`` in
    turn. Call in the main process, before Sanic forks. Returns the lock's path."""
    if not argv or argv[0] != "run" or workers(env) <= 1:
        return None
    import rasa.core.agent

    handle, path = tempfile.mkstemp(prefix="easyflow-model-load-", suffix=".lock")
    os.close(handle)
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # not in a forked worker: the others need it
            with contextlib.suppress(OSError):
                os.unlink(path)

    atexit.register(remove)
    rasa.core.agent.load_agent = in_turn(rasa.core.agent.load_agent, path)
    return path
