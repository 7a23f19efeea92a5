"""Load time and generation speed of the tests' tiny model on this machine.

``.venv/bin/python scripts/bench.py [--model-dir DIR]``: without a directory it
builds the tiny model (untrained, so it runs to ``--tokens`` every time). Prints
one JSON object. A real model's figures differ by orders of magnitude; this
measures the server's own overhead and the machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from easyflow_llm.generation import GenerationRequest, generate
from easyflow_llm.model import load_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from tiny_model import build_tiny_model

# A real passage file: about as long as the prompts the action server sends.
PASSAGE = Path(__file__).resolve().parents[2] / "data/knowledge/ru/gift_wrapping.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.monotonic()
        model_dir = args.model_dir or build_tiny_model(Path(folder), steps=0)
        built_s = time.monotonic() - started
        model = load_model(model_dir, threads=args.threads)
        long_text = PASSAGE.read_text()
        prompts = {
            "short": [{"role": "user", "content": "Как вернуть товар?"}],
            "long": [{"role": "user", "content": long_text}],
        }
        result: dict[str, object] = {
            "built_s": round(built_s, 2),
            "load_s": round(model.load_s, 3),
            "parameters": sum(p.numel() for p in model.model.parameters()),
        }
        generate(model, GenerationRequest(prompts["short"], max_tokens=5))  # warm
        for name, messages in prompts.items():
            runs = [
                generate(model, GenerationRequest(messages, max_tokens=args.tokens))
                for _ in range(args.runs)
            ]
            result[name] = {
                "prompt_tokens": runs[0].prompt_tokens,
                "completion_tokens": runs[0].completion_tokens,
                "median_s": round(statistics.median(r.elapsed_s for r in runs), 3),
                "tokens_per_s": round(
                    statistics.median(r.completion_tokens / r.elapsed_s for r in runs),
                    1,
                ),
            }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
