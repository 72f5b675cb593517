"""Buttons carry meaning: every payload the engine makes parses back to its kind and value, and
payloads the codec did not make are refused rather than guessed at."""

from __future__ import annotations

import pytest

from dialogues import buttons
from dialogues.buttons import Kind, Press
from dialogues.engine import Engine, Inbound
from dialogues.flow import load_flow


@pytest.mark.parametrize("press", [
    Press("wellbeing", Kind.value, "ok"), Press("triggers", Kind.toggle, "family"),
    Press("location", Kind.control, "skip"), Press("triggers", Kind.done),
    Press("incident_time", Kind.keep), Press("summary", Kind.submit), Press("summary", Kind.edit),
    Press("choose_edit", Kind.edit, "describe"), Press("confirm_cancel", Kind.yes),
    Press("wellbeing", Kind.tell), Press(buttons.ASSISTED_VIEW_START, Kind.open, "4021"),
])
def test_a_press_survives_the_trip_through_a_payload(press: Press) -> None:
    assert buttons.parse(buttons.encode(press)) == press


def test_the_payloads_people_already_have_in_their_chats_still_mean_the_same() -> None:
    assert buttons.parse("wellbeing|v:ok") == Press("wellbeing", Kind.value, "ok")
    assert buttons.parse("summary|submit") == Press("summary", Kind.submit)
    assert buttons.parse("rv:add:12") == Press(buttons.REVIEW_ADDENDUM, Kind.open, "12")


@pytest.mark.parametrize("payload", ["", "no-bar", "|v:ok", "q|zap:1", "fu:go:12:ab", "rv:add:x",
                                     "evil:add:12"])
def test_a_payload_it_did_not_make_is_not_guessed_at(payload: str) -> None:
    assert buttons.parse(payload) is None


def test_a_payload_over_telegrams_64_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        buttons.encode(Press("q" * 60, Kind.value, "long"))


def test_every_button_of_a_whole_debrief_parses_to_its_question() -> None:
    engine = Engine(load_flow("staff_debrief"))
    state, messages = engine.start({"setting_kind": "children_home", "new_incident": True,
                                    "options": {"children": [{"value": "7", "label": "Kit"}],
                                                "staff": [{"value": "none", "label": "Just me"}]}})
    seen = 0
    for _ in range(40):
        question = messages[-1]
        for row in question.buttons:
            for button in row:
                assert button.press is not None, button.payload
                assert button.press.scope == (question.question_id or "summary")
                seen += 1
        if question.kind == "summary":
            break
        state, messages = engine.handle(state, Inbound.pressed(
            buttons.press(question.question_id or "", Kind.control, "skip")))
        if messages[-1].question_id == question.question_id:  # required: choose the first option
            first = next(b for row in question.buttons for b in row
                         if b.press and b.press.kind in (Kind.value, Kind.toggle))
            state, messages = engine.handle(state, Inbound.pressed(first.payload))
            if first.press and first.press.kind is Kind.toggle:
                state, messages = engine.handle(state, Inbound.pressed(
                    buttons.press(question.question_id or "", Kind.done)))
    assert messages[-1].kind == "summary"
    assert seen > 50
