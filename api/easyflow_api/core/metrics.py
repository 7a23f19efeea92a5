"""Prometheus metrics of the api process (one set per process)."""

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "easyflow_api_requests_total",
    "HTTP requests served, by method, route template and status code",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "easyflow_api_request_latency_seconds",
    "HTTP request latency in seconds, by route template",
    ["route"],
)
EVENTS_INGESTED = Counter(
    "easyflow_events_ingested_total",
    "Rasa events stored for the first time (duplicates not counted), by source",
    ["source"],
)
EVENTS_DUPLICATE = Counter(
    "easyflow_events_duplicate_total",
    "Rasa events received again and skipped by the dedupe hash, by source",
    ["source"],
)
INGEST_LAG = Gauge(
    "easyflow_ingest_lag_seconds",
    "Age (now minus Rasa timestamp) of the newest event in the last committed "
    "ingest batch; 0 when the last poll found nothing new",
)

for _source in ("sql", "rabbitmq", "seed"):
    EVENTS_INGESTED.labels(source=_source)
    EVENTS_DUPLICATE.labels(source=_source)
