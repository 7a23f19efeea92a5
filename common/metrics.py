"""Prometheus metrics of the Rasa process and the action server, on prometheus-client.

Each process declares its metrics on one ``Registry`` and serves ``render()`` at
``GET /metrics`` (text format 0.0.4, no ``_created`` series: the page reads as it
did before the library). The admin API uses the same library.

Multiprocess mode: when ``PROMETHEUS_MULTIPROC_DIR`` names a folder, every process
writes its samples to files there and ``render()`` sums the folder, so several
Sanic workers behind one port serve one page (counters keep the counts of workers
that have exited). prometheus-client picks its value store when it is imported,
so the variable must be in the environment before the process starts; the start
scripts empty the folder before the server starts (not when a worker does), and
give each port its own folder: two replicas sharing one would each report both.
In this mode a labelled metric appears on the page from its first sample on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import prometheus_client
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from common.settings import Reader, SettingsError, environment

CONTENT_TYPE = prometheus_client.CONTENT_TYPE_PLAIN_0_0_4
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

DEFAULT_BUCKETS: tuple[float, ...] = (
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)

prometheus_client.disable_created_metrics()


def multiprocess_dir(env: Mapping[str, str] | None = None) -> Path | None:
    """The shared samples folder, or None in single-process mode."""
    raw = Reader(environment() if env is None else env).raw(MULTIPROCESS_VARIABLE)
    if raw is None:
        return None
    folder = Path(raw)
    if not folder.is_dir():
        raise SettingsError(f"{MULTIPROCESS_VARIABLE}: {raw} is not a folder")
    return folder


class _Metric:
    """One metric with its labels given as keywords, labelled or not."""

    def __init__(
        self,
        metric: prometheus_client.Counter | prometheus_client.Histogram,
        registry: CollectorRegistry,
        name: str,
        labelnames: Sequence[str],
    ) -> None:
        self._metric = metric
        self._registry = registry
        self.name = name
        self.labelnames = tuple(labelnames)

    def _checked(self, labels: dict[str, str]) -> dict[str, str]:
        if set(labels) != set(self.labelnames):
            raise ValueError(
                f"{self.name}: labels {sorted(labels)} != {sorted(self.labelnames)}"
            )
        return {name: str(value) for name, value in labels.items()}

    def _child(self, labels: dict[str, str]) -> Any:  # the library's child metric
        checked = self._checked(labels)
        return self._metric.labels(**checked) if checked else self._metric

    def _sample(self, suffix: str, labels: dict[str, str]) -> float:
        value = self._registry.get_sample_value(
            self.name + suffix, self._checked(labels)
        )
        return value or 0.0


class Counter(_Metric):
    def inc(self, amount: float = 1.0, **labels: str) -> None:
        self._child(labels).inc(amount)

    def value(self, **labels: str) -> float:
        """This process's count (in multiprocess mode too)."""
        return self._sample("", labels)


class Histogram(_Metric):
    def observe(self, value: float, **labels: str) -> None:
        self._child(labels).observe(value)

    def count(self, **labels: str) -> int:
        """This process's number of observations."""
        return int(self._sample("_count", labels))


class Registry:
    """The metrics of one process and the page Prometheus scrapes."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._registry = CollectorRegistry(auto_describe=True)
        self._multiprocess_dir = multiprocess_dir(env)

    def counter(
        self, name: str, help_text: str, labelnames: Sequence[str] = ()
    ) -> Counter:
        metric = prometheus_client.Counter(
            name, help_text, labelnames, registry=self._registry
        )
        return Counter(metric, self._registry, name, labelnames)

    def histogram(
        self,
        name: str,
        help_text: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> Histogram:
        metric = prometheus_client.Histogram(
            name, help_text, labelnames, registry=self._registry, buckets=buckets
        )
        return Histogram(metric, self._registry, name, labelnames)

    def render(self) -> str:
        """The exposition page: this process's metrics, or in multiprocess mode
        the sum over every process writing to the folder."""
        if self._multiprocess_dir is None:
            return generate_latest(self._registry).decode()
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=str(self._multiprocess_dir))
        return generate_latest(merged).decode()
