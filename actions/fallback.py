"""The fallback: an answer from the merchant's knowledge, or an honest "I don't know".

For messages NLU cannot place (``nlu_fallback``) or that no intent covers
(``out_of_scope``). ``FallbackService`` retrieves passages from
``data/knowledge/<language>/`` and answers with the configured answerer (extractive
by default, or an OpenAI-compatible LLM), citing the passage. When no passage is
relevant enough (an off-topic question: the weather, another service's
subscription; see ``actions/knowledge/relevance.py``) or none answers, nothing is
quoted: the shopper hears what the assistant can help with and is offered a human
(``utter_default``, whose "yes" starts a handoff). Each answer records its sources
and answerer in the bot message's metadata, for analytics and review.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.context import Turn
from actions.knowledge.history import HistoryTurn
from actions.services import get_services

logger = logging.getLogger(__name__)

HISTORY_TURNS = 6


def history(tracker: Tracker) -> list[HistoryTurn]:
    """The conversation before the current question, oldest first."""
    turns = [
        HistoryTurn(
            "shopper" if e["event"] == "user" else "assistant", e.get("text") or ""
        )
        for e in tracker.events
        if e.get("event") in ("user", "bot") and e.get("text")
    ]
    return turns[:-1][-HISTORY_TURNS:]


class ActionLlmFallback(Action):
    def name(self) -> str:
        return "action_llm_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = Turn(dispatcher, tracker, get_services(), language(tracker))
        question = tracker.latest_message.get("text") or ""
        answer = await turn.services.fallback.answer(
            question,
            turn.lang,
            history(tracker),
            tracker.get_latest_input_channel(),
            conversation=tracker.sender_id,
        )
        trace = {
            "fallback_answerer": answer.answerer,
            "fallback_sources": list(answer.sources),
        }
        if answer.text and answer.passage is not None:
            source = f"{answer.passage.document} — {answer.passage.title}"
            turn.say(
                "utter_knowledge_answer", answer=answer.text, source=source, **trace
            )
            return []
        turn.say("utter_default", **trace)
        return []
