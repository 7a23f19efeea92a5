""" "Try a question" for the dashboard: ``POST /knowledge/try`` runs the
shoppers' fallback path (``FallbackService.answer``, as ``action_llm_fallback``
calls it) on the current knowledge base and answers what a shopper would read,
the answerer and the passages it cited. Not public: the action token, sent by
the admin API (``api/easyflow_api/services/knowledge_try.py``). The published
base is refreshed first, so an admin's save shows at once."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.knowledge.published import LANGUAGES, PublishedKnowledge
from actions.knowledge.service import FallbackService

logger = logging.getLogger(__name__)

MAX_QUESTION = 500


def knowledge_blueprint(
    fallback: Callable[[], FallbackService], published: PublishedKnowledge
) -> Blueprint:
    blueprint = Blueprint("knowledge")

    @blueprint.post("/knowledge/try", name="try_question")
    async def try_question(request: Request) -> HTTPResponse:
        body = request.json if isinstance(request.json, dict) else {}
        question, language = body.get("question"), body.get("language")
        if (
            not isinstance(question, str)
            or not question.strip()
            or len(question) > MAX_QUESTION
            or language not in LANGUAGES
        ):
            return response.json(
                {"error": "question (1-500 characters) and language ru|en"}, 400
            )
        await published.refresh()
        service = fallback()
        index = service.index
        answer = await service.answer(question, language)
        cited = {p.source: p for p in index.passages if p.source in answer.sources}
        shown = answer.text if answer.passage is not None else None
        logger.info(
            "knowledge.try",
            extra={"answerer": answer.answerer, "sources": list(answer.sources)},
        )
        return response.json(
            {
                "answer": shown,
                "answerer": answer.answerer,
                "sources": list(answer.sources),
                "passages": [
                    {
                        "source": p.source,
                        "document": p.document,
                        "title": p.title,
                        "text": p.text,
                    }
                    for p in (cited[s] for s in answer.sources if s in cited)
                ],
            }
        )

    return blueprint
