"""Public intent data sets from ``../shared/datasets``, read in place (never copied).

Every data set becomes the same shape: ``train`` / ``val`` / ``test`` lists of
``(text, label)``, with ``label`` ``None`` for out-of-scope (OOS) messages. OOS
training examples are labelled ``out_of_scope`` at training time (the project's own
intent name), the same way for every pipeline.

Quick mode takes a fixed stratified subset (the first ``n`` examples of every intent
in file order after a seeded shuffle), identical for every pipeline and every run.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _datasets_dir() -> Path:
    """``EASYFLOW_DATASETS``, else ``../shared/datasets`` beside this checkout, else
    the workplace's ``/work/shared/datasets`` (a clone made elsewhere, as CI's)."""
    if os.environ.get("EASYFLOW_DATASETS"):
        return Path(os.environ["EASYFLOW_DATASETS"])
    beside = ROOT.parent / "shared" / "datasets"
    for candidate in (beside, Path("/work/shared/datasets")):
        if candidate.is_dir():
            return candidate
    return beside


DATASETS = _datasets_dir()
OOS_INTENT = "out_of_scope"
QUICK_SEED = 13

Example = tuple[str, str | None]


@dataclass(frozen=True)
class Dataset:
    name: str
    language: str
    train: list[Example]
    val: list[Example]
    test: list[Example]

    @property
    def has_oos(self) -> bool:
        return any(label is None for _, label in self.test)

    def intents(self) -> list[str]:
        return sorted({label for _, label in self.train if label is not None})


def _clean(text: str) -> str:
    return " ".join(text.split())


def clinc_en(root: Path = DATASETS) -> Dataset:
    raw = json.loads((root / "clinc150" / "data_full.json").read_text("utf-8"))

    def part(name: str) -> list[Example]:
        in_scope = [(_clean(t), str(label)) for t, label in raw[name]]
        oos = [(_clean(t), None) for t, _ in raw[f"oos_{name}"]]
        return in_scope + oos

    return Dataset("clinc150_en", "en", part("train"), part("val"), part("test"))


def clinc_ru(root: Path = DATASETS) -> Dataset:
    raw = json.loads((root / "ru" / "clinc150_ru.json").read_text("utf-8"))
    names = json.loads((root / "ru" / "clinc150_ru_label_names.json").read_text())
    names = (
        {int(k): v for k, v in names.items()}
        if isinstance(names, dict)
        else {i: v for i, v in enumerate(names)}
    )

    def part(name: str) -> list[Example]:
        return [
            (
                _clean(row["utterance"]),
                None if row["label"] is None else str(names[int(row["label"])]),
            )
            for row in raw[name]
        ]

    return Dataset("clinc150_ru", "ru", part("train"), part("validation"), part("test"))


def banking_en(root: Path = DATASETS) -> Dataset:
    def part(name: str) -> list[Example]:
        with (root / "banking77" / f"{name}.csv").open(encoding="utf-8") as file:
            return [(_clean(r["text"]), r["category"]) for r in csv.DictReader(file)]

    return Dataset("banking77_en", "en", part("train"), [], part("test"))


def banking_ru(root: Path = DATASETS) -> Dataset:
    raw = json.loads((root / "ru" / "banking77_ru.json").read_text("utf-8"))

    def part(name: str) -> list[Example]:
        return [(_clean(r["utterance"]), f"b{int(r['label']):02d}") for r in raw[name]]

    return Dataset("banking77_ru", "ru", part("train"), [], part("test"))


LOADERS: dict[str, Callable[[], Dataset]] = {
    "clinc150_en": clinc_en,
    "clinc150_ru": clinc_ru,
    "banking77_en": banking_en,
    "banking77_ru": banking_ru,
}

# Quick mode: examples per intent (OOS counts as one intent) kept from each part.
QUICK_TRAIN_PER_INTENT = 10
QUICK_TEST_PER_INTENT = 5
QUICK_TEST_OOS = 200


def stratified(
    examples: Sequence[Example], per_label: int, oos: int | None = None
) -> list[Example]:
    """The first ``per_label`` examples of each label after a fixed shuffle."""
    shuffled = list(examples)
    random.Random(QUICK_SEED).shuffle(shuffled)
    taken: dict[str | None, int] = defaultdict(int)
    kept = []
    for text, label in shuffled:
        limit = oos if (label is None and oos is not None) else per_label
        if taken[label] < limit:
            taken[label] += 1
            kept.append((text, label))
    return kept


def load(name: str, quick: bool) -> Dataset:
    full = LOADERS[name]()
    if not quick:
        return full
    return Dataset(
        full.name,
        full.language,
        stratified(full.train, QUICK_TRAIN_PER_INTENT),
        stratified(full.val, QUICK_TEST_PER_INTENT, QUICK_TEST_OOS),
        stratified(full.test, QUICK_TEST_PER_INTENT, QUICK_TEST_OOS),
    )


def training_label(label: str | None) -> str:
    return OOS_INTENT if label is None else label
