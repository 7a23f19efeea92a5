"""Private PostgreSQL, Redis and RabbitMQ instances and the production profile.

Fault tests stop and restart these private instances on their own ports and in
temporary directories; the machine's shared services are never touched.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aio_pika
import psycopg2

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("EASYFLOW_PG_BIN", "/usr/lib/postgresql/15/bin"))
RABBITMQ_SERVER = Path(
    os.environ.get("EASYFLOW_RABBITMQ_SERVER", "/usr/lib/rabbitmq/bin/rabbitmq-server")
)


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int, start: int = 21000) -> int:
    """The first of ``count`` consecutive free ports at or above ``start``."""
    base = start + (os.getpid() % 500) * 20
    while True:
        if all(port_is_free(base + i) for i in range(count)):
            return base
        base += count


def wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"port {port}")


def wait_until_refused(port: int, seconds: float) -> None:
    """Wait until nothing accepts connections on ``port``.

    A SIGKILLed process keeps its listening socket until the kernel has torn the
    process down: for a Rasa replica (1 GB resident) about 0.1 s in which
    connections are still accepted, then reset.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except OSError:
            return
        time.sleep(0.01)
    raise TimeoutError(f"port {port} still accepts connections")


def _as_postgres(command: list[str]) -> list[str]:
    return (
        ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command
    )


class PrivatePostgres:
    """``initdb`` + ``pg_ctl`` in a temporary directory, trust auth, own port."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.data = directory / "data"
        self.port = free_ports(1, 23000)
        directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=100"
        )
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "-l",
                    str(self.dir / "postgres.log"),
                    *args,
                ]
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def restart(self, down_s: float = 0) -> None:
        """Stops the server (fast: connections are cut), waits, starts it."""
        self.stop()
        time.sleep(down_s)
        self.start()

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        connection = psycopg2.connect(self.url, connect_timeout=5)
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.port = free_ports(1, 24000)
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, 20)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


class PrivateRabbitMQ:
    """A second RabbitMQ node (own name, ports, data and cookie), started as-is."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.port = free_ports(1, 25000)
        self.node = f"easyflowtest{self.port}@localhost"
        self.process: subprocess.Popen | None = None
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "enabled_plugins").write_text("[].\n")
        self.start()

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self) -> None:
        env = {
            **os.environ,
            "HOME": str(self.dir),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.port + 20000),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.dir / "advanced.config"),
            "RABBITMQ_PID_FILE": str(self.dir / "rabbitmq.pid"),
        }
        self.process = subprocess.Popen(
            [str(RABBITMQ_SERVER)],
            env=env,
            stdout=(self.dir / "server.log").open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port(self.port, 90)

    def stop(self) -> None:
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None
        deadline = time.monotonic() + 20
        while not port_is_free(self.port) and time.monotonic() < deadline:
            time.sleep(0.2)


async def _drain(
    url: str, queue_name: str
) -> list[aio_pika.abc.AbstractIncomingMessage]:
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True)
        messages = []
        while True:
            message = await queue.get(no_ack=True, fail=False)
            if message is None:
                return messages
            messages.append(message)


@dataclass
class QueueReader:
    """Everything taken from one queue so far, as (message_id, body) pairs."""

    url: str
    queue: str
    received: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def drain(self) -> list[tuple[int, dict[str, Any]]]:
        messages = asyncio.run(_drain(self.url, self.queue))
        fresh = [(int(m.message_id or 0), json.loads(m.body)) for m in messages]
        self.received.extend(fresh)
        return fresh


class ModelServer:
    """Serves one model file the way Rasa's ``models:`` endpoint expects (ETag)."""

    def __init__(self, model: Path) -> None:
        body = model.read_bytes()
        etag = hashlib.sha256(body).hexdigest()
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Type", "application/gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/easyflow.tar.gz"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Reply:
    status: int
    messages: list[dict[str, Any]]
    upstream: str


def post_json(url: str, body: dict[str, Any], timeout: float = 60) -> Reply:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Reply(
                answer.status,
                json.loads(answer.read() or b"[]"),
                answer.headers.get("X-Easyflow-Upstream", ""),
            )
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            payload = json.loads(text or b"{}")
        except ValueError:
            payload = {"raw": text.decode(errors="replace")}
        return Reply(
            error.code,
            payload if isinstance(payload, list) else [payload],
            error.headers.get("X-Easyflow-Upstream", ""),
        )


def get_text(url: str, timeout: float = 30) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def metric_sum(text: str, name: str) -> float:
    """The sum of all samples of ``name`` whatever their labels."""
    return sum(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith((name + "{", name + " "))
    )


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text page (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    sample = f"{name}{{{wanted}}}" if wanted else name
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


@dataclass
class Cluster:
    """The production profile started by ``deploy/production/run.sh``."""

    run_dir: Path
    env: dict[str, str]
    process: subprocess.Popen
    listen_port: int
    rasa_ports: list[int]
    action_ports: list[int]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listen_port}"

    def say(self, sender: str, text: str, timeout: float = 60) -> Reply:
        return post_json(
            f"{self.url}/webhooks/rest/webhook",
            {"sender": sender, "message": text},
            timeout,
        )

    def pid(self, name: str) -> int:
        return int((self.run_dir / "pids" / f"{name}.pid").read_text())

    def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation of REST ``sender``: kept as ``rest:<sender>``."""
        token = self.env["EASYFLOW_RASA_TOKEN"]
        conversation = sender if sender.startswith("rest:") else f"rest:{sender}"
        status, text = get_text(
            f"{self.url}/conversations/{conversation}/tracker?token={token}"
        )
        assert status == 200, text
        return json.loads(text)


@contextmanager
def production_cluster(
    run_dir: Path, env: dict[str, str], replicas: int = 2, actions: int = 2
) -> Iterator[Cluster]:
    listen = free_ports(2, 26000)
    rasa_base = free_ports(replicas, listen + 2)
    action_base = free_ports(actions, rasa_base + replicas)
    full_env = {
        **os.environ,
        **env,
        "EASYFLOW_RUN_DIR": str(run_dir),
        "EASYFLOW_BIND": "127.0.0.1",
        "EASYFLOW_LISTEN_PORT": str(listen),
        "EASYFLOW_ACTIONS_LB_PORT": str(listen + 1),
        "EASYFLOW_RASA_BASE_PORT": str(rasa_base),
        "EASYFLOW_ACTIONS_BASE_PORT": str(action_base),
        "EASYFLOW_RASA_REPLICAS": str(replicas),
        "EASYFLOW_ACTION_REPLICAS": str(actions),
        "EASYFLOW_RESTART": "0",
    }
    log = (run_dir.parent / "run.sh.log").open("w")
    process = subprocess.Popen(
        ["bash", str(ROOT / "deploy" / "production" / "run.sh")],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    cluster = Cluster(
        run_dir,
        full_env,
        process,
        listen,
        [rasa_base + i for i in range(replicas)],
        [action_base + i for i in range(actions)],
    )
    try:
        deadline = time.monotonic() + 420
        while not (run_dir / "ready").exists():
            if process.poll() is not None:
                raise RuntimeError(
                    f"run.sh exited {process.returncode}: "
                    + (run_dir.parent / "run.sh.log").read_text()[-3000:]
                )
            if time.monotonic() > deadline:
                raise TimeoutError("the production profile did not start in 420 s")
            time.sleep(1)
        yield cluster
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()
