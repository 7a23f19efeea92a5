"""The fixed metric names of Easy Flow and a reader for the names and labels a
PromQL expression uses (enough for our rules and dashboards, not all of PromQL)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Metric:
    labels: frozenset[str]
    histogram: bool = False


# Per scrape job: the metrics it exports and their labels (the contract).
EXPORTED: dict[str, dict[str, Metric]] = {
    "rasa": {
        "easyflow_messages_total": Metric(frozenset({"channel"})),
        "easyflow_message_latency_seconds": Metric(frozenset({"channel"}), True),
        "easyflow_fallbacks_total": Metric(frozenset()),
        "easyflow_action_errors_total": Metric(frozenset({"action"})),
    },
    "actions": {
        "easyflow_actions_total": Metric(frozenset({"action"})),
        "easyflow_action_latency_seconds": Metric(frozenset({"action"}), True),
        "easyflow_action_errors_total": Metric(frozenset({"action"})),
        "easyflow_llm_latency_seconds": Metric(frozenset({"answerer"}), True),
        "easyflow_fallbacks_total": Metric(frozenset({"answerer"})),
    },
    "api": {
        "easyflow_api_requests_total": Metric(frozenset({"method", "route", "status"})),
        "easyflow_api_request_latency_seconds": Metric(frozenset({"route"}), True),
        "easyflow_events_ingested_total": Metric(frozenset({"source"})),
        "easyflow_ingest_lag_seconds": Metric(frozenset()),
    },
}
TARGET_LABELS = frozenset({"job", "instance"})
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool"}
KEYWORDS |= {"and", "or", "unless", "offset", "inf", "nan"}


@dataclass
class Selector:
    metric: str
    matchers: dict[str, str] = field(default_factory=dict)


def _series_name(name: str) -> tuple[str, str]:
    """(base metric, suffix) of a series name: histograms add _bucket etc."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


def selectors(expr: str) -> list[Selector]:
    text = expr.replace("$__rate_interval", "5m")
    found: list[Selector] = []
    pattern = re.compile(r"([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?(\s*\()?")
    cleaned = re.sub(r"\[[^\]]*\]", "", text)
    cleaned = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", cleaned
    )
    for match in pattern.finditer(cleaned):
        name, braces, call = match.group(1), match.group(2), match.group(3)
        if call and not braces:
            continue  # a function
        if name.lower() in KEYWORDS:
            continue
        start = match.start()
        if start and (cleaned[start - 1].isdigit() or cleaned[start - 1] == "."):
            continue  # part of a number such as 1e3
        matchers = dict(re.findall(r'(\w+)\s*(?:=~|!~|!=|=)\s*"([^"]*)"', braces or ""))
        found.append(Selector(name, matchers))
    return found


def grouping_labels(expr: str) -> set[str]:
    labels: set[str] = set()
    for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
        labels.update(label.strip() for label in group.split(",") if label.strip())
    return labels


def problems(expr: str) -> list[str]:
    """What in `expr` is not part of the contract; empty when all is well."""
    errors: list[str] = []
    used_labels: set[str] = set(TARGET_LABELS)
    for selector in selectors(expr):
        if selector.metric == "up":
            continue
        base, suffix = _series_name(selector.metric)
        jobs = [j for j, metrics in EXPORTED.items() if base in metrics]
        if not jobs:
            errors.append(f"unknown metric {selector.metric}")
            continue
        job = selector.matchers.get("job")
        if job is None:
            errors.append(f"{selector.metric}: select the job (one of {jobs})")
            continue
        if job not in jobs:
            errors.append(f"{selector.metric} is not exported by job {job}")
            continue
        metric = EXPORTED[job][base]
        if suffix and not metric.histogram:
            errors.append(f"{selector.metric}: {base} is not a histogram")
        allowed = metric.labels | TARGET_LABELS | ({"le"} if suffix else set())
        for label in selector.matchers:
            if label not in allowed:
                errors.append(f"{selector.metric} has no label {label}")
        used_labels |= allowed
    for label in grouping_labels(expr) - used_labels:
        errors.append(f"grouping by {label}, which no selected metric has")
    return errors
