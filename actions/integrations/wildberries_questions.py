"""Wildberries customer questions (the "Feedbacks and Questions" API), for operators.

Host ``WB_FEEDBACKS_URL`` (``https://feedbacks-api.wildberries.ru``); header
``Authorization: <token>`` with a token of the "Feedbacks and Questions" category
(``WB_FEEDBACKS_TOKEN``, else ``WB_API_TOKEN`` when that token has the category).

* ``GET /api/v1/questions?isAnswered=false&take=<≤10000>&skip=<n>&order=dateDesc``
  → ``{"data": {"countUnanswered", "countArchive", "questions": [{"id", "text",
  "createdDate", "state", "answer", "productDetails": {"nmId", "productName",
  "supplierArticle", …}, "wasViewed", …}]}, "error": false, "errorText": ""}``;
* ``PATCH /api/v1/questions`` ``{"id": "…", "answer": {"text": "…"}, "state":
  "wbRu"}`` answers (or edits the answer to) one question and publishes it. A body
  with a top-level ``text`` is accepted but leaves the question unanswered, so the
  answer is always nested.

The category allows about one request per second (over three per second blocks
requests for a minute); 429 is retried by ``PlatformClient`` after
``X-Ratelimit-Retry``. Answers ``{"error": true, "errorText": …}`` and HTTP errors
raise ``QuestionsError``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actions.integrations.marketplace import parse_time
from common.http import BodyError, PlatformClient, PlatformError, RetryPolicy
from common.settings import Reader, SettingsError

logger = logging.getLogger(__name__)

NAME = "wildberries_questions"
FEEDBACKS_URL = "https://feedbacks-api.wildberries.ru"
MAX_TAKE = 10_000
MAX_ANSWER = 5000


class QuestionsError(RuntimeError):
    """Wildberries did not list or did not take the answer."""


@dataclass(frozen=True)
class Question:
    question_id: str
    text: str
    created_at: datetime | None
    nm_id: int | None
    product_name: str
    supplier_article: str
    answer: str | None
    was_viewed: bool


def _body_error(parsed: Any) -> BodyError | None:
    if isinstance(parsed, dict) and parsed.get("error") is True:
        return BodyError(retryable=False)
    return None


@dataclass(frozen=True)
class WildberriesQuestionsConfig:
    """``WB_FEEDBACKS_*`` settings (the marketplace token where no own one is set)."""

    token: str = field(repr=False)
    feedbacks_url: str = FEEDBACKS_URL
    timeout_s: float = 10.0

    @classmethod
    def from_env(cls, reader: Reader) -> WildberriesQuestionsConfig:
        token = reader.raw("WB_FEEDBACKS_TOKEN") or reader.raw("WB_API_TOKEN")
        if not token:
            raise SettingsError("WB_FEEDBACKS_TOKEN (or WB_API_TOKEN) is required")
        return cls(
            token,
            feedbacks_url=reader.url("WB_FEEDBACKS_URL", FEEDBACKS_URL),
            timeout_s=reader.seconds("WB_TIMEOUT_S", 10.0),
        )


class WildberriesQuestions:
    def __init__(
        self,
        token: str,
        feedbacks_url: str = FEEDBACKS_URL,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.token = token
        self.client = PlatformClient(
            NAME, feedbacks_url, timeout_s=timeout_s, retry=retry,
            body_error=_body_error,
        )  # fmt: skip

    @classmethod
    def from_config(cls, config: WildberriesQuestionsConfig) -> WildberriesQuestions:
        return cls(
            config.token,
            feedbacks_url=config.feedbacks_url,
            timeout_s=config.timeout_s,
        )

    async def close(self) -> None:
        await self.client.close()

    async def _call(self, method: str, json: Any = None, **params: Any) -> Any:
        try:
            return await self.client.request(
                method,
                "/api/v1/questions",
                json=json,
                params=params or None,
                headers={"Authorization": self.token},
            )
        except PlatformError as error:
            logger.error(
                "wildberries.questions.failed",
                extra={"method": method, "status": error.status,
                       "body": error.body[:300]},
            )  # fmt: skip
            raise QuestionsError(
                f"wildberries questions {method} failed: {error.status}"
            ) from error

    async def unanswered(self, take: int = 100, skip: int = 0) -> list[Question]:
        """Unanswered questions, newest first (``take`` ≤ 10 000)."""
        if not 1 <= take <= MAX_TAKE or skip < 0:
            raise ValueError(f"take must be 1..{MAX_TAKE} and skip ≥ 0")
        answer = await self._call(
            "GET", isAnswered="false", take=take, skip=skip, order="dateDesc"
        )
        data = (answer or {}).get("data") or {}
        return [_question(raw) for raw in data.get("questions") or []]

    async def answer(self, question_id: str, text: str) -> None:
        """Publishes ``text`` as the answer to the question (or edits the answer)."""
        text = text.strip()
        if not question_id or not text or len(text) > MAX_ANSWER:
            raise ValueError(f"a question id and 1..{MAX_ANSWER} characters needed")
        await self._call(
            "PATCH", json={"id": question_id, "answer": {"text": text},
                           "state": "wbRu"},
        )  # fmt: skip
        logger.info("wildberries.question.answered", extra={"question_id": question_id})


def _question(raw: dict[str, Any]) -> Question:
    product = raw.get("productDetails") or {}
    answer = raw.get("answer") or {}
    nm_id = product.get("nmId")
    return Question(
        question_id=str(raw.get("id") or ""),
        text=str(raw.get("text") or ""),
        created_at=parse_time(raw.get("createdDate")),
        nm_id=int(nm_id) if isinstance(nm_id, int) else None,
        product_name=str(product.get("productName") or ""),
        supplier_article=str(product.get("supplierArticle") or ""),
        answer=answer.get("text") if isinstance(answer, dict) else None,
        was_viewed=bool(raw.get("wasViewed")),
    )
