"""common/logging.py: what a process prints once it is configured, read back as
JSON lines. Each case runs in a process of its own (logging set-up is global)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.emulators import free_port

ROOT = Path(__file__).resolve().parents[2]


def _lines(script: str) -> list[dict[str, Any]]:
    """Runs ``script`` after ``configure_logging("test")``; its stderr as JSON."""
    code = "from common.logging import configure_logging\n"
    code += 'configure_logging("test")\n' + textwrap.dedent(script)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in done.stderr.splitlines()]


def test_a_stdlib_warning_with_extra_fields_is_one_json_line() -> None:
    (line,) = _lines(
        """
        import logging
        from common.logging import bind_context
        bind_context(sender_id="telegram:42")
        logging.getLogger("actions.x").warning("x.y", extra={"order_id": "A-1"})
        """
    )
    assert line["event"] == "x.y"
    assert line["level"] == "warning"
    assert line["order_id"] == "A-1"
    assert line["sender_id"] == "telegram:42"
    assert line["logger"] == "actions.x"
    assert line["process"] == "test"
    assert line["timestamp"].endswith("Z")


def test_context_is_bound_per_block_and_cleared() -> None:
    first, second, third, fourth = _lines(
        """
        import logging
        from common.logging import bind_context, bound_context, clear_context
        log = logging.getLogger("t")
        bind_context(sender_id="s-1")
        with bound_context(order_id="A-2"):
            log.info("inside")
        log.info("after", extra={"n": 3})
        clear_context()
        log.info("cleared %s", "with args")
        log.info("two\\nlines")
        """
    )
    assert (first["event"], first["sender_id"], first["order_id"]) == (
        "inside",
        "s-1",
        "A-2",
    )
    assert second["event"] == "after" and second["n"] == 3
    assert "order_id" not in second and second["sender_id"] == "s-1"
    assert third["event"] == "cleared with args" and "sender_id" not in third
    assert fourth["event"] == "two\nlines"


def test_structlog_events_exceptions_and_rendered_rasa_lines() -> None:
    native, failed, rasa, plain, posed = _lines(
        """
        import logging
        import structlog
        structlog.get_logger("rasa.core.processor").info("rasa.event", intent="greet")
        try:
            1 / 0
        except ZeroDivisionError:
            logging.getLogger("t").exception("t.failed", extra={"order_id": "A-3"})
        # A line a structlog logger cached before configure_logging rendered.
        logging.getLogger("rasa.core").info('{"event": "rasa.cached", "k": 2}')
        logging.getLogger("sanic.root").info("{not json")
        logging.getLogger("actions.x").info('{"event": "posed", "level": "critical"}')
        """
    )
    assert native["event"] == "rasa.event" and native["intent"] == "greet"
    assert native["logger"] == "rasa.core.processor" and native["level"] == "info"
    assert failed["level"] == "error" and failed["order_id"] == "A-3"
    assert "ZeroDivisionError" in failed["exception"]
    assert rasa["event"] == "rasa.cached" and rasa["k"] == 2
    assert rasa["process"] == "test"
    assert plain["event"] == "{not json" and plain["logger"] == "sanic.root"
    # Outside Rasa's loggers a JSON-looking message stays the message.
    assert posed["event"] == '{"event": "posed", "level": "critical"}'
    assert posed["level"] == "info"


def test_a_failed_payment_notice_keeps_its_order_id() -> None:
    """The bug: ``payments.notify_failed`` lost the order id in the action
    server's logs. The real notifier against a port where Rasa is not."""
    lines = _lines(
        f"""
        import asyncio
        from actions.proactive.notifier import RasaNotifier
        async def main():
            notifier = RasaNotifier("http://127.0.0.1:{free_port()}")
            try:
                return await notifier.payment_received("telegram:7", "A-10240")
            finally:
                await notifier.close()
        assert asyncio.run(main()) is False
        """
    )
    failed = [line for line in lines if line["event"] == "payments.notify_failed"]
    assert len(failed) == 1, lines
    assert failed[0]["order_id"] == "A-10240"
    assert failed[0]["sender_id"] == "telegram:7"
    assert failed[0]["level"] == "error"
