"""bot/rasa_run.py: the API token reaches Rasa's parser, never the command line."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from bot.rasa_run import LaunchError, arguments, quiet_start, serving_threads
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


def test_servers_get_one_tensorflow_thread_per_pool_unless_told() -> None:
    env = {"TF_INTER_OP_PARALLELISM_THREADS": "2"}
    serving_threads(["run", "-m", "x"], env)
    assert env == {
        "TF_INTER_OP_PARALLELISM_THREADS": "2",  # the operator's choice stays
        "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    }
    training: dict[str, str] = {}
    serving_threads(["train"], training)
    assert training == {}


def test_rasa_applies_the_serving_threads_to_tensorflow() -> None:
    code = (
        "import os\n"
        "from bot.rasa_run import serving_threads\n"
        "serving_threads(['shell'], os.environ)\n"
        "from rasa.utils.tensorflow.environment import setup_tf_environment\n"
        "setup_tf_environment()\n"
        "import tensorflow as tf\n"
        "print(tf.config.threading.get_intra_op_parallelism_threads(),"
        " tf.config.threading.get_inter_op_parallelism_threads())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["1", "1"]


@pytest.mark.parametrize(("command", "off"), [("run", True), ("shell", True)])
def test_servers_start_without_the_cyclic_collector(command: str, off: bool) -> None:
    try:
        quiet_start([command, "-m", "x"])
        assert gc.isenabled() is not off
    finally:
        gc.enable()


def test_training_keeps_the_collector() -> None:
    quiet_start(["train"])
    quiet_start([])
    assert gc.isenabled()
