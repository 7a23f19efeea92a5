"""common/metrics.py: the exposition page read back with prometheus-client's own
parser, and multiprocess mode with real processes sharing one folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from common.metrics import CONTENT_TYPE, Registry, multiprocess_dir
from common.settings import SettingsError

ROOT = Path(__file__).resolve().parents[2]


def _samples(page: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }


def test_metrics_render_in_prometheus_text_format() -> None:
    """The page the hand-written registry used to print, sample for sample."""
    registry = Registry({})
    counter = registry.counter("x_total", "Things.", ["channel"])
    plain = registry.counter("y_total", "Plain.")
    histogram = registry.histogram("z_seconds", "Time.", ["a"], buckets=[0.1, 1])
    counter.inc(channel='te"le\\gram')
    counter.inc(2, channel="rest")
    histogram.observe(0.05, a="q")
    histogram.observe(0.5, a="q")
    histogram.observe(7, a="q")
    page = registry.render()

    families = {f.name: f for f in text_string_to_metric_families(page)}
    assert {name: (f.type, f.documentation) for name, f in families.items()} == {
        "x": ("counter", "Things."),
        "y": ("counter", "Plain."),
        "z_seconds": ("histogram", "Time."),
    }
    assert _samples(page) == {
        ("x_total", (("channel", "rest"),)): 2.0,
        ("x_total", (("channel", 'te"le\\gram'),)): 1.0,
        ("y_total", ()): 0.0,
        ("z_seconds_bucket", (("a", "q"), ("le", "0.1"))): 1.0,
        ("z_seconds_bucket", (("a", "q"), ("le", "1.0"))): 2.0,
        ("z_seconds_bucket", (("a", "q"), ("le", "+Inf"))): 3.0,
        ("z_seconds_sum", (("a", "q"),)): 7.55,
        ("z_seconds_count", (("a", "q"),)): 3.0,
    }
    # The text lines Prometheus, the alert rules and metric_sum() read.
    assert 'x_total{channel="te\\"le\\\\gram"} 1.0' in page.splitlines()
    assert "y_total 0.0" in page.splitlines()
    assert "_created" not in page
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"
    assert plain.value() == 0
    assert counter.value(channel="rest") == 2
    assert histogram.count(a="q") == 3
    with pytest.raises(ValueError):
        counter.inc(action="x")
    with pytest.raises(ValueError):
        counter.inc()
    with pytest.raises(ValueError):
        plain.inc(channel="rest")
    with pytest.raises(ValueError):
        counter.inc(-1, channel="rest")


def test_a_multiprocess_folder_must_exist(tmp_path: Path) -> None:
    assert multiprocess_dir({}) is None
    assert multiprocess_dir({"PROMETHEUS_MULTIPROC_DIR": " "}) is None
    assert multiprocess_dir({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}) == tmp_path
    with pytest.raises(SettingsError, match="PROMETHEUS_MULTIPROC_DIR"):
        Registry({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "missing")})


# One worker: declares the metrics, counts, and exits.
WORKER = """
import sys
from common.metrics import Registry
registry = Registry()
messages = registry.counter("w_messages_total", "Messages.", ["channel"])
latency = registry.histogram("w_latency_seconds", "Time.", ["channel"], buckets=[1])
fallbacks = registry.counter("w_fallbacks_total", "Fallbacks.")
for _ in range(int(sys.argv[1])):
    messages.inc(channel="telegram")
    latency.observe(0.5, channel="telegram")
fallbacks.inc(int(sys.argv[2]))
"""


def _workers(folder: Path, *counts: tuple[int, int]) -> None:
    """Runs one worker process per ``(messages, fallbacks)``, all at once."""
    env = {"PROMETHEUS_MULTIPROC_DIR": str(folder), "PYTHONPATH": str(ROOT)}
    running = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(messages), str(fallbacks)],
            cwd=ROOT,
            env=env,
        )
        for messages, fallbacks in counts
    ]
    assert [process.wait(timeout=60) for process in running] == [0] * len(counts)


def test_two_processes_sharing_a_folder_expose_one_sum(tmp_path: Path) -> None:
    shared, other = tmp_path / "replica-1", tmp_path / "replica-2"
    shared.mkdir()
    other.mkdir()
    _workers(shared, (3, 1), (4, 2))
    _workers(other, (1, 0))
    assert len(list(shared.glob("counter_*.db"))) == 2

    page = Registry({"PROMETHEUS_MULTIPROC_DIR": str(shared)}).render()
    samples = _samples(page)
    telegram = (("channel", "telegram"),)
    assert samples[("w_messages_total", telegram)] == 7
    assert samples[("w_fallbacks_total", ())] == 3
    assert samples[("w_latency_seconds_count", telegram)] == 7
    assert samples[("w_latency_seconds_sum", telegram)] == 3.5
    assert samples[("w_latency_seconds_bucket", (*telegram, ("le", "1.0")))] == 7
    families = {f.name: f.type for f in text_string_to_metric_families(page)}
    assert families == {
        "w_messages": "counter",
        "w_fallbacks": "counter",
        "w_latency_seconds": "histogram",
    }
    # Another replica's folder holds only its own worker.
    alone = _samples(Registry({"PROMETHEUS_MULTIPROC_DIR": str(other)}).render())
    assert alone[("w_messages_total", telegram)] == 1
