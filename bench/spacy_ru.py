"""spaCy's Russian tokenizer with pymorphy3 lemmas, built locally (nothing downloaded).

For the spaCy comparison in ``bench/README.md`` ("spaCy's Russian tokenizer and
lemmatizer (measured, not used)"). spaCy is not a project dependency: run this in
a separate environment with ``spacy>=3.1,<3.5`` (what ``rasa[spacy]`` 3.6 accepts).

The pipeline is ``spacy.blank("ru")`` (spaCy's rule-based Russian tokenizer) plus
one component, ``pymorphy3_lemmatizer``, that sets each Cyrillic token's lemma to
pymorphy3's first parse (``normal_form``, "ё" read as "е": the lemmas the intent
classifier computes itself in ``bot/nlu/linear_intents.py``); other tokens keep
their lower-cased text. spaCy's own Russian lemmatizer is not used: it imports
pymorphy2, and without a tagger (no trained Russian model can be downloaded here)
its ``pymorphy2`` mode returns every word unchanged, since it only lemmatises
tokens whose part of speech is known.

Rasa's ``SpacyNLP`` loads its ``model`` with ``spacy.load``, which must find the
``pymorphy3_lemmatizer`` factory: a bare folder cannot register it, so the folder
is packaged with this file as its code and installed::

    python -m bench.spacy_ru /tmp/spacy-eval-models/ru_pipeline \\
        --package /tmp/spacy-eval-models/pkg
    uv pip install --python "$VENV/bin/python" \\
        /tmp/spacy-eval-models/pkg/ru_easyflow-1.0.0/dist/ru_easyflow-1.0.0.tar.gz

and the pipeline then names ``- name: SpacyNLP`` with ``model: ru_easyflow``.
"""

# No ``from __future__ import annotations``: spaCy validates the factory's
# signature with pydantic, which needs real annotations.
import argparse
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import pymorphy3
import spacy
from spacy.language import Language
from spacy.tokens import Doc

FACTORY = "pymorphy3_lemmatizer"
NAME = "easyflow"
VERSION = "1.0.0"
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


@lru_cache(maxsize=1)
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """pymorphy3's first normal form of a Cyrillic word; other words lower-cased."""
    lowered = word.lower()
    if not _CYRILLIC.search(lowered):
        return lowered
    return str(_morph().parse(lowered)[0].normal_form).replace("ё", "е")


class Pymorphy3Lemmatizer:
    """Sets ``token.lemma_`` from pymorphy3 (no tagger needed)."""

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            token.lemma_ = lemma(token.text)
        return doc


@Language.factory(FACTORY)
def make_lemmatizer(nlp: Language, name: str) -> Pymorphy3Lemmatizer:
    return Pymorphy3Lemmatizer()


def build(path: Path) -> Language:
    """``spacy.blank("ru")`` with the pymorphy3 lemmatizer, saved into ``path``."""
    nlp = spacy.blank("ru")
    nlp.add_pipe(FACTORY)
    nlp.meta.update({"name": NAME, "version": VERSION, "license": "MIT"})
    nlp.to_disk(path)
    return nlp


def package(path: Path, out: Path) -> None:
    """``spacy package`` the folder, with this file as its code, into an sdist.

    Called as a function: spaCy 3.4's command line (typer 0.7) fails on the
    click 8 that Rasa's environment holds.
    """
    from spacy.cli.package import package as spacy_package

    out.mkdir(parents=True, exist_ok=True)
    spacy_package(path, out, code_paths=[Path(__file__)], force=True, silent=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="folder to write the pipeline into")
    parser.add_argument("--package", type=Path, help="also package it here (sdist)")
    args = parser.parse_args(argv)
    nlp = build(args.path)
    sample: Any = nlp("Где мои заказы? Заказала платье-рубашку 12.03")
    print(" ".join(f"{t.text}/{t.lemma_}" for t in sample))
    if args.package:
        package(args.path, args.package)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
