"""The production profile's pieces on their own: metrics format, the generated
credentials, the Redis URL lock store, the fail-closed tracker store, the action
server's start-up refusal without a token."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
import yaml
from rasa.core.lock_store import LockError
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from bot.stores.lock_store import RedisUrlLockStore
from bot.stores.tracker_store import StrictSQLTrackerStore, TrackerStoreUnavailable
from common.prometheus import Registry
from connectors import metrics

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "production"))
from credentials import production_credentials  # noqa: E402


def test_metrics_render_in_prometheus_text_format() -> None:
    registry = Registry()
    counter = registry.counter("x_total", "Things.", ["channel"])
    plain = registry.counter("y_total", "Plain.")
    histogram = registry.histogram("z_seconds", "Time.", ["a"], buckets=[0.1, 1])
    counter.inc(channel='te"le\\gram')
    counter.inc(2, channel="rest")
    histogram.observe(0.05, a="q")
    histogram.observe(0.5, a="q")
    histogram.observe(7, a="q")
    assert registry.render().splitlines() == [
        "# HELP x_total Things.",
        "# TYPE x_total counter",
        'x_total{channel="rest"} 2.0',
        'x_total{channel="te\\"le\\\\gram"} 1.0',
        "# HELP y_total Plain.",
        "# TYPE y_total counter",
        "y_total 0.0",
        "# HELP z_seconds Time.",
        "# TYPE z_seconds histogram",
        'z_seconds_bucket{a="q",le="0.1"} 1.0',
        'z_seconds_bucket{a="q",le="1.0"} 2.0',
        'z_seconds_bucket{a="q",le="+Inf"} 3.0',
        'z_seconds_sum{a="q"} 7.55',
        'z_seconds_count{a="q"} 3.0',
    ]
    assert plain.value() == 0
    with pytest.raises(ValueError):
        counter.inc(action="x")


def test_rasa_side_counts_fallbacks_and_apologies() -> None:
    fallbacks = metrics.FALLBACKS.value()
    errors = metrics.ACTION_ERRORS.value(action="action_check_order")
    apology = BotUttered("sorry", metadata={"utter_action": "utter_action_failed"})
    metrics.record_action("action_check_order", [apology])
    metrics.record_action("action_check_order", [BotUttered("fine", metadata={})])
    metrics.record_action("action_llm_fallback", [])
    assert metrics.ACTION_ERRORS.value(action="action_check_order") == errors + 1
    assert metrics.FALLBACKS.value() == fallbacks + 1


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
