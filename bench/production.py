"""Serving bench, production profile row: N Rasa replicas behind nginx, measured
with the serving bench's load generator, with the CPU the servers used.

The cluster is started exactly as in production and in ``tests/production/``:
``deploy/production/run.sh`` through ``tests.production.services.production_cluster``
(nginx round robin over ``replicas`` Rasa replicas running
``endpoints.production.yml``: ``StrictSQLTrackerStore`` on PostgreSQL, the Redis
lock store; ``actions`` action servers behind their own nginx port; the outbox
relay publishing the tracker store's events to RabbitMQ). It runs on the machine's
shared services, each isolated for the run:

- PostgreSQL: a fresh database, created and dropped as the tests do
  (``tests.databases.fresh_postgres``);
- Redis: database ``BENCH_REDIS_DB`` (the bench's own: emptied before and after)
  and lock key prefix ``easyflowbench``;
- RabbitMQ: a queue of the run's own (``rasa_events_bench_<random>``), deleted after.

Load: ``bench.serving.load`` with ``OUR_CONVERSATIONS`` through nginx, at each
concurrency level. CPU: ``utime + stime`` (and ``cutime + cstime``, the children
already waited for) from ``/proc/<pid>/stat`` of every server process and all its
live descendants (each Rasa replica, each action server, nginx master and
workers, the outbox relay), read before and after each level. ``cores`` = CPU
seconds / wall seconds; ``msg_per_s_per_core`` = answered messages / CPU seconds;
``cpu_ms_per_msg`` = CPU ms / answered messages. PostgreSQL's backends serving the
run's database are read the same way and reported apart (``db_cpu_ms``, not in
``cores``: the database is sized separately). ``run.sh``'s supervision loop and
the load generator are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from bench.processes import cpu_ms, rss_mb
from bench.serving import (
    CONCURRENCY,
    OUR_CONVERSATIONS,
    base_env,
    load,
    wait_first_answer,
)

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "easyflow.tar.gz"
# Passage vectors are named by a digest of the encoder and the passages, so one
# folder serves every run; without it each action server embeds them again.
KNOWLEDGE_CACHE = ROOT / "var" / "bench-knowledge-cache"
REDIS_URL = os.environ.get("EASYFLOW_BENCH_REDIS", "redis://127.0.0.1:6379")
BENCH_REDIS_DB = 13  # the tests use 0
RABBITMQ_URL = os.environ.get(
    "EASYFLOW_BENCH_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672/"
)
LOCK_PREFIX = "easyflowbench"
GROUPS = ("rasa", "actions", "nginx", "outbox")


def server_pids(run_dir: Path) -> dict[str, list[int]]:
    """The processes ``run.sh`` started, by group, from its pid files."""
    groups: dict[str, list[int]] = {group: [] for group in GROUPS}
    for file in sorted((run_dir / "pids").glob("*.pid")):
        group = file.stem.split("-")[0]
        groups.setdefault(group, []).append(int(file.read_text()))
    return groups


def db_backends(admin_dsn: str, database: str) -> list[int]:
    import psycopg2

    connection = psycopg2.connect(admin_dsn, connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
            )
            return [int(row[0]) for row in cursor.fetchall()]
    finally:
        connection.close()


def _redis_flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


async def _delete_queue(url: str, queue: str) -> None:
    import aio_pika

    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue)


@contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so every ``finally`` below stops its part."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _isolated_services(work: Path) -> Iterator[tuple[dict[str, str], str, str]]:
    """The run's database, Redis db and queue; yields (env, admin DSN, db name)."""
    from tests.databases import POSTGRES_ADMIN_DSN, fresh_postgres

    redis_url = f"{REDIS_URL.rstrip('/')}/{BENCH_REDIS_DB}"
    queue = f"rasa_events_bench_{uuid.uuid4().hex[:8]}"
    _redis_flush(redis_url)
    try:
        with fresh_postgres("easyflow_bench") as database_url:
            env = {
                "EASYFLOW_PROFILE": "production",
                "EASYFLOW_RASA_TOKEN": "bench-rasa-" + uuid.uuid4().hex,
                "EASYFLOW_DATABASE_URL": database_url,
                "EASYFLOW_REDIS_URL": redis_url,
                "EASYFLOW_RABBITMQ_URL": RABBITMQ_URL,
                "EASYFLOW_RABBITMQ_QUEUE": queue,
                "EASYFLOW_LOCK_KEY_PREFIX": LOCK_PREFIX,
                "EASYFLOW_PUBLIC_URL": "https://shop.example.test",
                # The demo shop and its demo payments, as tests/production runs them.
                "EASYFLOW_DEMO_PAYMENTS_IN_PRODUCTION": "1",
                "EASYFLOW_DATA_DIR": str(work / "data"),
                "EASYFLOW_KNOWLEDGE_CACHE_DIR": str(KNOWLEDGE_CACHE),
            }
            yield env, POSTGRES_ADMIN_DSN, database_url.rsplit("/", 1)[1]
    finally:
        with suppress(Exception):
            asyncio.run(_delete_queue(RABBITMQ_URL, queue))
        with suppress(Exception):
            _redis_flush(redis_url)


@contextmanager
def _cluster(work: Path, env: dict[str, str], replicas: int, actions: int) -> Any:
    from tests.production.services import production_cluster

    (work / "data").mkdir(parents=True, exist_ok=True)
    KNOWLEDGE_CACHE.mkdir(parents=True, exist_ok=True)
    group: int | None = None
    try:
        with production_cluster(work / "run", env, replicas, actions) as cluster:
            group = cluster.process.pid
            yield cluster
    finally:
        # run.sh stops what it started on SIGTERM; anything left in its process
        # group (a worker that outlived its parent) is killed here.
        if group is not None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)


def _level(
    url: str,
    concurrency: int,
    duration_s: float,
    roots: dict[str, list[int]],
    backends: Any,
) -> dict[str, Any]:
    before, db_before = cpu_ms(roots), cpu_ms({"db": backends()})["db"]
    started = time.monotonic()
    outcome = asyncio.run(load(url, OUR_CONVERSATIONS, concurrency, duration_s))
    wall_s = time.monotonic() - started
    after, db_pids = cpu_ms(roots), backends()
    # A backend opened during the level counts from zero; one closed is missed.
    db_ms = cpu_ms({"db": db_pids})["db"] - db_before if db_pids else 0.0
    used = {group: round(after[group] - before[group], 1) for group in roots}
    total = sum(used.values())
    summary = outcome.summary()
    answered = summary["messages"]
    summary.update(
        {
            "cpu_wall_s": round(wall_s, 2),
            "cpu_ms": round(total, 1),
            "cpu_ms_by_process": used,
            "cores": round(total / 1000 / wall_s, 2) if wall_s else 0.0,
            "msg_per_s_per_core": round(answered / (total / 1000), 1) if total else 0,
            "cpu_ms_per_msg": round(total / answered, 2) if answered else None,
            "db_cpu_ms": round(max(db_ms, 0.0), 1),
        }
    )
    return summary


def run(
    duration_s: float,
    replicas: int = 2,
    actions: int = 1,
    levels: Sequence[int] = CONCURRENCY,
    model: Path = MODEL,
    keep: bool = False,
) -> dict[str, Any]:
    """Starts the production profile, loads it at each level, stops everything."""
    if shutil.which("nginx") is None:
        raise RuntimeError("nginx is required (apt-get install -y nginx)")
    if not model.exists():
        raise RuntimeError(f"no model at {model} (make train)")
    work = Path(tempfile.mkdtemp(prefix="easyflow-production-bench-"))
    work.chmod(0o755)  # nginx workers may run as nobody
    result: dict[str, Any] = {"replicas": replicas, "action_servers": actions}
    try:
        with _terminate_as_exit(), _isolated_services(work) as (env, dsn, db):
            env = {**base_env(), **env, "EASYFLOW_MODEL": str(model)}
            started = time.monotonic()
            with _cluster(work, env, replicas, actions) as cluster:
                url = f"{cluster.url}/webhooks/rest/webhook"
                result["startup_s"] = round(
                    asyncio.run(wait_first_answer(url, cluster.process, started)), 1
                )
                # Every replica answers once before the first level.
                for port in cluster.rasa_ports:
                    asyncio.run(
                        wait_first_answer(
                            f"http://127.0.0.1:{port}/webhooks/rest/webhook",
                            cluster.process,
                            time.monotonic(),
                        )
                    )
                pids = server_pids(cluster.run_dir)
                result["rss_rasa_idle_mb"] = [rss_mb(p) for p in pids["rasa"]]
                out = []
                for concurrency in levels:
                    out.append(
                        _level(
                            url,
                            concurrency,
                            duration_s,
                            pids,
                            lambda: db_backends(dsn, db),
                        )
                    )
                    print(f"  production c={concurrency}: {out[-1]}", flush=True)
                result["load"] = out
                result["rss_replicas_mb"] = [rss_mb(p) for p in pids["rasa"]]
                result["rss_rasa_mb"] = round(sum(result["rss_replicas_mb"]), 1)
                result["rss_actions_mb"] = round(
                    sum(rss_mb(p) for p in pids["actions"]), 1
                )
                result["rss_nginx_mb"] = round(sum(rss_mb(p) for p in pids["nginx"]), 1)
                result["rss_outbox_mb"] = round(
                    sum(rss_mb(p) for p in pids["outbox"]), 1
                )
        return result
    finally:
        if keep:
            print(f"production work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--actions", type=int, default=1)
    parser.add_argument("--levels", type=int, nargs="+", default=list(CONCURRENCY))
    parser.add_argument("--keep", action="store_true", help="keep logs and configs")
    args = parser.parse_args(argv)
    report = run(args.seconds, args.replicas, args.actions, args.levels, keep=args.keep)
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
