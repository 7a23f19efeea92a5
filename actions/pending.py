"""Yes/no answers to the question the bot asked last.

Questions that set the ``pending`` slot: "cancel order X?" (``cancel:<order>``),
"exchange this item?" (``exchange:<order>|<sku>|<variant>``), "a refund or an
exchange?" (``return:<order>``), "tell you about changes?"
(``follow:<source>|<order>``), an order update whose "no"/"стоп" stops them
(``updates:<order>``) and an operator offered with a summary
(``handoff:<summary>``); and "shall I call an operator?", any response in
``HANDOFF_OFFERS``, recognised from the bot's last messages. The answer only
counts if it comes right after the question: a "yes" three turns later never
cancels an order.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.context import Turn
from actions.orders.cancel import cancel_confirmed
from actions.orders.exchange.choice import return_confirmed
from actions.orders.exchange.flow import exchange_confirmed
from actions.orders.slots import PENDING
from actions.orders.updates import FOLLOW, UPDATES, follow_confirmed, stop_updates
from actions.services import get_services
from actions.support import start_handoff

HANDOFF_OFFERS = frozenset(
    {
        "utter_offer_human",
        "utter_default",
        "utter_order_id_give_up",
        "utter_payment_problem",
        "utter_order_verification_failed",
        "utter_order_verification_locked",
        "utter_order_details_by_operator",
        "utter_one_time_code_send_limit",
        "utter_one_time_code_not_sent",
    }
)


def fresh_pending(tracker: Tracker) -> str | None:
    """The question asked since the shopper's previous message, if any."""
    user_messages = 0
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            user_messages += 1
            if user_messages > 1:
                return None
        elif kind == "bot":
            utter = (event.get("metadata") or {}).get("utter_action")
            if utter in HANDOFF_OFFERS:
                return f"handoff:{utter}"
        elif kind == "slot" and event.get("name") == PENDING and event.get("value"):
            return event.get("value")
    return None


class ActionResolvePending(Action):
    def name(self) -> str:
        return "action_resolve_pending"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = Turn(dispatcher, tracker, get_services(), language(tracker))
        pending = fresh_pending(tracker)
        said_yes = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        events: list[EventType] = [SlotSet(PENDING, None)]
        if not pending:
            turn.say("utter_how_can_help")
            return events
        kind, _, subject = pending.partition(":")
        if kind == "cancel":
            if said_yes:
                return events + await cancel_confirmed(subject, turn)
            turn.say("utter_cancel_kept", order_id=subject)
            return events
        if kind == "return":  # "a refund, or another size?" (exchange/choice.py)
            if said_yes:
                return events + await return_confirmed(subject, turn)
            turn.say("utter_how_can_help")
            return events
        if kind == "exchange":
            if said_yes:
                return events + await exchange_confirmed(subject, turn)
            turn.say("utter_exchange_kept")
            return events
        if kind == FOLLOW:  # "tell you when the order moves on?"
            if said_yes:
                return events + await follow_confirmed(subject, turn)
            turn.say("utter_how_can_help")
            return events
        if kind == UPDATES and not said_yes:  # "стоп" right after an update
            return events + await stop_updates(turn)
        if kind == "handoff" and said_yes:
            return events + await start_handoff(turn, reason=subject or "offered")
        turn.say("utter_how_can_help")
        return events
