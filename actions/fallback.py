"""The fallback: an answer from the merchant's knowledge, or an honest "I don't know".

For messages NLU cannot place (``nlu_fallback``) or that no intent covers
(``out_of_scope``). The best passage from ``data/knowledge/<language>/`` is shown
with its title; without a good passage the shopper is offered a human. The LLM
answerers plug in here in their own issue.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.context import Turn
from actions.services import get_services

logger = logging.getLogger(__name__)

# BM25 score below which a passage is too weak to be shown as an answer.
MIN_SCORE = 3.0


class ActionLlmFallback(Action):
    def name(self) -> str:
        return "action_llm_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = Turn(dispatcher, tracker, get_services(), language(tracker))
        question = tracker.latest_message.get("text") or ""
        hits = turn.services.knowledge.search(question, turn.lang, limit=1)
        if hits and hits[0].score >= MIN_SCORE:
            passage = hits[0].passage
            logger.info(
                "fallback.answered",
                extra={"source": passage.source, "score": round(hits[0].score, 2)},
            )
            turn.say("utter_knowledge_answer", title=passage.title, answer=passage.text)
            return []
        logger.info("fallback.no_answer", extra={"best": hits[0].score if hits else 0})
        turn.say("utter_default")
        return []
