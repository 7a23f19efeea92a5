"""JSON log lines with bound context, the same in every process.

``configure_logging(process)`` sends every record to one handler (stderr) as one
JSON object a line: stdlib ``logging`` records with their ``extra={...}`` fields,
structlog events (Rasa's own), and Sanic's loggers, all with ``event``, ``level``,
``logger``, ``timestamp``, ``process`` and whatever context is bound to the
current task through ``bind_context`` (the action server binds ``sender_id``,
``action`` and the conversation's ``order_id`` for each action call). Our code
keeps calling ``logger.info("area.event", extra={...})``; the extras used to be
dropped by the plain-text format (``payments.notify_failed`` lost its order id).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import structlog
from structlog.types import EventDict, Processor, WrappedLogger

# Loggers that install their own handlers (plain text) and would bypass ours.
OWN_HANDLER_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "rasa")
# Attributes a formatter or a library adds to a record that are not context.
_NOT_CONTEXT = frozenset({"message", "asctime", "color_message"})


def bind_context(**values: Any) -> None:
    """Adds ``values`` to every line logged from this task from now on."""
    structlog.contextvars.bind_contextvars(**values)


def clear_context() -> None:
    """Drops what this task bound (a new request on a kept-alive connection)."""
    structlog.contextvars.clear_contextvars()


@contextmanager
def bound_context(**values: Any) -> Iterator[None]:
    """``values`` on every line logged inside the block, removed after it."""
    with structlog.contextvars.bound_contextvars(**values):
        yield


def _unwrap_rendered(
    _logger: WrappedLogger, _name: str, event_dict: EventDict
) -> EventDict:
    """A structlog logger Rasa cached before we configured structlog still
    renders its event to a JSON string: merge it instead of nesting it. Only
    Rasa's loggers, so text from elsewhere cannot pose as fields."""
    record = event_dict.get("_record")
    if record is None or not record.name.startswith("rasa"):
        return event_dict
    message = event_dict.get("event")
    if isinstance(message, str) and message.startswith("{"):
        try:
            rendered = json.loads(message)
        except ValueError:
            return event_dict
        if isinstance(rendered, dict) and "event" in rendered:
            event_dict.update(rendered)
    return event_dict


def _record_extras(
    _logger: WrappedLogger, _name: str, event_dict: EventDict
) -> EventDict:
    for key in _NOT_CONTEXT:
        event_dict.pop(key, None)
    return event_dict


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is logged (as logging's
    last-resort handler does), never to a stream replaced and closed since."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr


def _process(name: str) -> Processor:
    def add(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("process", name)
        return event_dict

    return add


def configure_logging(
    process: str, level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Makes every log line of this process one JSON object on ``stream``
    (stderr by default)."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _process(process),
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            _unwrap_rendered,
            structlog.stdlib.ExtraAdder(),
            _record_extras,
            *shared,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(default=str, ensure_ascii=False),
        ],
    )
    handler = _CurrentStderr() if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # Python warnings as lines of ``py.warnings``
    for name in OWN_HANDLER_LOGGERS:
        own = logging.getLogger(name)
        for old in list(own.handlers):
            own.removeHandler(old)
        own.propagate = True
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        context_class=dict,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
