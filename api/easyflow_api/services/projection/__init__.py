"""Rasa events projected onto the analytics tables: `Projector.apply` is the one
entry point (ingestion, the demo seed and tests call it); one module per table
it writes (conversations, payments, handoffs, inbox, operator echoes) and one
for the slot events that feed several of them."""

from easyflow_api.services.projection.operator_echoes import record_operator_message
from easyflow_api.services.projection.projector import IngestResult, Projector
from easyflow_api.services.projection.rasa_events import (
    FALLBACK_INTENT,
    normalise_text,
)

__all__ = [
    "FALLBACK_INTENT",
    "IngestResult",
    "Projector",
    "normalise_text",
    "record_operator_message",
]
