"""The ``rasa`` command with ``bot.speedups`` installed first.

Lets the serving benchmark measure the speed-ups before they are wired into the
server (``bot.nlg.LanguageAwareNLG`` is where ``action_guard`` is installed):

    .venv/bin/python -m bench.rasa_with_speedups run -m models/easyflow.tar.gz ...
"""

from __future__ import annotations

from bot import speedups


def main() -> None:
    speedups.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
