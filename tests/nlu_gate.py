"""Fails the build when held-out intent accuracy drops below a threshold.

Usage: python -m tests.nlu_gate results/nlu/intent_report.json 0.85
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(report_path: str, minimum: str) -> int:
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
    return 0 if accuracy >= float(minimum) else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
