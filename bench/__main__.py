"""One command, one table: Easy Flow against stock Rasa, measured in the same run.

    .venv/bin/python -m bench            # quick: every part, small fixed subsets
    .venv/bin/python -m bench --full     # NLU on the full splits (for the record)
    .venv/bin/python -m bench --only nlu|serving|retrieval

Parts (see bench/README.md): NLU quality (``bench.nlu_quality``, one process per
pipeline and data set), serving (``bench.serving``: ``rasa train`` time, start-up,
load at 1/8/16/32 concurrent conversations, RSS; ``--bots production``: the
production profile behind nginx with CPU per message, ``bench.production``),
fallback retrieval (``bench.fallback_retrieval``). Prints one table and writes
everything as JSON to ``results/bench/bench-<mode>.json``. Stock full-mode NLU
figures recorded once are read from ``bench/baselines/stock_full_<data set>.json``
and shown beside ours.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import datasets, production, serving
from bench.stats import git_commit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "bench"
BASELINES = ROOT / "bench" / "baselines"
QUICK_STOCK_EPOCHS = 50
QUICK_SERVING_S = 10.0
FULL_SERVING_S = 30.0
# Full-split NLU results recorded once (bench/baselines/<prefix>_<data set>.json).
RECORDS = {"ours_full_record": "ours_full", "stock_full_baseline": "stock_full"}

# Issue 8 targets: (in-scope accuracy, OOS recall or None).
NLU_TARGETS: dict[str, tuple[float, float | None]] = {
    "clinc150_en": (0.95, 0.70),
    "clinc150_ru": (0.92, 0.65),
    "banking77_en": (0.92, None),
    "banking77_ru": (0.92, None),
}
SERVING_TARGET = {"concurrency": 16, "msg_per_s": 100.0, "p99_ms": 300.0, "x": 5.0}
STARTUP_TARGET_S = 15.0
TRAIN_TARGET_S = 120.0
CLINC_FULL_TRAIN_TARGET_S = 600.0


def nlu_one(
    pipeline: str, name: str, quick: bool, stock_epochs: int, out: Path
) -> dict[str, Any]:
    args = [sys.executable, "-m", "bench.nlu_quality", "--pipeline", pipeline]
    args += ["--dataset", name, "--json", str(out)]
    if quick:
        args.append("--quick")
    if pipeline == "stock":
        args += ["--stock-epochs", str(stock_epochs)]
    log = out.with_suffix(".log")
    with log.open("w") as stream:
        code = subprocess.run(
            args, cwd=ROOT, stdout=stream, stderr=subprocess.STDOUT, check=False
        ).returncode
    if code != 0:
        return {"error": f"exit {code}, see {log}"}
    return json.loads(out.read_text("utf-8"))


def run_nlu(names: Sequence[str], quick: bool, stock_epochs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        out[name] = {}
        for pipeline in ("ours", "stock"):
            print(f"nlu: {name} {pipeline}", flush=True)
            mode = "quick" if quick else "full"
            path = RESULTS / "nlu" / f"{name}-{pipeline}-{mode}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            out[name][pipeline] = nlu_one(pipeline, name, quick, stock_epochs, path)
        for key, prefix in RECORDS.items():
            recorded = BASELINES / f"{prefix}_{name}.json"
            if recorded.exists():
                out[name][key] = json.loads(recorded.read_text("utf-8"))
    return out


def run_retrieval() -> dict[str, Any]:
    path = RESULTS / "fallback_retrieval.json"
    subprocess.run(
        [sys.executable, "-m", "bench.fallback_retrieval", "--json", str(path)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    report = json.loads(path.read_text("utf-8"))
    return {"summary": report["summary"], "targets": report["targets"]}


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def num(value: Any, unit: str = "") -> str:
    return "–" if value is None else f"{value}{unit}"


def mark(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "MISSED")


def stock_label(result: dict[str, Any]) -> str:
    epochs = result.get("stock_epochs", 100)
    return "stock" if epochs == 100 else f"stock ({epochs} ep, not stock)"


def nlu_rows(nlu: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, by_pipeline in nlu.items():
        ours = by_pipeline.get("ours", {})
        target_acc, target_oos = NLU_TARGETS[name]
        for key in ("ours", "stock", "ours_full_record", "stock_full_baseline"):
            result = by_pipeline.get(key)
            if not result:
                continue
            if "error" in result:
                rows.append([name, key, result["error"], "", "", "", "", ""])
                continue
            label = "ours" if key == "ours" else stock_label(result)
            if key == "stock_full_baseline":
                label = "stock, full, recorded"
            if key == "ours_full_record":
                label = "ours, full, recorded"
            verdict = ""
            if key in ("ours", "ours_full_record"):
                acc_ok = result["in_scope_accuracy"] >= target_acc
                oos_ok = target_oos is None or (
                    (result["oos_recall"] or 0) >= target_oos
                )
                verdict = f"{mark(acc_ok and oos_ok)} ≥{pct(target_acc)}" + (
                    f"/{pct(target_oos)}" if target_oos else ""
                )
            elif ours and "in_scope_accuracy" in ours:
                better = ours["in_scope_accuracy"] > result["in_scope_accuracy"]
                verdict = "ours above" if better else "ours NOT above"
            rows.append(
                [
                    f"{name} ({result.get('mode')}, {result.get('n_train')} train)",
                    label,
                    pct(result["in_scope_accuracy"]),
                    pct(result["oos_recall"]),
                    f"{result['macro_f1']:.3f}",
                    num(result["train_s"], " s"),
                    f"{result['parse_ms_p50']} / {result['parse_ms_p95']}",
                    verdict,
                ]
            )
    return rows


def serving_rows(srv: dict[str, Any]) -> list[list[str]]:
    rows = []
    stock = srv.get("stock", {})
    stock_by_c = {lvl["concurrency"]: lvl for lvl in stock.get("load", [])}
    for bot, result in srv.items():
        if not isinstance(result, dict) or "load" not in result:
            continue
        for lvl in result["load"]:
            c = lvl["concurrency"]
            verdict = ""
            stock_rate = stock_by_c.get(c, {}).get("msg_per_s", 0)
            if bot != "stock" and c == SERVING_TARGET["concurrency"] and not stock_rate:
                verdict = "stock not run"  # --bots without stock: no ratio
            elif bot != "stock" and c == SERVING_TARGET["concurrency"]:
                ratio = lvl["msg_per_s"] / stock_rate
                ok = (
                    lvl["msg_per_s"] >= SERVING_TARGET["msg_per_s"]
                    and lvl["p99_ms"] <= SERVING_TARGET["p99_ms"]
                    and ratio >= SERVING_TARGET["x"]
                )
                verdict = f"{mark(ok)} ({ratio:.1f}× stock)"
            rows.append(
                [
                    bot,
                    str(c),
                    str(lvl["msg_per_s"]),
                    f"{lvl['p50_ms']} / {lvl['p95_ms']} / {lvl['p99_ms']}",
                    f"{lvl['errors']} err, {lvl['empty_replies']} empty",
                    per_core(lvl),
                    verdict,
                ]
            )
    return rows


def per_core(lvl: dict[str, Any]) -> str:
    """msg/s per core, CPU ms per message and cores used (production row)."""
    if "msg_per_s_per_core" not in lvl:
        return "–"
    return (
        f"{lvl['msg_per_s_per_core']} ({num(lvl['cpu_ms_per_msg'], ' ms')}, "
        f"{lvl['cores']} cores)"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def rss_rasa(result: dict[str, Any]) -> str:
    replicas = result.get("rss_replicas_mb")
    if replicas:  # production: each replica's
        return " + ".join(f"{mb}" for mb in replicas) + " MiB"
    anon = result.get("anon_rasa_mb")
    return f"{result['rss_rasa_mb']} MiB" + (f" (anon {anon})" if anon else "")


def render(report: dict[str, Any]) -> str:
    parts = [f"# Easy Flow vs stock Rasa — {report['mode']} mode, {report['when']}"]
    if "nlu" in report:
        parts.append(
            "\n## NLU (OOS = final intent nlu_fallback or out_of_scope)\n"
            + table(
                [
                    "data set",
                    "pipeline",
                    "in-scope acc",
                    "OOS recall",
                    "macro-F1",
                    "train",
                    "parse p50/p95 ms",
                    "target",
                ],
                nlu_rows(report["nlu"]),
            )
        )
    if "serving" in report:
        srv = report["serving"]
        parts.append(
            f"\n## Serving (REST webhook, {srv['duration_s_per_level']} s per level)\n"
            + table(
                [
                    "bot",
                    "conc.",
                    "msg/s",
                    "p50/p95/p99 ms",
                    "errors",
                    "msg/s/core (CPU/msg, cores)",
                    "target",
                ],
                serving_rows(srv),
            )
        )
        rows = []
        for bot, result in srv.items():
            if not isinstance(result, dict) or "startup_s" not in result:
                continue
            rows.append(
                [
                    bot,
                    num(result.get("train_s"), " s"),
                    f"{result['startup_s']} s",
                    rss_rasa(result),
                    num(result.get("rss_actions_mb"), " MiB"),
                ]
            )
        parts.append(
            f"\ntargets: start-up ≤ {STARTUP_TARGET_S} s, our rasa train ≤ "
            f"{TRAIN_TARGET_S} s\n"
            + table(["bot", "train", "start-up", "RSS rasa", "RSS actions"], rows)
        )
    if "retrieval" in report:
        summary = report["retrieval"]["summary"]
        parts.append(
            "\n## Fallback retrieval\n"
            + table(
                ["group", "questions", "recall@1", "recall@3", "p95 ms"],
                [
                    [
                        name,
                        str(s["questions"]),
                        f"{s['recall_at_1']:.2f}",
                        f"{s['recall_at_3']:.2f}",
                        f"{s['p95_ms']:.2f}",
                    ]
                    for name, s in summary.items()
                ],
            )
        )
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="full NLU splits")
    parser.add_argument("--only", choices=("nlu", "serving", "retrieval"))
    parser.add_argument(
        "--datasets", nargs="+", choices=sorted(datasets.LOADERS), default=None
    )
    parser.add_argument(
        "--stock-epochs",
        type=int,
        default=None,
        help=f"stock DIET epochs (default: 100 full, {QUICK_STOCK_EPOCHS} quick)",
    )
    parser.add_argument("--serving-seconds", type=float, default=None)
    parser.add_argument(
        "--bots",
        nargs="+",
        choices=(*serving.BOTS, "production"),
        default=list(serving.BOTS),
        help="production: the production profile behind nginx (bench/production.py)",
    )
    parser.add_argument(
        "--production-replicas", type=int, default=2, help="Rasa replicas (2)"
    )
    parser.add_argument(
        "--production-actions", type=int, default=1, help="action servers (1)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    quick = not args.full
    mode = "quick" if quick else "full"
    report: dict[str, Any] = {
        "mode": mode,
        "when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_at_start": os.getloadavg(),
    }
    if args.only in (None, "nlu"):
        epochs = args.stock_epochs or (QUICK_STOCK_EPOCHS if quick else 100)
        names = args.datasets or list(datasets.LOADERS)
        report["nlu"] = run_nlu(names, quick, epochs)
    if args.only in (None, "serving"):
        seconds = args.serving_seconds or (QUICK_SERVING_S if quick else FULL_SERVING_S)
        bots = [bot for bot in args.bots if bot in serving.BOTS]
        report["serving"] = (
            serving.run(seconds, bots=bots)
            if bots
            else {"duration_s_per_level": seconds}
        )
        if "production" in args.bots:
            print("serving: production", flush=True)
            report["serving"]["production"] = production.run(
                seconds, args.production_replicas, args.production_actions
            )
    if args.only in (None, "retrieval"):
        report["retrieval"] = run_retrieval()
    report["load_average_at_end"] = os.getloadavg()
    text = render(report)
    print("\n" + text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = f"-{args.only}" if args.only else ""
    path = RESULTS / f"bench-{mode}{suffix}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    (path.with_suffix(".md")).write_text(text + "\n", "utf-8")
    print(f"\nJSON: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
