"""Shop slang for retrieval: "вб", "промик", "днюха" are searched as the words the
knowledge files use ("Wildberries", "промокод", "день рождения").

The lexicon is ``data/knowledge/synonyms.yml``, edited by conversation designers.
Matching is on whole words (and whole phrases for multi-word aliases), after
lower-casing and ё→е; a question keeps its own words and gains the canonical ones.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

logger = logging.getLogger(__name__)

_WORD = re.compile(r"[\w-]+", re.UNICODE)


def _normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower().replace("ё", "е")))


@dataclass(frozen=True)
class Lexicon:
    # language -> [(alias phrase, canonical words)], longest alias first
    aliases: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        if not path.is_file():
            return cls()
        try:
            data = yaml.safe_load(path.read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            logger.warning("knowledge.lexicon.unreadable", extra={"error": str(error)})
            return cls()
        aliases: dict[str, list[tuple[str, str]]] = {}
        for language, entries in data.items():
            pairs = [
                (_normalise(str(alias)), str(canonical))
                for canonical, alias_list in (entries or {}).items()
                for alias in alias_list or []
                if _normalise(str(alias))
            ]
            pairs.sort(key=lambda pair: -len(pair[0]))
            aliases[str(language)] = pairs
        return cls(aliases)

    def expand(self, question: str, language: str) -> str:
        """The question plus the canonical words of every alias it contains."""
        text = f" {_normalise(question)} "
        added = [
            canonical
            for alias, canonical in self.aliases.get(language, [])
            if f" {alias} " in text
        ]
        if not added:
            return question
        return f"{question} {' '.join(dict.fromkeys(added))}"
