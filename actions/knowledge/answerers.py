"""Answerers behind one interface: extractive (embedded default) and any
OpenAI-compatible chat-completions endpoint (OpenAI, YandexGPT, a GigaChat proxy,
vLLM, Ollama, llama.cpp server).

An answerer gets the question, the retrieved passages and the conversation so far,
and returns an ``Answer``; ``text is None`` means "the passages do not answer this".
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass
from typing import Any

from actions.knowledge.history import HistoryTurn
from actions.knowledge.prompts import NO_ANSWER, build_messages
from actions.knowledge.retrieval import Hit, Passage, _terms

__all__ = [
    "Answer",
    "Answerer",
    "ExtractiveAnswerer",
    "HistoryTurn",
    "OpenAICompatibleAnswerer",
]

MAX_EXTRACT_CHARS = 600


@dataclass(frozen=True)
class Answer:
    text: str | None
    answerer: str
    sources: tuple[str, ...]
    passage: Passage | None = None  # the passage cited to the shopper


class Answerer(abc.ABC):
    name: str

    @abc.abstractmethod
    async def answer(
        self,
        question: str,
        hits: list[Hit],
        history: list[HistoryTurn],
        language: str,
        timeout_s: float,
    ) -> Answer: ...


class ExtractiveAnswerer(Answerer):
    """The best passage, trimmed to the sentences that match the question."""

    name = "extractive"

    async def answer(
        self,
        question: str,
        hits: list[Hit],
        history: list[HistoryTurn],
        language: str,
        timeout_s: float,
    ) -> Answer:
        if not hits:
            return Answer(None, self.name, ())
        passage = hits[0].passage
        return Answer(
            trim(passage.text, question), self.name, (passage.source,), passage
        )


_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-ZА-ЯЁ0-9«\"(])")


def trim(text: str, question: str, limit: int = MAX_EXTRACT_CHARS) -> str:
    """The passage if short; else its sentences that share most words with the
    question, in their original order, within ``limit`` characters."""
    text = " ".join(text.split()) if "|" not in text else text.strip()
    if len(text) <= limit:
        return text
    sentences = _SENTENCES.split(text)
    wanted = set(_terms(question))
    ranked = sorted(
        range(len(sentences)),
        key=lambda i: (-len(wanted & set(_terms(sentences[i]))), i),
    )
    chosen: list[int] = []
    size = 0
    for index in ranked:
        if size + len(sentences[index]) + 1 > limit and chosen:
            continue
        chosen.append(index)
        size += len(sentences[index]) + 1
    return " ".join(sentences[i] for i in sorted(chosen))[:limit]


class OpenAICompatibleAnswerer(Answerer):
    """Chat completions through the ``openai`` package at a configurable base URL."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        max_tokens: int = 300,
        temperature: float = 0.2,
        client: Any = None,
        name: str = "openai",
    ) -> None:
        # "local" when the endpoint is the project's own model server (llm/):
        # the same protocol, told apart in traces and metrics.
        self.name = name
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._base_url = base_url
        self._api_key = api_key
        self._client = client

    def _openai(self) -> Any:
        if self._client is None:  # built on first use, never at import time
            from openai import AsyncOpenAI

            self._client = AsyncOpenAI(
                base_url=self._base_url, api_key=self._api_key, max_retries=0
            )
        return self._client

    async def answer(
        self,
        question: str,
        hits: list[Hit],
        history: list[HistoryTurn],
        language: str,
        timeout_s: float,
    ) -> Answer:
        passages = [hit.passage for hit in hits]
        completion = await self._openai().chat.completions.create(
            model=self.model,
            messages=build_messages(question, passages, history, language),
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            timeout=timeout_s,
        )
        text = (completion.choices[0].message.content or "").strip()
        sources = tuple(p.source for p in passages)
        if not text or NO_ANSWER in text:
            return Answer(None, self.name, sources)
        return Answer(text, self.name, sources, passages[0] if passages else None)
