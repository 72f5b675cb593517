"""Distress in a debrief offers a check-in only when someone could give it: a manager with no
other manager in the setting is pointed to their own support, never promised a message nobody gets."""

from __future__ import annotations

from dialogues.engine import Engine, Inbound
from dialogues.flow import load_flow
from dialogues.wording import for_telegram
from nlu.embedded import default_interpreter

MANAGER = {"support_person": "your own line manager, the responsible individual or a colleague",
           "checkin_person": "another manager at your setting"}


def _distressed(context: dict[str, object]) -> tuple[Engine, object, list[str], list[str]]:
    engine = Engine(load_flow("staff_debrief"), default_interpreter())
    state, _ = engine.start(context)
    state, messages = engine.handle(state, Inbound.typed("I am really not coping with this"))
    offer = messages[-1]
    payloads = [b.payload for row in offer.buttons for b in row]
    return engine, state, [for_telegram(offer.text)], payloads


def test_staff_in_distress_are_offered_their_manager() -> None:
    _, _, (text,), payloads = _distressed({})
    assert text.endswith("Would you like me to ask your manager to check in with you?")
    assert "distress|tell" in payloads


def test_a_manager_with_nobody_above_them_here_is_pointed_to_their_own_support() -> None:
    engine, state, (text,), payloads = _distressed({"words": MANAGER, "nobody_to_check_in": True})
    assert text.endswith("Please talk to your own line manager, the responsible individual or a "
                         "colleague today.")
    assert "distress|tell" not in payloads
    state, messages = engine.handle(state, Inbound.typed("yes"))  # typed: still no promise
    assert not state.support_requested
    assert "I'll let" not in messages[-1].text


def test_a_manager_with_a_colleague_manager_is_offered_that_colleague() -> None:
    _, _, (text,), _ = _distressed({"words": MANAGER})
    assert text.endswith("Would you like me to ask another manager at your setting to check in "
                         "with you?")
