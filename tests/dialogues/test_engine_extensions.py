"""The small, general engine extensions the child's view and the review rely on."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dialogues.engine import Engine, Inbound
from dialogues.flow import Flow, load_flow
from dialogues.wording import for_telegram


def child_engine() -> Engine:
    return Engine(load_flow("child_view"))


def test_a_flow_chooses_its_controls_and_their_words() -> None:
    _state, messages = child_engine().start({"incident_id": 1, "setting_kind": "children_home"})
    rows = [[b.label for b in row] for row in messages[-1].buttons]
    assert rows[-2:] == [["⬅️ Back", "⏭️ Skip"], ["🛑 Stop"]]  # Stop on a row of its own
    staff = Engine(load_flow("staff_debrief"))
    _, staff_messages = staff.start({"new_incident": True, "options": {"children": []}})
    staff_rows = [[b.label for b in row] for row in staff_messages[-1].buttons]
    assert staff_rows[-2:] == [["⬅️ Back", "Skip", "Not sure"], ["❓ Help", "⏸ Pause"]]


@pytest.mark.parametrize("word", ["stop", "Stop", "no more", "cancel", "pause"])
def test_stop_ends_kindly_and_keeps_the_answers(word: str) -> None:
    engine = child_engine()
    state, _ = engine.start({"incident_id": 1})
    state, _ = engine.handle(state, Inbound.pressed("feel_now|v:ok"))
    state, messages = engine.handle(state, Inbound.typed(word))
    assert state.status == "submitted"
    assert state.ended_early
    assert state.value("feel_now") == "ok"
    assert messages[0].kind == "done"
    assert messages[0].text.startswith("That is OK. We can stop now.")


def test_the_stop_button_works_and_a_flow_without_a_summary_ends_with_its_thanks() -> None:
    engine = child_engine()
    state, _ = engine.start({"incident_id": 1})
    stopped, _ = engine.handle(state, Inbound.pressed("feel_now|c:stop"))
    assert stopped.status == "submitted"
    for question in engine.flow.questions:
        if state.status != "active":
            break
        state, messages = engine.handle(state, Inbound.pressed(f"{question.id}|c:skip"))
    assert state.status == "submitted"
    assert not state.ended_early
    assert messages[-1].text == engine.flow.done


def test_the_childs_words_replace_the_engines() -> None:
    engine = child_engine()
    state, _ = engine.start({"incident_id": 1})
    _, messages = engine.handle(state, Inbound.typed("purple"))
    assert for_telegram(messages[0].text) == "Tap a button. Or tap Skip."
    _, messages = engine.handle(state, Inbound.unsupported("sticker"))
    assert for_telegram(messages[0].text) == "I can only read words. You can tap a button."


def test_a_flow_with_unknown_words_or_controls_fails_to_load() -> None:
    base = {"id": "x", "version": 1, "title": "x", "intro": "x", "done": "x", "questions": []}
    with pytest.raises(ValidationError, match="unknown messages"):
        Flow.model_validate({**base, "messages": {"hello": "hi"}})
    with pytest.raises(ValidationError, match="unknown controls"):
        Flow.model_validate({**base, "controls": ["jump"]})


def test_answered_condition_follows_a_text_answer() -> None:
    engine = Engine(load_flow("manager_review"))
    flow = engine.flow
    state, _ = engine.start({"incident_id": 1, "options": {"owners": [{"value": "1", "label": "Me"}]}})
    for question in flow.questions[: flow.index("action_1")]:
        state, _ = engine.handle(state, Inbound.pressed(f"{question.id}|c:skip"))
    assert state.current == "action_1"
    skipped, _ = engine.handle(state, Inbound.pressed("action_1|c:skip"))
    assert skipped.current == "plans_to_review"
    given, _ = engine.handle(state, Inbound.typed("Update the calming plan"))
    assert given.current == "action_1_owner"
