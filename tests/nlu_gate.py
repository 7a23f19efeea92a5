"""Fails the build when held-out intent accuracy, or the F1 of an entity the
flows rely on, drops below a threshold.

Usage: python -m tests.nlu_gate results/nlu/intent_report.json 0.85 [0.90]

The third argument is the minimum F1 of each of ``ENTITIES`` in the CRF report
next to the intent report (``CRFEntityExtractor_report.json``): the stock check
and the exchange read the product, size and colour from the message, and training
data that mentions them without marking them teaches the extractor to ignore them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ENTITIES = ("product", "size", "color")
ENTITY_REPORT = "CRFEntityExtractor_report.json"


def entity_failures(report: dict, minimum: float) -> list[str]:
    found = []
    for name in ENTITIES:
        f1 = float(report.get(name, {}).get("f1-score", 0.0))
        print(f"held-out {name} F1: {f1:.3f} (minimum {minimum:.3f})")
        if f1 < minimum:
            found.append(name)
    return found


def main(report_path: str, minimum: str, entity_minimum: str | None = None) -> int:
    report = json.loads(Path(report_path).read_text("utf-8"))
    accuracy = float(report["accuracy"])
    weakest = sorted(
        (
            (values["f1-score"], name)
            for name, values in report.items()
            if isinstance(values, dict) and "f1-score" in values and " avg" not in name
        )
    )[:3]
    print(f"held-out intent accuracy: {accuracy:.3f} (minimum {float(minimum):.3f})")
    print("weakest intents:", ", ".join(f"{name} {f1:.2f}" for f1, name in weakest))
    failed = accuracy < float(minimum)
    if entity_minimum is not None:
        entities = Path(report_path).with_name(ENTITY_REPORT)
        report = json.loads(entities.read_text("utf-8"))
        failed |= bool(entity_failures(report, float(entity_minimum)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
