"""The production profile's pieces on their own: the Rasa side's metrics, the generated
credentials, the Redis URL lock store, the fail-closed tracker store, the action
server's start-up refusal without a token."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
import structlog
import yaml
from prometheus_client.parser import text_string_to_metric_families
from rasa.core.agent import Agent
from rasa.core.channels.channel import register
from rasa.core.lock_store import LockError
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.utils.endpoints import EndpointConfig
from sanic import Sanic
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from bot.stores.lock_store import RedisUrlLockStore
from bot.stores.tracker_store import StrictSQLTrackerStore, TrackerStoreUnavailable
from common.logging import OWN_HANDLER_LOGGERS
from common.metrics import CONTENT_TYPE
from connectors import metrics
from connectors.rest import StrictRestInput, conversation_id
from tests import servers
from tests.emulators import free_port

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "production"))
from credentials import production_credentials  # noqa: E402


def test_rasa_side_counts_fallbacks_and_apologies() -> None:
    fallbacks = metrics.FALLBACKS.value()
    errors = metrics.ACTION_ERRORS.value(action="action_check_order")
    apology = BotUttered("sorry", metadata={"utter_action": "utter_action_failed"})
    metrics.record_action("action_check_order", [apology])
    metrics.record_action("action_check_order", [BotUttered("fine", metadata={})])
    metrics.record_action("action_llm_fallback", [])
    assert metrics.ACTION_ERRORS.value(action="action_check_order") == errors + 1
    assert metrics.FALLBACKS.value() == fallbacks + 1


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    """The trained model with its real action server."""
    with servers.action_server(tmp_path_factory.mktemp("parts-actions")) as url:
        yield servers.agent_for(url)


@pytest.fixture
def restored_logging(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """The channel makes the whole process log JSON (to the stderr ``capsys``
    captures, which outlives this fixture): undo it for later tests."""
    loggers = [logging.getLogger(), *map(logging.getLogger, OWN_HANDLER_LOGGERS)]
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate) for lg in loggers]
    config = structlog.get_config()
    yield
    for lg, handlers, level, propagate in saved:
        for handler in list(lg.handlers):
            lg.removeHandler(handler)
        for handler in handlers:
            lg.addHandler(handler)
        lg.setLevel(level)
        lg.propagate = propagate
    structlog.configure(**config)


def _page(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Sample values by name, then by labels, from prometheus-client's parser."""
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = sample.value
    return samples


async def test_rasa_metrics_page_after_real_traffic(
    agent: Agent, restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Shoppers' messages through the strict REST channel and the real model:
    the page parses, counts them, and the process now logs JSON lines."""
    # Without Sanic's own logging set-up: its dictConfig closes every handler,
    # and absl's closes the stderr it holds (pytest's, while capsys captures).
    app = Sanic(
        f"easyflow_parts_metrics_{uuid.uuid4().hex[:8]}", configure_logging=False
    )
    app.ctx.agent = agent
    logging.getLogger().setLevel(logging.INFO)  # what `rasa run` sets (LOG_LEVEL)
    register([StrictRestInput(), metrics.MetricsChannel()], app, route="/webhooks/")
    _, before = await app.asgi_client.get("/metrics")
    assert before.status == 200
    assert before.headers["content-type"] == CONTENT_TYPE

    sender = f"parts-{uuid.uuid4().hex[:8]}"
    for text in ("привет", "где мой заказ A-10234", "ыва фыва олдж"):
        _, reply = await app.asgi_client.post(
            "/webhooks/rest/webhook", json={"sender": sender, "message": text}
        )
        assert reply.status == 200, reply.text
    _, refused = await app.asgi_client.post(
        "/webhooks/rest/webhook", json={"sender": "", "message": "x"}
    )
    assert refused.status == 400
    _, after = await app.asgi_client.get("/metrics")

    old, new = _page(before.text), _page(after.text)
    families = {f.name: f.type for f in text_string_to_metric_families(after.text)}
    assert families == {
        "easyflow_messages": "counter",
        "easyflow_message_latency_seconds": "histogram",
        "easyflow_fallbacks": "counter",
        "easyflow_action_errors": "counter",
    }
    rest = (("channel", "rest"),)
    sent = new["easyflow_messages_total"][rest]
    assert sent - old.get("easyflow_messages_total", {}).get(rest, 0) == 4
    timed = new["easyflow_message_latency_seconds_count"][rest]
    assert (
        timed - old.get("easyflow_message_latency_seconds_count", {}).get(rest, 0) == 4
    )
    assert (
        new["easyflow_message_latency_seconds_bucket"][(*rest, ("le", "+Inf"))] == timed
    )
    tracker = await agent.tracker_store.retrieve(conversation_id(sender) or "")
    assert tracker is not None
    fallbacks = [
        event
        for event in tracker.events
        if isinstance(event, ActionExecuted)
        and event.action_name in metrics.FALLBACK_ACTIONS
    ]
    assert fallbacks, [e.as_dict() for e in tracker.events]
    counted = new["easyflow_fallbacks_total"][()] - old["easyflow_fallbacks_total"][()]
    assert counted == len(fallbacks)

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    refused_line = next(
        line for line in lines if line["event"] == "rest.sender_refused"
    )
    assert refused_line["process"] == "rasa" and refused_line["level"] == "info"
    assert {"timestamp", "logger"} <= refused_line.keys()


def test_production_credentials_keep_every_channel_and_add_metrics() -> None:
    source = yaml.safe_load((ROOT / "credentials.yml").read_text())
    channels = production_credentials(source)
    assert "rest" not in channels
    assert "connectors.rest.StrictRestInput" in channels
    assert "connectors.metrics.MetricsChannel" in channels
    assert set(source) - {"rest"} <= set(channels)
    telegram = {"connectors.telegram.TelegramInput": {"token": "${TELEGRAM_TOKEN}"}}
    assert production_credentials(telegram)["connectors.telegram.TelegramInput"] == {
        "token": "${TELEGRAM_TOKEN}"
    }


def test_lock_store_reads_a_redis_url_and_refuses_when_redis_is_down() -> None:
    prefix = uuid.uuid4().hex
    store = RedisUrlLockStore(
        EndpointConfig(url="redis://127.0.0.1:6379/0", key_prefix=prefix)
    )
    lock = store.create_lock("conversation")
    store.save_lock(lock)
    assert store.get_lock("conversation") is not None
    store.delete_lock("conversation")
    assert store.red.connection_pool.connection_kwargs["db"] == 0

    down = RedisUrlLockStore(EndpointConfig(url="redis://127.0.0.1:1/0"))
    with pytest.raises(Exception) as raised:
        down.get_lock("conversation")
    assert not isinstance(raised.value, LockError)
    with pytest.raises(ValueError):
        RedisUrlLockStore(EndpointConfig(url="http://127.0.0.1:6379"))


@pytest.fixture
def database_url() -> Iterator[str]:
    name = f"easyflow_tracker_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        cursor.execute(f"DROP DATABASE {name}")
    admin.close()


async def test_tracker_store_fails_closed_instead_of_forgetting(
    database_url: str,
) -> None:
    """Rasa's wrapper would answer "no tracker" and save to memory; ours raises."""
    store = StrictSQLTrackerStore(domain=Domain.empty(), host=database_url)
    wrapped = FailSafeTrackerStore(store)
    tracker = await wrapped.get_or_create_tracker("shopper")
    tracker.update(UserUttered("привет"))
    await wrapped.save(tracker)
    stored = await wrapped.retrieve("shopper")
    assert stored is not None and stored.latest_message.text == "привет"

    store.engine.dispose()
    store.engine = create_engine("postgresql://postgres@127.0.0.1:1/gone")
    store.sessionmaker = sessionmaker(bind=store.engine)
    with pytest.raises(TrackerStoreUnavailable):
        await wrapped.retrieve("shopper")
    with pytest.raises(TrackerStoreUnavailable):
        await wrapped.save(tracker)
    # Other tracker stores keep Rasa's behaviour.
    stock = FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty()))
    assert stock._on_tracker_store_error is None


def test_action_server_refuses_to_start_in_production_without_a_token(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "EASYFLOW_ENV": "production",
        "EASYFLOW_PUBLIC_URL": "https://shop.example.test",
        "EASYFLOW_DATA_DIR": str(tmp_path),
        # Everything else production needs, so the token is what is missing.
        "EASYFLOW_ACTIONS_DATABASE_URL": "postgresql://easyflow@127.0.0.1:9/easyflow",
        "EASYFLOW_PAYMENT_PROVIDER": "yookassa",
        "EASYFLOW_ACTION_TOKEN": "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "actions.server"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "EASYFLOW_ACTION_TOKEN" in done.stderr


def test_outbox_relay_logs_json_lines(tmp_path: Path) -> None:
    """The relay with its database down: it starts, says why it waits, and every
    line it prints is one JSON object."""
    env = {
        **os.environ,
        "EASYFLOW_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/x",
        "EASYFLOW_RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/",
        "EASYFLOW_RABBITMQ_QUEUE": f"parts_{uuid.uuid4().hex[:8]}",
    }
    relay = subprocess.Popen(
        [sys.executable, "-m", "outbox"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[dict[str, object]] = []
    deadline = threading.Timer(60, relay.terminate)  # a silent relay fails, not hangs
    deadline.start()
    try:
        assert relay.stderr is not None
        for text in relay.stderr:
            lines.append(json.loads(text))
            if lines[-1]["event"] == "outbox.database_error":
                break
    finally:
        deadline.cancel()
        relay.terminate()
        relay.wait(timeout=30)
    start = next(line for line in lines if line["event"] == "outbox.start")
    assert start["queue"] == env["EASYFLOW_RABBITMQ_QUEUE"]
    assert lines[-1]["level"] == "warning" and "error" in lines[-1]
    assert {line["process"] for line in lines} == {"outbox"}
