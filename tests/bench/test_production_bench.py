"""bench.production: the production profile row of the serving bench, for real
(one Rasa replica and one action server behind nginx, PostgreSQL, Redis, RabbitMQ)
for two seconds, and its CPU accounting."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from bench import production
from bench.__main__ import per_core, render


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


BURN = """
import time
end = time.process_time() + 0.3
while time.process_time() < end:
    pass
time.sleep(30)
"""


def test_cpu_counts_the_process_and_its_live_children() -> None:
    parent = os.getpid()
    before = production.cpu_ms({"me": [parent]})["me"]
    child = subprocess.Popen([sys.executable, "-c", BURN])
    try:
        deadline = time.monotonic() + 30
        while production.cpu_ms({"child": [child.pid]})["child"] < 300:
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.05)
        after = production.cpu_ms({"me": [parent]})["me"]
        assert after - before >= 300  # a live child counts in its parent's tree
    finally:
        child.kill()
        child.wait()


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed")
@pytest.mark.skipif(not production.MODEL.exists(), reason="no model: make train")
@pytest.mark.skipif(
    not all(_listening(port) for port in (5432, 6379, 5672)),
    reason="PostgreSQL, Redis and RabbitMQ on 127.0.0.1 are needed",
)
def test_production_row_answers_and_accounts_cpu() -> None:
    result = production.run(2.0, replicas=1, actions=1, levels=(2,))

    (level,) = result["load"]
    assert level["messages"] > 0 and level["errors"] == 0
    assert level["empty_replies"] == 0
    assert level["cpu_ms"] > 0 and level["cores"] > 0
    assert level["msg_per_s_per_core"] > 0
    assert level["cpu_ms_by_process"]["rasa"] > 0
    assert level["cpu_ms_by_process"]["actions"] > 0
    assert sum(level["cpu_ms_by_process"].values()) == pytest.approx(
        level["cpu_ms"], abs=1
    )
    # CPU per message times messages is the total; per core is its inverse.
    assert level["cpu_ms_per_msg"] * level["messages"] == pytest.approx(
        level["cpu_ms"], rel=0.01
    )
    assert level["msg_per_s_per_core"] == pytest.approx(
        1000 / level["cpu_ms_per_msg"], rel=0.02
    )
    assert level["cores"] == pytest.approx(
        level["cpu_ms"] / 1000 / level["cpu_wall_s"], rel=0.02
    )
    assert len(result["rss_replicas_mb"]) == 1 and result["rss_replicas_mb"][0] > 100

    text = render(
        {
            "mode": "quick",
            "when": "now",
            "serving": {"duration_s_per_level": 2.0, "production": result},
        }
    )
    assert f"| production | 2 | {level['msg_per_s']} |" in text
    assert per_core(level) in text
