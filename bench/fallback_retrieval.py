"""Retrieval benchmark for the knowledge fallback.

Builds ``KnowledgeIndex`` over ``data/knowledge`` once, asks every question of
``bench/data/knowledge_questions.yml`` (the whole set ``--repeats`` times, for
timing), and reports recall@1, recall@3 and search latency per language and
overall, then every question whose expected passage was not the top hit.

    .venv/bin/python -m bench.fallback_retrieval [--json PATH]

Recall comes from the first pass (search is deterministic; later passes are checked
to return the same ranking). Latency is the wall time of one ``search`` call,
over all passes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from actions.knowledge.retrieval import KnowledgeIndex
from bench.stats import git_commit, percentile

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "bench" / "data" / "knowledge_questions.yml"
KNOWLEDGE = ROOT / "data" / "knowledge"
RETRIEVER = ROOT / "actions" / "knowledge" / "retrieval.py"
DEFAULT_JSON = ROOT / "results" / "bench" / "fallback_retrieval.json"
TOP_K = 3
REPEATS = 5
TARGET_RECALL_AT_3 = 0.9
TARGET_P95_MS = 50.0
GROUPS = ("ru", "en", "all")


@dataclass(frozen=True)
class Question:
    language: str
    question: str
    expected: tuple[str, ...]


@dataclass
class Outcome:
    item: Question
    top: list[tuple[str, float]]  # (passage id, BM25 score), best first
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rank(self) -> int | None:
        """1-based rank of the first acceptable passage in the top-k, or None."""
        for position, (source, _) in enumerate(self.top, start=1):
            if source in self.item.expected:
                return position
        return None


@dataclass(frozen=True)
class Summary:
    questions: int
    recall_at_1: float
    recall_at_3: float
    mean_ms: float
    p95_ms: float
    first_pass_p95_ms: float


def load_questions(path: Path, known: set[str]) -> list[Question]:
    """Read and validate the question set; every expected id must be a passage."""
    data = yaml.safe_load(path.read_text("utf-8"))
    raw = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(raw, list) or not raw:
        raise SystemExit(f"{path}: expected a non-empty 'questions' list")
    questions: list[Question] = []
    errors: list[str] = []
    for number, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            errors.append(f"#{number}: not a mapping")
            continue
        language = entry.get("language")
        text = entry.get("question")
        expected = entry.get("expected")
        if isinstance(expected, str):
            expected = [expected]
        if language not in {"ru", "en"}:
            errors.append(f"#{number}: language must be ru or en, not {language!r}")
        if not isinstance(text, str) or not text.strip():
            errors.append(f"#{number}: empty question")
        if (
            not isinstance(expected, list)
            or not expected
            or not all(isinstance(source, str) for source in expected)
        ):
            errors.append(f"#{number}: expected must be a passage id or a list of ids")
            continue
        for source in expected:
            if source not in known:
                errors.append(f"#{number} {text!r}: unknown passage {source!r}")
            elif not source.startswith(f"{language}/"):
                errors.append(f"#{number} {text!r}: {source!r} is not {language}")
        questions.append(Question(str(language), str(text), tuple(expected)))
    if errors:
        raise SystemExit(f"{path}: invalid questions:\n  " + "\n  ".join(errors))
    return questions


def uncovered_files(knowledge: Path, questions: Sequence[Question]) -> list[str]:
    """Knowledge files (``<lang>/<file>.md``) no question is answered from."""
    files = {f"{path.parent.name}/{path.name}" for path in knowledge.glob("*/*.md")}
    covered = {source.split("#", 1)[0] for q in questions for source in q.expected}
    return sorted(files - covered)


def run(
    index: KnowledgeIndex, questions: Sequence[Question], repeats: int
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for round_ in range(repeats):
        for number, item in enumerate(questions):
            start = time.perf_counter_ns()
            hits = index.search(item.question, item.language, limit=TOP_K)
            elapsed_ms = (time.perf_counter_ns() - start) / 1e6
            top = [(hit.passage.source, hit.score) for hit in hits]
            if round_ == 0:
                outcomes.append(Outcome(item, top))
            elif [s for s, _ in top] != [s for s, _ in outcomes[number].top]:
                raise SystemExit(f"non-deterministic ranking for {item.question!r}")
            outcomes[number].latencies_ms.append(elapsed_ms)
    return outcomes


def summarize(outcomes: Sequence[Outcome]) -> Summary:
    ranks = [outcome.rank for outcome in outcomes]
    samples = [ms for outcome in outcomes for ms in outcome.latencies_ms]
    first_pass = [outcome.latencies_ms[0] for outcome in outcomes]
    return Summary(
        questions=len(outcomes),
        recall_at_1=sum(rank == 1 for rank in ranks) / len(ranks),
        recall_at_3=sum(rank is not None and rank <= 3 for rank in ranks) / len(ranks),
        mean_ms=statistics.fmean(samples),
        p95_ms=percentile(samples, 0.95),
        first_pass_p95_ms=percentile(first_pass, 0.95),
    )


def group(outcomes: Sequence[Outcome], name: str) -> list[Outcome]:
    return [o for o in outcomes if name == "all" or o.item.language == name]


def table(summaries: dict[str, Summary]) -> str:
    header = (
        f"{'lang':<5} {'questions':>9} {'recall@1':>9} {'recall@3':>9} "
        f"{'mean ms':>8} {'p95 ms':>8}"
    )
    lines = [header, "-" * len(header)]
    for name, s in summaries.items():
        lines.append(
            f"{name:<5} {s.questions:>9} {s.recall_at_1:>9.3f} {s.recall_at_3:>9.3f} "
            f"{s.mean_ms:>8.3f} {s.p95_ms:>8.3f}"
        )
    return "\n".join(lines)


def misses(outcomes: Sequence[Outcome]) -> str:
    """Every question whose expected passage is not the top hit."""
    lines: list[str] = []
    for outcome in outcomes:
        rank = outcome.rank
        if rank == 1:
            continue
        mark = "MISS@3" if rank is None else f"rank {rank}"
        lines.append(f"[{outcome.item.language}] {mark}: {outcome.item.question}")
        for source in outcome.item.expected:
            lines.append(f"    expected  {source}")
        if not outcome.top:
            lines.append("    got       (nothing)")
        for position, (source, score) in enumerate(outcome.top, start=1):
            lines.append(f"    got {position}.    {source}  ({score:.2f})")
    return "\n".join(lines) if lines else "(none)"


def sha256(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fallback_retrieval", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="output")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--knowledge", type=Path, default=KNOWLEDGE)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    start = time.perf_counter()
    index = KnowledgeIndex.from_dir(args.knowledge)
    index.warm_up()  # as the action server does at start
    build_ms = (time.perf_counter() - start) * 1000
    passages = {
        lang: sum(p.language == lang for p in index.passages) for lang in ("ru", "en")
    }

    questions = load_questions(
        args.questions, {passage.source for passage in index.passages}
    )
    uncovered = uncovered_files(args.knowledge, questions)
    outcomes = run(index, questions, args.repeats)
    summaries = {name: summarize(group(outcomes, name)) for name in GROUPS}
    overall = summaries["all"]
    recall_ok = overall.recall_at_3 >= TARGET_RECALL_AT_3
    p95_ok = overall.p95_ms <= TARGET_P95_MS

    print(
        f"Knowledge fallback retrieval: {len(index.passages)} passages "
        f"(ru {passages['ru']}, en {passages['en']}), "
        f"index built once in {build_ms:.1f} ms"
    )
    print(
        f"{overall.questions} questions x {args.repeats} repeats, top-{TOP_K}; "
        "latency = one search() call\n"
    )
    print(table(summaries))
    print(
        f"\ntargets (all): recall@3 >= {TARGET_RECALL_AT_3:.2f} "
        f"{'PASS' if recall_ok else 'FAIL'} ({overall.recall_at_3:.3f}), "
        f"p95 <= {TARGET_P95_MS:.0f} ms {'PASS' if p95_ok else 'FAIL'} "
        f"({overall.p95_ms:.3f} ms)"
    )
    if uncovered:
        print(f"warning: no question covers {', '.join(uncovered)}")
    print("\nNot ranked first (expected vs got top-3):")
    print(misses(outcomes))

    knowledge_files = sorted(args.knowledge.glob("*/*.md"))
    report: dict[str, Any] = {
        "benchmark": "fallback_retrieval",
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "questions_file": relative(args.questions),
        "questions_sha256": sha256([args.questions.resolve()]),
        "knowledge_dir": relative(args.knowledge),
        "knowledge_sha256": sha256([p.resolve() for p in knowledge_files]),
        "retriever_sha256": sha256([RETRIEVER]),
        "passages": passages,
        "build_ms": round(build_ms, 3),
        "repeats": args.repeats,
        "top_k": TOP_K,
        "targets": {
            "recall_at_3": TARGET_RECALL_AT_3,
            "p95_ms": TARGET_P95_MS,
            "recall_at_3_met": recall_ok,
            "p95_met": p95_ok,
        },
        "uncovered_files": uncovered,
        "summary": {
            name: {
                key: round(value, 4) if isinstance(value, float) else value
                for key, value in vars(s).items()
            }
            for name, s in summaries.items()
        },
        "results": [
            {
                "language": o.item.language,
                "question": o.item.question,
                "expected": list(o.item.expected),
                "rank": o.rank,
                "top": [
                    {"source": source, "score": round(score, 4)}
                    for source, score in o.top
                ],
                "latency_ms": [round(ms, 4) for ms in o.latencies_ms],
            }
            for o in outcomes
        ],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
    print(f"\nJSON: {relative(args.json)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
