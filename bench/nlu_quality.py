"""Trains one NLU pipeline on one data set and scores it on the test split.

(``--split val`` scores the validation split instead, for tuning: CLINC150 has
one, Banking77 does not.)

Run in its own process per (pipeline, data set), so TensorFlow state, memory and
thread pools never leak from one measurement into the next:

    .venv/bin/python -m bench.nlu_quality --pipeline ours --dataset clinc150_en \
        [--quick] --json out.json

Pipelines:
- ``ours``: the ``pipeline`` section of the project's ``config.yml``, as is.
- ``stock``: what ``rasa init`` trains (Rasa 3.6's default pipeline, written out:
  WhitespaceTokenizer, RegexFeaturizer, LexicalSyntacticFeaturizer, word and
  char_wb 1-4 CountVectorsFeaturizer, DIETClassifier 100 epochs,
  EntitySynonymMapper, ResponseSelector 100 epochs, FallbackClassifier 0.3 /
  ambiguity 0.1). ``--stock-epochs`` lowers the epochs, and the result then says
  so (``stock_epochs``): that is no longer stock.

Out-of-scope rule, the same for both pipelines: OOS training examples are the
intent ``out_of_scope``; a test message is predicted OOS when the final intent is
``nlu_fallback`` (FallbackClassifier: confidence under its threshold, or top two
too close) or ``out_of_scope``.

Metrics: in-scope accuracy (in-scope test messages whose final intent is right; a
fallback counts as wrong), OOS recall (OOS test messages predicted OOS), macro-F1
over every intent plus "oos" as one class, training wall time (``train_nlu``,
including featurisation and model packing), parse latency (one message at a time
through the loaded model's graph, as the server does), model load time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bench import datasets
from bench.stats import percentile

ROOT = Path(__file__).resolve().parents[1]
PROJECT_CONFIG = ROOT / "config.yml"
OOS = "oos"
FALLBACK_INTENTS = {"nlu_fallback", datasets.OOS_INTENT}
LATENCY_SAMPLE = 200
STOCK_EPOCHS = 100

STOCK_PIPELINE: list[dict[str, Any]] = [
    {"name": "WhitespaceTokenizer"},
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {
        "name": "CountVectorsFeaturizer",
        "analyzer": "char_wb",
        "min_ngram": 1,
        "max_ngram": 4,
    },
    {"name": "DIETClassifier", "epochs": STOCK_EPOCHS},
    {"name": "EntitySynonymMapper"},
    {"name": "ResponseSelector", "epochs": STOCK_EPOCHS},
    {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
]


def pipeline_config(
    pipeline: str, language: str, stock_epochs: int, config: Path = PROJECT_CONFIG
) -> dict:
    if pipeline == "stock":
        steps = [dict(step) for step in STOCK_PIPELINE]
        for step in steps:
            if "epochs" in step:
                step["epochs"] = stock_epochs
    elif pipeline == "ours":
        steps = yaml.safe_load(config.read_text("utf-8"))["pipeline"]
    else:
        raise ValueError(f"unknown pipeline {pipeline!r}")
    return {
        "recipe": "default.v1",
        "language": language,
        "assistant_id": f"bench-{pipeline}",
        "pipeline": steps,
        "policies": [],
    }


def write_training_data(examples: Sequence[datasets.Example], path: Path) -> None:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    messages = [
        Message.build(text=text, intent=datasets.training_label(label))
        for text, label in examples
    ]
    RasaYAMLWriter().dump(path, TrainingData(training_examples=messages))


def predicted_label(parsed: dict[str, Any]) -> str:
    name = (parsed.get("intent") or {}).get("name")
    return OOS if (name is None or name in FALLBACK_INTENTS) else str(name)


def score(truth: Sequence[str | None], predicted: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import f1_score

    gold = [OOS if label is None else label for label in truth]
    in_scope = [(g, p) for g, p in zip(gold, predicted, strict=False) if g != OOS]
    oos = [p for g, p in zip(gold, predicted, strict=False) if g == OOS]
    return {
        "in_scope_accuracy": sum(g == p for g, p in in_scope) / len(in_scope),
        "oos_recall": (sum(p == OOS for p in oos) / len(oos)) if oos else None,
        "in_scope_predicted_oos": sum(p == OOS for _, p in in_scope) / len(in_scope),
        "macro_f1": float(
            f1_score(gold, predicted, labels=sorted(set(gold)), average="macro")
        ),
        "n_test": len(gold),
        "n_test_oos": len(oos),
    }


def evaluate(model_path: str, test: Sequence[datasets.Example]) -> dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage

    started = time.perf_counter()
    agent = Agent.load(model_path)
    load_s = time.perf_counter() - started
    processor = agent.processor
    assert processor is not None
    target = processor.model_metadata.nlu_target

    def parse(texts: Sequence[str]) -> list[dict[str, Any]]:
        messages = [UserMessage(text) for text in texts]
        out = processor.graph_runner.run(
            inputs={"__message__": messages}, targets=[target]
        )[target]
        return [m.as_dict(only_output_properties=True) for m in out]

    texts = [text for text, _ in test]
    predicted: list[str] = []
    started = time.perf_counter()
    for start in range(0, len(texts), 256):
        predicted += [predicted_label(p) for p in parse(texts[start : start + 256])]
    batch_s = time.perf_counter() - started

    parse(texts[:5])  # warm-up
    latencies = []
    for text in texts[:: max(1, len(texts) // LATENCY_SAMPLE)][:LATENCY_SAMPLE]:
        started = time.perf_counter()
        parse([text])
        latencies.append((time.perf_counter() - started) * 1000)

    result = score([label for _, label in test], predicted)
    result.update(
        {
            "model_load_s": round(load_s, 2),
            "parse_ms_p50": round(statistics.median(latencies), 2),
            "parse_ms_p95": round(percentile(latencies, 0.95), 2),
            "batch_parse_msg_per_s": round(len(texts) / batch_s, 1),
        }
    )
    return result


def run(
    pipeline: str,
    name: str,
    quick: bool,
    stock_epochs: int = STOCK_EPOCHS,
    config: Path = PROJECT_CONFIG,
    split: str = "test",
) -> dict[str, Any]:
    from rasa.model_training import train_nlu

    data = datasets.load(name, quick)
    scored = data.val if split == "val" else data.test
    if not scored:
        raise ValueError(f"{name} has no {split} split")
    with tempfile.TemporaryDirectory(prefix="easyflow-bench-") as tmp:
        work = Path(tmp)
        config_file = work / "config.yml"
        config_file.write_text(
            yaml.safe_dump(
                pipeline_config(pipeline, data.language, stock_epochs, config),
                allow_unicode=True,
            ),
            "utf-8",
        )
        nlu = work / "nlu.yml"
        write_training_data(data.train, nlu)
        started = time.perf_counter()
        model = train_nlu(str(config_file), str(nlu), str(work / "models"))
        train_s = time.perf_counter() - started
        if model is None:
            raise RuntimeError("training produced no model")
        result = evaluate(model, scored)
    result.update(
        {
            "pipeline": pipeline,
            "dataset": name,
            "mode": "quick" if quick else "full",
            "split": split,
            "n_train": len(data.train),
            "train_s": round(train_s, 1),
        }
    )
    if pipeline == "stock":
        result["stock_epochs"] = stock_epochs
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", choices=("ours", "stock"), required=True)
    parser.add_argument("--dataset", choices=sorted(datasets.LOADERS), required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--stock-epochs", type=int, default=STOCK_EPOCHS)
    parser.add_argument(
        "--config", type=Path, default=PROJECT_CONFIG, help="pipeline of 'ours'"
    )
    parser.add_argument(
        "--split",
        choices=("test", "val"),
        default="test",
        help="scored split: tune on val (CLINC150 has one), report test",
    )
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Rasa's training cache would skip work done by an earlier run: time it all.
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"
    result = run(
        args.pipeline,
        args.dataset,
        args.quick,
        args.stock_epochs,
        args.config,
        args.split,
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
