"""bench.production: the production profile row of the serving bench, for real
(one Rasa replica and one action server behind nginx, PostgreSQL, Redis,
RabbitMQ) for two seconds, and its CPU accounting. Run by ``make test-production``,
which has the model, nginx and the services."""

from __future__ import annotations

import pytest

from bench import production
from bench.__main__ import per_core, render


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
