"""Story first: the account is asked early, everything it says is filled in and confirmed in one
message, and only what is missing is asked (the real staff debrief flow and the embedded NLU)."""

from __future__ import annotations

from typing import Any

import pytest

from dialogues.engine import Engine, Inbound, Outbound, State
from dialogues.flow import load_flow
from nlu.embedded import default_interpreter

CONTEXT: dict[str, Any] = {
    "new_incident": True, "setting_kind": "children_home", "timezone": "Europe/London",
    "now": "2026-10-25T20:40:00+00:00",
    "options": {"children": [{"value": "23", "label": "Jay O'Brien (demo)"}],
                "staff": [{"value": "61", "label": "Sam D'Souza (demo)"},
                          {"value": "none", "label": "Just me"}]},
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_flow("staff_debrief"), default_interpreter())


def told(engine: Engine, story: str) -> tuple[State, list[Outbound]]:
    state, _ = engine.start(CONTEXT)
    for inbound in (Inbound.pressed("wellbeing|v:ok"), Inbound.pressed("child|v:23"),
                    Inbound.typed("tonight about 8")):
        state, _ = engine.handle(state, inbound)
    assert state.current == "describe", "the account comes straight after when"
    return engine.handle(state, Inbound.typed(story))


def rest_of_flow(engine: Engine, state: State) -> list[str]:
    """The questions still to ask, by skipping each in turn."""
    asked = []
    while state.status == "active":
        asked.append(state.current or "")
        question = engine.flow.question(state.current or "")
        action = "c:skip" if not question.required else "v:yes"
        state, _ = engine.handle(state, Inbound.pressed(f"{question.id}|{action}"))
    return asked


def test_the_account_is_confirmed_in_one_message_and_not_asked_again(engine: Engine) -> None:
    state, messages = told(engine, "Sam and I held him standing in the lounge for about 3 minutes, "
                                   "no injuries to anyone")
    confirm = messages[-1]
    assert confirm.question_id == "noted_confirm"
    for detail in ("where: lounge", "what was used: physical hold", "type of hold: standing",
                   "how long: about 3 min", "staff hands-on: 2", "involved: sam"):
        assert detail in confirm.text.lower(), detail
    ticks = [b.payload for row in confirm.buttons for b in row if "|t:" in b.payload]
    assert len(ticks) >= 6, "one tick per detail"
    state, _ = engine.handle(state, Inbound.pressed("noted_confirm|v:yes"))
    later = rest_of_flow(engine, state)
    for filled in ("location", "interventions", "hold_types", "duration", "staff_count",
                   "other_staff", "child_injured", "staff_injured"):
        assert filled not in later, f"{filled} was in the account, yet asked again"


def test_an_unticked_detail_is_the_only_one_asked_again(engine: Engine) -> None:
    state, _ = told(engine, "Sam and I held him standing in the lounge for about 3 minutes")
    state, _ = engine.handle(state, Inbound.pressed("noted_confirm|t:location"))
    state, messages = engine.handle(state, Inbound.pressed("noted_confirm|done"))
    assert "unticked" in messages[0].text
    assert state.value("location") is None
    assert state.value("hold_types") == ["standing"]
    assert state.answers["hold_types"].source == "user", "confirmed"
    later = rest_of_flow(engine, state)
    assert "location" in later
    assert "hold_types" not in later


def test_a_duration_followed_by_after_is_not_asked_again(engine: Engine) -> None:
    state, _ = told(engine, "standing hold in the lounge for about 3 mins after he threw a chair")
    state, _ = engine.handle(state, Inbound.pressed("noted_confirm|v:yes"))
    assert "duration" not in rest_of_flow(engine, state)
