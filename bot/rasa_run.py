"""``rasa run`` with the HTTP API token taken from ``EASYFLOW_RASA_TOKEN`` instead
of the command line.

A process's arguments are readable by every local user (``ps``,
``/proc/<pid>/cmdline``); its environment only by its owner. ``rasa run`` reads
its token only from ``--auth-token``, so this adds that argument inside the
process, where ``ps`` does not see it::

    python -m bot.rasa_run run -m models/easyflow.tar.gz --enable-api ...

``--enable-api`` without a token, or a token given on the command line, is
refused before Rasa loads a model.

A server also runs TensorFlow on one thread per pool unless
``TF_INTRA_OP_PARALLELISM_THREADS`` / ``TF_INTER_OP_PARALLELISM_THREADS`` say
otherwise (Rasa applies them at start): a worker handles one message at a time,
its graphs (TED, the MiniLM encoder) are small, and TensorFlow's idle pool
threads spin on the other cores after each run. Serving bench, one worker at 16
shoppers: about 3 ms less CPU per message (bench/README.md).

And a server starts with Python's cyclic garbage collector off: importing Rasa
and TensorFlow and loading the model create millions of objects that all live
on, and the collector walked them again and again, 1.6 s of a 7.8 s start-up
here. ``bot.dialogue.speedups`` collects once, freezes what the loaded model
holds and turns the collector back on as soon as the model is loaded.

With more than one Sanic worker, the workers load the model in turn
(``bot.load_in_turn``): the first answers as soon as one worker alone would.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Mapping, MutableMapping, Sequence

from bot import load_in_turn
from common.settings import environment

TOKEN_VARIABLE = "EASYFLOW_RASA_TOKEN"
SERVING_THREADS = {
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
}


class LaunchError(ValueError):
    """The arguments would open Rasa's API without a token, or print it."""


def arguments(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """``argv`` for Rasa's parser, with the token from ``env`` appended."""
    if any(a == "--auth-token" or a.startswith("--auth-token=") for a in argv):
        raise LaunchError(
            f"pass the token in {TOKEN_VARIABLE}, not --auth-token: "
            "arguments are visible to every local user"
        )
    token = (env.get(TOKEN_VARIABLE) or "").strip()
    if not token:
        if "--enable-api" in argv:
            raise LaunchError(f"{TOKEN_VARIABLE}: --enable-api needs a token")
        return list(argv)
    return [*argv, "--auth-token", token]


def serving_threads(argv: Sequence[str], env: MutableMapping[str, str]) -> None:
    """One TensorFlow thread per pool for ``run`` and ``shell``, unless set."""
    if argv and argv[0] in ("run", "shell"):
        for name, value in SERVING_THREADS.items():
            env.setdefault(name, value)


def quiet_start(argv: Sequence[str]) -> None:
    """No cyclic garbage collection for ``run`` and ``shell`` until the model
    is loaded (``bot.dialogue.speedups.settle_after_load``)."""
    if argv and argv[0] in ("run", "shell"):
        gc.disable()


def main() -> None:
    serving_threads(sys.argv[1:], os.environ)
    quiet_start(sys.argv[1:])
    try:
        argv = arguments(sys.argv[1:], environment())
    except LaunchError as error:
        print(f"Easy Flow: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    from rasa.__main__ import main as rasa_main

    load_in_turn.install(argv, os.environ)
    sys.argv = ["rasa", *argv]
    rasa_main()


if __name__ == "__main__":
    main()
