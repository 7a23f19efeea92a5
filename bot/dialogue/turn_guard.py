"""Every turn ends listening, with no action run twice: a turn cannot loop.

Rasa keeps predicting actions until a policy predicts ``action_listen``. When no
rule or story covers the state (an off-topic message inside a form, say),
RulePolicy's core fallback predicts ``action_llm_fallback``; the fallback does
not change the state, so the same prediction comes back until Rasa's limit of
ten actions: ten copies of one answer. Worse, Rasa then stops without logging
``action_listen``, so it counts those ten actions again on every later message
and the conversation never answers again ("circuit breaker tripped").

``install`` wraps ``MessageProcessor.predict_next_with_tracker_if_should``:

- an action already run since the shopper's message is not run again: inside a
  form that waits for a slot, the form's question is asked once more (the shopper
  knows what the bot still needs), otherwise the bot listens;
- if Rasa's action limit is reached anyway, the turn ends with ``action_listen``
  instead of an exception, and the limit counts only this turn's actions, so the
  next message is answered;
- a message that arrives after a turn cut short (no ``action_listen`` logged:
  conversations left dead before this fix) is logged after one, so the rules
  that start with the shopper's message apply again.

Both are logged as ``turn_guard.*`` warnings with the sender and the action.
"""

from __future__ import annotations

import logging

from rasa.core.actions.action import (
    Action,
    action_for_index,
    action_for_name_or_text,
)
from rasa.core.channels.channel import UserMessage
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

POLICY_NAME = "TurnGuard"


def actions_this_turn(tracker: DialogueStateTracker) -> list[str]:
    """Names of the actions run since the shopper's latest message, oldest first."""
    names: list[str] = []
    for event in reversed(tracker.applied_events()):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted) and event.action_name:
            names.append(event.action_name)
    names.reverse()
    return names


def ask_action(tracker: DialogueStateTracker, domain: Domain) -> str | None:
    """The action that asks for the slot the active form waits for, if any.

    The same names, in the same order, as Rasa's ``FormAction`` looks for them.
    """
    form = tracker.active_loop_name
    slot = tracker.get_slot(REQUESTED_SLOT)
    if not form or not slot:
        return None
    for name in (
        f"action_ask_{form}_{slot}",
        f"action_ask_{slot}",
        f"utter_ask_{form}_{slot}",
        f"utter_ask_{slot}",
    ):
        if name in domain.action_names_or_texts:
            return name
    return None


def replacement(tracker: DialogueStateTracker, domain: Domain, predicted: str) -> str:
    """What to run instead of ``predicted``: the action itself when it is new."""
    done = actions_this_turn(tracker)
    if predicted == ACTION_LISTEN_NAME or predicted not in done:
        return predicted
    ask = ask_action(tracker, domain)
    if ask and ask not in done:
        return ask
    return ACTION_LISTEN_NAME


def _action(processor: MessageProcessor, name: str) -> tuple[Action, PolicyPrediction]:
    domain = processor.domain
    action = action_for_name_or_text(name, domain, processor.action_endpoint)
    return action, PolicyPrediction.for_action_name(domain, name, POLICY_NAME)


def guarded_predict(
    self: MessageProcessor, tracker: DialogueStateTracker
) -> tuple[Action, PolicyPrediction]:
    """Rasa's prediction step with its limit counted per turn, and no repeats.

    Rasa counts actions back to the latest ``action_listen``; a conversation
    left dead by an older version still has ten actions after it, so the limit
    here counts only the actions since the shopper's latest message.
    """
    done = actions_this_turn(tracker)
    if len(done) >= self.max_number_of_predictions:
        logger.warning(
            "turn_guard.action_limit",
            extra={"sender_id": tracker.sender_id, "actions": done},
        )
        return _action(self, ACTION_LISTEN_NAME)
    prediction = self._predict_next_with_tracker(tracker)
    action = action_for_index(
        prediction.max_confidence_index, self.domain, self.action_endpoint
    )
    instead = replacement(tracker, self.domain, action.name())
    if instead == action.name():
        return action, prediction
    logger.warning(
        "turn_guard.repeat_stopped",
        extra={
            "sender_id": tracker.sender_id,
            "repeated": action.name(),
            "instead": instead,
        },
    )
    return _action(self, instead)


_handle_message_with_tracker = MessageProcessor._handle_message_with_tracker


async def listening_handle(
    self: MessageProcessor, message: UserMessage, tracker: DialogueStateTracker
) -> None:
    """Rasa's message logging, after the ``action_listen`` a cut turn never logged.

    A message always answers the bot's listening; a turn that ended without it
    (stopped by the action limit, or by a crash mid-turn) would otherwise leave
    the next message featurised after the cut turn's last action, where no rule
    applies.
    """
    latest = tracker.latest_action_name
    if latest is not None and latest != ACTION_LISTEN_NAME:
        logger.warning(
            "turn_guard.listen_restored",
            extra={"sender_id": tracker.sender_id, "latest_action": latest},
        )
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME), self.domain)
    await _handle_message_with_tracker(self, message, tracker)


def install() -> None:
    """Guards every turn in this process; safe to call more than once."""
    MessageProcessor.predict_next_with_tracker_if_should = guarded_predict  # type: ignore[method-assign]
    MessageProcessor._handle_message_with_tracker = listening_handle  # type: ignore[method-assign]
