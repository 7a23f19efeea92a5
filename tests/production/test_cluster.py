"""The production profile for real: 2 Rasa replicas and 2 action servers behind nginx,
sharing PostgreSQL and Redis, events to RabbitMQ through the outbox relay.

The profile is started once for the module by ``deploy/production/run.sh``, on
private PostgreSQL, Redis and RabbitMQ instances (so the fault tests can stop them)
and with the model pulled from a loopback model server. Tests run in file order;
killing a replica comes last.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.production.services import (
    ROOT,
    Cluster,
    ModelServer,
    PrivatePostgres,
    PrivateRabbitMQ,
    PrivateRedis,
    QueueReader,
    Reply,
    get_text,
    metric,
    metric_sum,
    post_json,
    production_cluster,
    wait_until_refused,
)

MODEL = ROOT / "models" / "easyflow.tar.gz"
RASA_TOKEN = "rasa-" + uuid.uuid4().hex
ACTION_TOKEN = "action-" + uuid.uuid4().hex
QUEUE = "rasa_events_test"

# Ten messages that each get an answer from a flow, an action or the knowledge
# base; every conversation sends them in its own rotation.
MESSAGES = [
    "привет",
    "где мой заказ A-10234",
    "какие способы оплаты",
    "сколько стоит доставка",
    "where is A-10236",
    "вы упаковываете подарки?",
    "what payment methods do you accept",
    "промокод не работает",
    "где мой возврат денег по заказу A-10235",
    "спасибо",
]


@pytest.fixture(scope="module")
def base_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="easyflow-production-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres(base_dir: Path) -> Iterator[PrivatePostgres]:
    server = PrivatePostgres(base_dir / "postgres")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis(base_dir: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(base_dir / "redis")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def rabbitmq(base_dir: Path) -> Iterator[PrivateRabbitMQ]:
    server = PrivateRabbitMQ(base_dir / "rabbitmq")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def model_server(base_dir: Path) -> Iterator[ModelServer]:
    assert MODEL.exists(), "train the model first: make train"
    copy = base_dir / "easyflow.tar.gz"
    shutil.copy(MODEL, copy)
    server = ModelServer(copy)
    yield server
    server.close()


@pytest.fixture(scope="module")
def cluster(
    base_dir: Path,
    postgres: PrivatePostgres,
    redis: PrivateRedis,
    rabbitmq: PrivateRabbitMQ,
    model_server: ModelServer,
    request: pytest.FixtureRequest,
) -> Iterator[Cluster]:
    env = {
        "EASYFLOW_PROFILE": "production",
        "EASYFLOW_RASA_TOKEN": RASA_TOKEN,
        "EASYFLOW_ACTION_TOKEN": ACTION_TOKEN,
        "EASYFLOW_DATABASE_URL": postgres.url,
        "EASYFLOW_REDIS_URL": redis.url,
        "EASYFLOW_RABBITMQ_URL": rabbitmq.url,
        "EASYFLOW_RABBITMQ_QUEUE": QUEUE,
        "EASYFLOW_PUBLIC_URL": "https://shop.example.test",
        # The demo shop and its demo payments, as a staging stack would run them.
        "EASYFLOW_DEMO_PAYMENTS_IN_PRODUCTION": "1",
        "EASYFLOW_DATA_DIR": str(base_dir / "data"),
        "EASYFLOW_MODEL_SERVER_URL": model_server.url,
    }
    failed_before = request.session.testsfailed
    with production_cluster(base_dir / "run", env) as started:
        yield started
        if request.session.testsfailed > failed_before:
            capture = request.config.pluginmanager.getplugin("capturemanager")
            with capture.global_and_fixture_disabled():
                print_log_tails(base_dir / "run" / "log")


def print_log_tails(log_dir: Path, lines: int = 40) -> None:
    """Show what the processes said when a test failed: CI keeps no files."""
    for log in sorted(log_dir.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"\n===== {log.name} (last {len(tail)} lines) =====")
        print("\n".join(tail))


@pytest.fixture(scope="module")
def queue(rabbitmq: PrivateRabbitMQ) -> QueueReader:
    return QueueReader(rabbitmq.url, QUEUE)


def stored_events(postgres: PrivatePostgres) -> list[tuple[int, str, str]]:
    """(row id, sender, type) of every event in the tracker store, in id order."""
    return [
        (int(i), s, t)
        for i, s, t in postgres.query(
            "SELECT id, sender_id, type_name FROM events ORDER BY id"
        )
    ]


def user_texts(cluster: Cluster, sender: str) -> list[str]:
    return [
        e["text"] for e in cluster.tracker(sender)["events"] if e["event"] == "user"
    ]


def wait_for_relay(postgres: PrivatePostgres, seconds: float = 60) -> int:
    """Waits until the outbox relay has published every stored event."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        last = postgres.query("SELECT coalesce(max(id), 0) FROM events")[0][0]
        done = postgres.query("SELECT last_id FROM easyflow_outbox")
        if done and done[0][0] >= last:
            return int(last)
        time.sleep(0.3)
    raise AssertionError("the outbox relay did not catch up")


def assert_queue_matches_store(
    postgres: PrivatePostgres, queue: QueueReader, allow_redelivery: bool
) -> None:
    wait_for_relay(postgres)
    queue.drain()
    stored = {
        row_id: (sender, kind) for row_id, sender, kind in stored_events(postgres)
    }
    ids = [message_id for message_id, _ in queue.received]
    counts = Counter(ids)
    assert set(counts) == set(stored), "every stored event reached RabbitMQ, no other"
    if not allow_redelivery:
        assert all(n == 1 for n in counts.values()), "no event published twice"
    for message_id, body in queue.received:
        assert (body["sender_id"], body["event"]) == (
            stored[message_id][0],
            stored[message_id][1],
        )


def with_retry(cluster: Cluster, sender: str, text: str, seconds: float = 60) -> Reply:
    """Sends until the message is processed (503 means: not stored, send again)."""
    deadline = time.monotonic() + seconds
    while True:
        reply = cluster.say(sender, text)
        if reply.status != 503 or time.monotonic() > deadline:
            return reply
        time.sleep(0.5)


def test_replicas_pulled_the_model_from_the_model_server(
    cluster: Cluster, model_server: ModelServer
) -> None:
    assert model_server.requests >= len(cluster.rasa_ports)


def test_tokens_guard_the_http_api_and_the_action_server(cluster: Cluster) -> None:
    status, _ = get_text(f"{cluster.url}/status")
    assert status == 401
    status, _ = get_text(f"{cluster.url}/status?token={RASA_TOKEN}")
    assert status == 200
    webhook = f"http://127.0.0.1:{cluster.action_ports[0]}/webhook"
    call = {"next_action": "action_listen", "tracker": {}, "domain": {}}
    assert post_json(webhook, call).status == 401
    assert post_json(webhook + "?token=wrong", call).status == 401
    assert post_json(webhook + f"?token={ACTION_TOKEN}", call).status == 404
    # Deny by default whatever the spelling; the header is the form Rasa uses.
    assert post_json(webhook + "/", call).status == 401
    request = urllib.request.Request(
        webhook + "/",
        data=json.dumps(call).encode(),
        headers={"Authorization": f"Bearer {ACTION_TOKEN}"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as unknown_action:
        urllib.request.urlopen(request, timeout=30)
    assert unknown_action.value.code == 404  # past the door: rasa-sdk answers
    # Rasa itself sends the token: an order lookup needs the action server.
    reply = cluster.say("token-check", "где мой заказ A-10234")
    assert reply.status == 200
    # The privacy check comes from validate_order_form on the action server.
    assert "4 цифры" in reply.messages[0]["text"]
    # The API call above went through nginx with ?token=: its log has the path only.
    log = (cluster.run_dir / "log" / "nginx.access.log").read_text()
    assert '"GET /status HTTP/1.1" 200' in log
    assert RASA_TOKEN not in log and "token=" not in log


def test_500_messages_over_50_conversations_through_the_balancer(
    cluster: Cluster, postgres: PrivatePostgres, queue: QueueReader
) -> None:
    def scrape(ports: list[int]) -> list[str]:
        return [get_text(f"http://127.0.0.1:{port}/metrics")[1] for port in ports]

    before = scrape(cluster.rasa_ports)
    run = uuid.uuid4().hex[:8]
    conversations = {
        f"load-{run}-{n}": MESSAGES[n % 10 :] + MESSAGES[: n % 10] for n in range(50)
    }

    def talk(sender: str) -> list[Reply]:
        return [cluster.say(sender, text) for text in conversations[sender]]

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=50) as pool:
        replies = dict(zip(conversations, pool.map(talk, conversations), strict=True))
    elapsed = time.monotonic() - started

    all_replies = [r for rs in replies.values() for r in rs]
    assert len(all_replies) == 500
    assert all(r.status == 200 and r.messages for r in all_replies), [
        r for r in all_replies if r.status != 200 or not r.messages
    ][:3]
    by_replica = Counter(r.upstream for r in all_replies)
    assert len(by_replica) == 2 and min(by_replica.values()) >= 100, by_replica
    for sender, texts in conversations.items():
        assert user_texts(cluster, sender) == texts, sender

    after = scrape(cluster.rasa_ports)
    handled = [
        metric(a, "easyflow_messages_total", channel="rest")
        - metric(b, "easyflow_messages_total", channel="rest")
        for a, b in zip(after, before, strict=True)
    ]
    assert sum(handled) == 500 and min(handled) > 0, handled
    timed = sum(
        metric(a, "easyflow_message_latency_seconds_count", channel="rest")
        - metric(b, "easyflow_message_latency_seconds_count", channel="rest")
        for a, b in zip(after, before, strict=True)
    )
    assert timed == 500
    fallbacks = sum(
        metric(a, "easyflow_fallbacks_total") - metric(b, "easyflow_fallbacks_total")
        for a, b in zip(after, before, strict=True)
    )
    # "вы упаковываете подарки?" is in every conversation and reaches the
    # fallback, also while the order form waits for the phone's last 4 digits
    # (only a message with digits answers that question).
    assert fallbacks >= 50, fallbacks
    actions = scrape(cluster.action_ports)
    assert all(
        metric(page, "easyflow_actions_total", action="action_handle_order_request") > 0
        for page in actions
    ), "both action servers ran actions"
    assert (
        sum(
            metric(page, "easyflow_fallbacks_total", answerer="extractive")
            for page in actions
        )
        >= 50  # as above: the gift question, in every conversation
    )

    assert_queue_matches_store(postgres, queue, allow_redelivery=False)
    print(f"\n500 messages in {elapsed:.1f} s; replicas {dict(by_replica)}")


def test_redis_down_refuses_turns_then_recovers(
    cluster: Cluster, redis: PrivateRedis, postgres: PrivatePostgres
) -> None:
    sender = f"redis-{uuid.uuid4().hex[:8]}"
    assert cluster.say(sender, "привет").status == 200
    stored_before = len(stored_events(postgres))
    redis.stop()
    try:
        refused = [cluster.say(sender, "где мой заказ A-10234") for _ in range(4)]
        assert [r.status for r in refused] == [503] * 4
        assert {r.upstream for r in refused} == {
            f"127.0.0.1:{p}" for p in cluster.rasa_ports
        }, "both replicas refuse"
        assert len(stored_events(postgres)) == stored_before, "nothing stored"
        assert user_texts(cluster, sender) == ["привет"]
    finally:
        redis.start()
    reply = with_retry(cluster, sender, "где мой заказ A-10234")
    assert reply.status == 200 and "4 цифры" in reply.messages[0]["text"]
    assert user_texts(cluster, sender) == ["привет", "где мой заказ A-10234"]


def test_postgres_restart_loses_no_acknowledged_message(
    cluster: Cluster, postgres: PrivatePostgres, queue: QueueReader
) -> None:
    run = uuid.uuid4().hex[:8]
    senders = [f"pg-{run}-{n}" for n in range(10)]
    acknowledged: dict[str, list[str]] = {s: [] for s in senders}
    refused = Counter()

    def talk(sender: str) -> None:
        for text in MESSAGES[:8]:
            deadline = time.monotonic() + 60
            while True:
                reply = cluster.say(sender, text)
                if reply.status == 200:
                    assert reply.messages, (sender, text)
                    acknowledged[sender].append(text)
                    break
                assert reply.status == 503, reply
                refused[sender] += 1
                assert time.monotonic() < deadline, "PostgreSQL did not come back"
                time.sleep(0.3)
            # A shopper's pace: the conversations outlast the outage (3-7 s in)
            # even when the machine answers fast.
            time.sleep(1.2)

    with ThreadPoolExecutor(max_workers=10) as pool:
        futures = [pool.submit(talk, s) for s in senders]
        time.sleep(3)
        postgres.restart(down_s=4)
        for future in futures:
            future.result()
    assert sum(refused.values()) > 0, "the outage was seen"

    for sender in senders:
        assert acknowledged[sender] == MESSAGES[:8]
        assert user_texts(cluster, sender) == MESSAGES[:8], sender
    assert_queue_matches_store(postgres, queue, allow_redelivery=False)
    print(f"\nrefused during the restart, then retried: {sum(refused.values())}")


def test_rabbitmq_down_delays_events_and_loses_none(
    cluster: Cluster,
    rabbitmq: PrivateRabbitMQ,
    postgres: PrivatePostgres,
    queue: QueueReader,
) -> None:
    wait_for_relay(postgres)
    queue.drain()
    received_before = len(queue.received)
    rabbitmq.stop()
    try:
        run = uuid.uuid4().hex[:8]
        for n in range(5):
            for text in MESSAGES[:4]:
                reply = cluster.say(f"mq-{run}-{n}", text)
                assert reply.status == 200 and reply.messages
        last = postgres.query("SELECT max(id) FROM events")[0][0]
        time.sleep(2)
        published = postgres.query("SELECT last_id FROM easyflow_outbox")[0][0]
        assert published < last, "events wait in the tracker store"
    finally:
        rabbitmq.start()
    assert_queue_matches_store(postgres, queue, allow_redelivery=True)
    fresh = [i for i, _ in queue.received[received_before:]]
    redelivered = len(fresh) - len(set(fresh))
    print(f"\nevents after the outage {len(set(fresh))}, redelivered {redelivered}")


def test_killed_replica_conversation_continues_on_the_other(
    cluster: Cluster, postgres: PrivatePostgres, queue: QueueReader
) -> None:
    sender = f"kill-{uuid.uuid4().hex[:8]}"
    first = cluster.say(sender, "хочу отменить заказ")
    assert first.status == 200
    victim = first.upstream
    index = [f"127.0.0.1:{p}" for p in cluster.rasa_ports].index(victim)
    os.kill(cluster.pid(f"rasa-{index + 1}"), signal.SIGKILL)
    # Killed, not dying: a request that reaches the socket while the kernel tears
    # the process down is one in flight on it (502, deploy/production/README.md).
    wait_until_refused(cluster.rasa_ports[index], 10)

    second = cluster.say(sender, "3728419056")
    assert second.status == 200, second
    assert second.upstream != victim
    assert "4 цифры" in second.messages[0]["text"]  # order privacy
    verified = cluster.say(sender, "9914")  # the phone's last 4 digits
    assert verified.status == 200 and verified.upstream != victim
    assert "3728419056" in verified.messages[0]["text"]
    third = cluster.say(sender, "да")
    assert third.status == 200 and third.upstream != victim
    tracker = cluster.tracker(sender)
    texts = [e["text"] for e in tracker["events"] if e["event"] == "user"]
    assert texts == ["хочу отменить заказ", "3728419056", "9914", "да"]
    assert tracker["slots"].get("order_id") == "3728419056"

    others = [cluster.say(f"{sender}-{n}", "привет") for n in range(6)]
    assert all(r.status == 200 and r.upstream != victim for r in others)
    assert_queue_matches_store(postgres, queue, allow_redelivery=True)


def test_action_servers_down_the_shopper_gets_an_apology(cluster: Cluster) -> None:
    survivor = next(
        port
        for n, port in enumerate(cluster.rasa_ports, start=1)
        if (cluster.run_dir / "pids" / f"rasa-{n}.pid").exists()
        and _alive(cluster.pid(f"rasa-{n}"))
    )
    page = f"http://127.0.0.1:{survivor}/metrics"
    errors_before = metric_sum(get_text(page)[1], "easyflow_action_errors_total")
    for n, port in enumerate(cluster.action_ports, start=1):
        os.kill(cluster.pid(f"actions-{n}"), signal.SIGKILL)
        wait_until_refused(port, 10)
    reply = cluster.say(f"apology-{uuid.uuid4().hex[:8]}", "где мой заказ A-10234")
    assert reply.status == 200 and reply.messages
    assert "A-10234" not in reply.messages[0]["text"]
    errors_after = metric_sum(get_text(page)[1], "easyflow_action_errors_total")
    assert errors_after >= errors_before + 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
