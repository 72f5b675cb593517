"""The engine acts on control requests said in whole sentences, with the real embedded parser.

A long message saying the person is not coping gets support and is kept as the answer; "I have to
stop, can we carry on later" pauses; "sorry, signal dropped" is not a "no"; "wait, I got the time
wrong earlier" goes back rather than pausing; "yes ... because ..." keeps its yes.
"""

from __future__ import annotations

from typing import Any

import pytest

from dialogues.engine import Engine, Inbound, Outbound, State
from dialogues.flow import load_flow
from nlu.embedded import EmbeddedInterpreter

CONTEXT: dict[str, Any] = {
    "new_incident": True,
    "setting_kind": "children_home",
    "options": {
        "children": [{"value": "41", "label": "Rowan O'Leary (demo)"},
                     {"value": "17", "label": "Kit (demo)"}],
        "staff": [{"value": "93", "label": "Jordan D'Souza"}, {"value": "none", "label": "Just me"}],
    },
}
FREE_TEXT = "describe"
NOT_COPING = ("honestly i'm not coping with any of this tonight, it's been a horrible shift and i "
              "want to speak to my manager before i do the rest")


@pytest.fixture
def engine(interpreter: EmbeddedInterpreter) -> Engine:
    return Engine(load_flow("staff_debrief"), interpreter)


def say(engine: Engine, state: State, text: str) -> tuple[State, list[Outbound]]:
    return engine.handle(state, Inbound.typed(text))


def press(engine: Engine, state: State, action: str) -> tuple[State, list[Outbound]]:
    return engine.handle(state, Inbound.pressed(f"{state.current}|{action}"))


def at_free_text(engine: Engine) -> State:
    """A debrief at its first free-text question (the account of what happened)."""
    state, _ = engine.start(CONTEXT)
    for text in ["1", "1", "today", "00:10"]:
        state, _ = say(engine, state, text)
    assert state.current == FREE_TEXT
    return state


def test_a_long_message_of_distress_gets_support_and_is_kept_as_the_answer(engine: Engine) -> None:
    state = at_free_text(engine)
    state, messages = say(engine, state, NOT_COPING)
    assert state.status == "distress"
    assert "manager to check in" in messages[-1].text
    assert state.value(FREE_TEXT) == NOT_COPING
    payload = messages[-1].buttons[-1][0].payload  # "Carry on with the debrief"
    state, messages = engine.handle(state, Inbound.pressed(payload))
    assert state.status == "active"
    assert state.current not in (None, FREE_TEXT)


def test_a_short_message_of_distress_at_a_choice_gets_support(engine: Engine) -> None:
    state, _ = engine.start(CONTEXT)
    state, messages = say(engine, state, "i'm really not ok")
    assert state.status == "distress"
    assert "manager to check in" in messages[-1].text
    assert state.current == "wellbeing"


def test_a_long_request_to_stop_pauses_and_stores_nothing(engine: Engine) -> None:
    state = at_free_text(engine)
    state, _ = say(engine, state, "sorry i have to stop now, one of the young people needs me, "
                                  "can we carry on with this later")
    assert state.status == "paused"
    assert FREE_TEXT not in state.answers
    state, messages = engine.resume(state)
    assert messages[-1].question_id == FREE_TEXT


def test_wait_i_got_the_time_wrong_goes_back_and_does_not_pause(engine: Engine) -> None:
    state = at_free_text(engine)
    state, _ = say(engine, state, "hang on, i think i put the wrong time in before")
    assert state.status == "active"
    assert state.current != FREE_TEXT
    assert FREE_TEXT not in state.answers


def test_signal_dropped_is_not_a_no(engine: Engine) -> None:
    state, _ = engine.start(CONTEXT)
    state, _ = say(engine, state, "3")  # struggling: asks whether the manager should check in
    assert state.current == "wellbeing_checkin"
    state, messages = say(engine, state, "sorry, my signal dropped out there")
    assert messages[-1].question_id == "wellbeing_checkin"
    assert "wellbeing_checkin" not in state.answers


def test_yes_with_a_reason_keeps_its_yes(engine: Engine) -> None:
    state, _ = engine.start(CONTEXT)
    state, _ = say(engine, state, "3")
    state, _ = say(engine, state, "yes please, it was a rough night and i'd like a chat")
    assert state.value("wellbeing_checkin") is True


def test_an_account_with_the_word_skip_in_it_is_an_answer(engine: Engine) -> None:
    state = at_free_text(engine)
    text = "he wanted to skip tea and go out, when we said no he threw his plate at the wall"
    state, _ = say(engine, state, text)
    assert state.value(FREE_TEXT) == text
    assert state.current != FREE_TEXT


def test_a_long_message_of_distress_at_a_choice_is_kept_as_a_note(engine: Engine) -> None:
    state, _ = engine.start(CONTEXT)
    state, messages = say(engine, state, NOT_COPING)
    assert state.status == "distress"
    assert "manager to check in" in messages[-1].text
    assert state.notes["wellbeing"] == [NOT_COPING]
