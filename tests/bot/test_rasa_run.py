"""bot/rasa_run.py: the API token reaches Rasa's parser, never the command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.rasa_run import LaunchError, arguments
from tests.servers import ROOT


def test_the_token_from_the_environment_is_appended() -> None:
    argv = ["run", "-m", "models/x.tar.gz", "--enable-api"]
    env = {"EASYFLOW_RASA_TOKEN": " s3cret "}

    assert arguments(argv, env) == [*argv, "--auth-token", "s3cret"]
    assert arguments(["shell"], {}) == ["shell"]


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (["run", "--enable-api"], {}, "needs a token"),
        (["run", "--enable-api"], {"EASYFLOW_RASA_TOKEN": "  "}, "needs a token"),
        (["run", "--auth-token", "x"], {"EASYFLOW_RASA_TOKEN": "t"}, "not --auth"),
        (["run", "--auth-token=x"], {}, "not --auth-token"),
    ],
)
def test_an_open_api_or_a_visible_token_is_refused(
    argv: list[str], env: dict[str, str], says: str
) -> None:
    with pytest.raises(LaunchError, match=says):
        arguments(argv, env)


def test_the_launcher_stops_before_loading_a_model() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.rasa_run", "run", "--enable-api"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "EASYFLOW_RASA_TOKEN" in result.stderr
