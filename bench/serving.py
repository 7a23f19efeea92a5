"""Serving benchmark: training, start-up, throughput, latency and memory.

For each bot, in the same run:

- ``ours``: ``rasa train`` of this project (timed, ``--force``, into a temporary
  folder), then the action server (``python -m actions.server``) and ``rasa run``
  with the project's ``endpoints.yml`` and ``credentials.yml``, as
  ``deploy/local/run.sh`` starts them; all state (tracker, events, demo store)
  lives in a temporary folder.
- ``stock``: ``rasa init --no-prompt`` in a temporary folder (it generates the
  mood bot and trains it with Rasa's default config; timed), then ``rasa run``.

Start-up is process start -> first answered ``POST /webhooks/rest/webhook``.
Load: ``c`` concurrent simulated shoppers, each playing scripted multi-turn
conversations back to back under a fresh sender id, for ``duration_s`` per
concurrency level. Every message waits for the previous reply (a shopper reads
before typing). Throughput = answered messages / wall time; latency is per message.
RSS of every server process is read from ``/proc`` after the load.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.processes import cpu_ms, free_port, process, resident_mb, rss_mb
from bench.stats import percentile

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RASA = str(BIN / "rasa")
CONCURRENCY = (1, 8, 16, 32)
START_TIMEOUT_S = 400

# Realistic shopper conversations (demo store orders and products, knowledge
# questions answered by the fallback), Russian and English.
OUR_CONVERSATIONS: list[list[str]] = [
    ["привет", "где мой заказ A-10234", "спасибо", "пока"],
    ["hi", "where is my order A-10236", "thanks"],
    ["есть чёрные кроссовки 42?", "а 43?", "спасибо"],
    ["какие способы оплаты", "вы упаковываете подарки?"],
    ["where is my refund for 59120044-0007-1", "thank you"],
    ["где мой заказ", "A-10234", "спасибо"],
    ["do you have black sneakers size 42?", "bye"],
    ["сколько стоит доставка", "промокод не работает"],
]
# The mood bot that ``rasa init`` generates knows greetings and moods.
STOCK_CONVERSATIONS: list[list[str]] = [
    ["hello", "I am feeling great", "bye"],
    ["hi", "I am sad", "yes", "goodbye"],
    ["hey", "are you a bot?", "no", "bye"],
    ["good morning", "very bad", "not really"],
]


# Our action server refuses callers without its token (actions/access.py); Rasa
# sends it from endpoints.yml's header, read from the same variable.
ACTION_TOKEN = os.environ.get("EASYFLOW_ACTION_TOKEN") or uuid.uuid4().hex
# Our bot starts as deploy/local/run.sh starts it: through bot.rasa_run, which
# takes the API token from the environment and sets serving defaults.
OUR_LAUNCHER = (str(BIN / "python"), "-m", "bot.rasa_run")


def base_env() -> dict[str, str]:
    return {
        **os.environ,
        "EASYFLOW_ACTION_TOKEN": ACTION_TOKEN,
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONWARNINGS": "ignore",
        "RASA_TELEMETRY_ENABLED": "false",
        # The benchmark measures throughput: each simulated shopper sends faster
        # than the per-sender limit a real shopper meets (connectors/guard.py).
        "EASYFLOW_SHOPPER_RATE": "0",
    }


async def post(session: Any, url: str, sender: str, text: str) -> list[dict]:
    async with session.post(url, json={"sender": sender, "message": text}) as reply:
        reply.raise_for_status()
        return await reply.json()


async def wait_first_answer(url: str, proc: Any, started: float) -> float:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        while time.monotonic() - started < START_TIMEOUT_S:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                if await post(session, url, f"warmup-{uuid.uuid4().hex}", "hi"):
                    return time.monotonic() - started
            except (aiohttp.ClientError, OSError):
                pass
            await asyncio.sleep(0.25)
    raise TimeoutError(url)


@dataclass
class LoadResult:
    concurrency: int
    messages: int = 0
    errors: int = 0
    empty: int = 0
    wall_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        lat = self.latencies_ms or [float("nan")]

        def pct(share: float) -> float:
            return round(percentile(lat, share), 1)

        return {
            "concurrency": self.concurrency,
            "messages": self.messages,
            "errors": self.errors,
            "empty_replies": self.empty,
            "msg_per_s": round(self.messages / self.wall_s, 1) if self.wall_s else 0,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(lat), 1),
        }


async def load(
    url: str,
    conversations: Sequence[Sequence[str]],
    concurrency: int,
    duration_s: float,
) -> LoadResult:
    import aiohttp

    result = LoadResult(concurrency)
    deadline = time.monotonic() + duration_s
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)

    async def shopper(index: int, session: Any) -> None:
        turn = index
        while time.monotonic() < deadline:
            sender = f"bench-{concurrency}-{index}-{uuid.uuid4().hex[:8]}"
            for text in conversations[turn % len(conversations)]:
                if time.monotonic() >= deadline:
                    return
                started = time.perf_counter()
                try:
                    replies = await post(session, url, sender, text)
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                    result.errors += 1
                    continue
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                result.messages += 1
                result.empty += not replies
            turn += 1

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.monotonic()
        await asyncio.gather(*(shopper(i, session) for i in range(concurrency)))
        result.wall_s = time.monotonic() - started
    return result


def rasa_run_args(
    model: Path, port: int, endpoints: Path | None, launcher: Sequence[str] = (RASA,)
) -> list[str]:
    args = [*launcher, "run", "-m", str(model), "--enable-api"]
    args += ["--interface", "127.0.0.1", "--port", str(port)]
    if endpoints is not None:
        args += ["--endpoints", str(endpoints), "--credentials", "credentials.yml"]
    return args


def measure_server(
    name: str,
    args: Sequence[str],
    cwd: Path,
    env: dict,
    work: Path,
    conversations: Sequence[Sequence[str]],
    duration_s: float,
    extra_pids: Sequence[int] = (),
    levels: Sequence[int] = CONCURRENCY,
) -> dict[str, Any]:
    port = int(args[args.index("--port") + 1])
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    started = time.monotonic()
    with process(args, cwd, work / f"{name}-rasa.log", env) as proc:
        startup_s = asyncio.run(wait_first_answer(url, proc, started))
        rss_idle = rss_mb(proc.pid)
        levels_out = []
        for concurrency in levels:
            groups = {"rasa": [proc.pid], "actions": list(extra_pids)}
            before = cpu_ms(groups)
            outcome = asyncio.run(load(url, conversations, concurrency, duration_s))
            after = cpu_ms(groups)
            used = {group: after[group] - before[group] for group in groups}
            levels_out.append({**outcome.summary(), **cpu_figures(outcome, used)})
            print(f"  {name} c={concurrency}: {levels_out[-1]}", flush=True)
        return {
            "startup_s": round(startup_s, 1),
            "rss_rasa_idle_mb": rss_idle,
            **{f"{k}_rasa_mb": v for k, v in resident_mb(proc.pid).items()},
            "rss_other_mb": round(sum(rss_mb(pid) for pid in extra_pids), 1),
            "load": levels_out,
        }


def cpu_figures(outcome: LoadResult, used_ms: dict[str, float]) -> dict[str, Any]:
    """Server CPU per answered message (all of it, Rasa's, the action server's),
    the cores they kept busy, and messages per second per busy core."""
    total = sum(used_ms.values()) / 1000
    messages = max(outcome.messages, 1)
    cores = total / outcome.wall_s if outcome.wall_s else 0.0
    return {
        "cpu_ms_per_msg": round(total * 1000 / messages, 2),
        "cpu_rasa_ms_per_msg": round(used_ms["rasa"] / messages, 2),
        "cpu_actions_ms_per_msg": round(used_ms["actions"] / messages, 2),
        "cores": round(cores, 2),
        "msg_per_s_per_core": round(outcome.messages / outcome.wall_s / cores, 1)
        if cores
        else 0.0,
    }


def train_ours(work: Path, env: dict) -> tuple[Path, float]:
    started = time.monotonic()
    subprocess.run(
        [
            *(RASA, "train", "--force", "--data", "data/nlu", "data/rules"),
            *("data/stories", "--out", str(work / "models")),
            *("--fixed-model-name", "bench"),
        ],
        cwd=ROOT,
        env={**env, "RASA_MAX_CACHE_SIZE": "0"},
        check=True,
        stdout=(work / "ours-train.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    return work / "models" / "bench.tar.gz", time.monotonic() - started


def our_endpoints(work: Path, actions_port: int) -> Path:
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text("utf-8"))
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    for key in ("tracker_store", "event_broker", "lock_store"):
        config = endpoints.get(key) or {}
        local = config.get("dialect") == "sqlite" or key == "lock_store"
        if local and config.get("db"):
            config["db"] = str(work / Path(config["db"]).name)
    path = work / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints), "utf-8")
    return path


def bench_ours(
    work: Path,
    duration_s: float,
    model: Path | None,
    workers: int = 1,
    levels: Sequence[int] = CONCURRENCY,
) -> dict[str, Any]:
    env = base_env()
    name = "ours" if workers == 1 else f"ours-{workers}w"
    result: dict[str, Any] = {}
    if model is None:
        model, train_s = train_ours(work, env)
        result["train_s"] = round(train_s, 1)
    actions_port, rasa_port = free_port(), free_port()
    data_dir = work / f"var-{name}"
    data_dir.mkdir()
    actions_env = {
        **env,
        "EASYFLOW_DATA_DIR": str(data_dir),
        "EASYFLOW_ACTIONS_PORT": str(actions_port),
    }
    with process(
        [str(BIN / "python"), "-m", "actions.server"],
        ROOT,
        work / f"{name}-actions.log",
        actions_env,
    ) as actions:
        endpoints = our_endpoints(work / f"var-{name}", actions_port)
        result.update(
            measure_server(
                name,
                rasa_run_args(model, rasa_port, endpoints, OUR_LAUNCHER),
                ROOT,
                {
                    **env,
                    "SANIC_WORKERS": str(workers),
                    "EASYFLOW_RASA_TOKEN": uuid.uuid4().hex,
                },
                work,
                OUR_CONVERSATIONS,
                duration_s,
                extra_pids=[actions.pid],
                levels=levels,
            )
        )
    result["rss_actions_mb"] = result.pop("rss_other_mb")
    return result


def bench_stock(
    work: Path, duration_s: float, levels: Sequence[int] = CONCURRENCY
) -> dict[str, Any]:
    env = base_env()
    project = work / "stock"
    project.mkdir()
    started = time.monotonic()
    subprocess.run(
        [RASA, "init", "--no-prompt", "--init-dir", str(project)],
        cwd=work,
        env={**env, "RASA_MAX_CACHE_SIZE": "0"},
        check=True,
        stdout=(work / "stock-init.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    train_s = time.monotonic() - started
    model = sorted((project / "models").glob("*.tar.gz"))[-1]
    result = {"train_s": round(train_s, 1), "train_includes": "rasa init"}
    result.update(
        measure_server(
            "stock",
            rasa_run_args(model, free_port(), None),
            project,
            env,
            work,
            STOCK_CONVERSATIONS,
            duration_s,
            levels=levels,
        )
    )
    result.pop("rss_other_mb")
    return result


# ours-2w: the same model and endpoints with two Sanic workers (SANIC_WORKERS=2,
# what EASYFLOW_RASA_WORKERS=2 does in deploy/local/run.sh).
BOTS = ("ours", "ours-2w", "stock")


def run(
    duration_s: float,
    bots: Sequence[str] = BOTS,
    model: Path | None = None,
    keep: bool = False,
    levels: Sequence[int] = CONCURRENCY,
) -> dict[str, Any]:
    """Benchmarks ``bots``; ``model`` skips training ours (no ``train_s`` then)."""
    work = Path(tempfile.mkdtemp(prefix="easyflow-serving-"))
    try:
        out: dict[str, Any] = {"duration_s_per_level": duration_s}
        for bot in bots:
            print(f"serving: {bot}", flush=True)
            if bot == "stock":
                out[bot] = bench_stock(work, duration_s, levels)
            else:
                workers = 2 if bot == "ours-2w" else 1
                out[bot] = bench_ours(work, duration_s, model, workers, levels)
                if model is None:
                    model = work / "models" / "bench.tar.gz"
        return out
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"serving work folder kept: {work}")
