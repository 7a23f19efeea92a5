"""``rasa run`` with the HTTP API token taken from ``EASYFLOW_RASA_TOKEN`` instead
of the command line.

A process's arguments are readable by every local user (``ps``,
``/proc/<pid>/cmdline``); its environment only by its owner. ``rasa run`` reads
its token only from ``--auth-token``, so this adds that argument inside the
process, where ``ps`` does not see it::

    python -m bot.rasa_run run -m models/easyflow.tar.gz --enable-api ...

``--enable-api`` without a token, or a token given on the command line, is
refused before Rasa loads a model.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from common.settings import environment

TOKEN_VARIABLE = "EASYFLOW_RASA_TOKEN"


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


def main() -> None:
    try:
        argv = arguments(sys.argv[1:], environment())
    except LaunchError as error:
        print(f"Easy Flow: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *argv]
    rasa_main()


if __name__ == "__main__":
    main()
