"""The dialogue engine on the real staff debrief flow: every question type and every control."""

from __future__ import annotations

from typing import Any

import pytest

from dialogues.engine import Engine, Inbound, Outbound, State
from dialogues.flow import FLOWS_DIR, MAX_PAYLOAD_BYTES, MAX_PROMPT_WORDS, load_flow, load_flow_file

CONTEXT: dict[str, Any] = {
    "new_incident": True,
    "setting_kind": "children_home",
    "timezone": "Europe/London",
    "now": "2026-11-18T21:05:00+00:00",
    "options": {
        "children": [{"value": "7", "label": "Robin (demo)"}, {"value": "8", "label": "Kit (demo)"}],
        "staff": [{"value": "3", "label": "Jordan Demo"}, {"value": "none", "label": "Just me"}],
    },
}


@pytest.fixture
def engine() -> Engine:
    return Engine(load_flow("staff_debrief"))


def started(engine: Engine, context: dict[str, Any] | None = None) -> State:
    state, messages = engine.start(context or CONTEXT)
    assert messages[-1].question_id == "wellbeing"
    return state


def say(engine: Engine, state: State, text: str) -> tuple[State, list[Outbound]]:
    return engine.handle(state, Inbound.typed(text))


def press(engine: Engine, state: State, action: str) -> tuple[State, list[Outbound]]:
    return engine.handle(state, Inbound.pressed(f"{state.current}|{action}"))


# An account that names no option, so nothing is filled in from it.
PLAIN_STORY = "It was a hard one for everyone"
TO_LOCATION = ["1", "1", "today", "14:00", PLAIN_STORY, "upset"]


def walk(engine: Engine, state: State, answers: list[str]) -> State:
    for text in answers:
        before = state.current
        state, messages = say(engine, state, text)
        assert state.current != before or state.status != "active", (text, messages[0].text)
    return state


def test_every_prompt_is_phone_sized_and_every_button_fits_telegram() -> None:
    for path in FLOWS_DIR.glob("*.yml"):
        flow = load_flow_file(path)
        for question in flow.questions:
            assert len(question.prompt.split()) <= MAX_PROMPT_WORDS, question.id
            assert question.guidance.strip(), f"{question.id} must name the guidance it serves"
    engine = Engine(load_flow("staff_debrief"))
    state = started(engine)
    seen = 0
    while state.status == "active":
        question = engine.flow.question(state.current or "")
        message = engine._ask(state, question)
        for row in message.buttons:
            for button in row:
                assert len(button.payload.encode()) <= MAX_PAYLOAD_BYTES
                seen += 1
        state, _ = press(engine, state, "c:skip") if not question.required else say(engine, state, "1")
    assert seen > 50


def test_choice_by_button_by_number_and_by_label(engine: Engine) -> None:
    state = started(engine)
    state, _ = press(engine, state, "v:shaken")
    assert state.value("wellbeing") == "shaken"
    state, _ = say(engine, state, "2")
    assert state.value("child") == "8"
    state, _ = say(engine, state, "yesterday")
    assert state.value("incident_day") == "yesterday"


def test_option_reply_supports_the_person(engine: Engine) -> None:
    state = started(engine)
    _, messages = press(engine, state, "v:struggling")
    assert "talk to your manager" in messages[0].text


def test_invalid_answers_are_reasked_with_a_reason(engine: Engine) -> None:
    state = started(engine)
    state, messages = say(engine, state, "42")
    assert state.current == "wellbeing"
    assert messages[0].kind == "error"
    assert "choose one of the buttons" in messages[0].text
    assert messages[1].question_id == "wellbeing"
    state = walk(engine, state, ["1", "1", "today"])
    state, messages = say(engine, state, "half past something")
    assert state.current == "incident_time"
    assert "time of day" in messages[0].text
    state, _ = say(engine, state, "2.30pm")
    assert state.value("incident_time") == "14:30"


def test_required_question_cannot_be_skipped(engine: Engine) -> None:
    state = walk(engine, started(engine), ["1"])
    assert state.current == "child"
    state, messages = press(engine, state, "c:skip")
    assert state.current == "child"
    assert "can't be skipped" in messages[0].text
    labels = [b.label for row in messages[1].buttons for b in row]
    assert "Skip" not in labels


def test_multi_choice_ticks_then_done(engine: Engine) -> None:
    state = walk(engine, started(engine), [*TO_LOCATION, "3"])
    assert state.current == "interventions"
    state, messages = press(engine, state, "t:physical_hold")
    assert messages[0].replace_previous
    assert any(b.label.startswith("✅ Physical hold") for row in messages[0].buttons for b in row)
    state, _ = press(engine, state, "t:door")
    state, _ = press(engine, state, "t:door")
    state, _ = press(engine, state, "done")
    assert state.value("interventions") == ["physical_hold"]


def test_multi_choice_done_with_nothing_asks_again(engine: Engine) -> None:
    state = walk(engine, started(engine), [*TO_LOCATION, "3"])
    state, messages = press(engine, state, "done")
    assert state.current == "interventions"
    assert "at least one" in messages[0].text


def test_skip_unsure_back_and_keep(engine: Engine) -> None:
    state = walk(engine, started(engine), TO_LOCATION)
    state, _ = press(engine, state, "c:unsure")
    assert state.answers["location"].status == "unsure"
    state, messages = press(engine, state, "c:back")
    assert state.current == "location"
    state, messages = press(engine, state, "c:back")
    assert state.current == "communication"
    assert "You said: upset" in messages[0].text
    state, _ = press(engine, state, "keep")
    assert state.value("communication") == "upset"
    assert state.current == "interventions", "after going back, carry on where we were"
    assert state.answers["location"].status == "unsure"
    state, _ = press(engine, state, "c:back")
    state, _ = press(engine, state, "c:skip")
    assert state.answers["location"].status == "skipped"
    assert state.current == "interventions"


def test_back_on_the_first_question_explains(engine: Engine) -> None:
    state = started(engine)
    state, messages = press(engine, state, "c:back")
    assert "first question" in messages[0].text
    assert state.current == "wellbeing"


def test_help_explains_and_asks_again(engine: Engine) -> None:
    state = started(engine)
    state, messages = say(engine, state, "help")
    assert messages[0].text.startswith("ℹ️")
    assert messages[1].question_id == "wellbeing"


def test_pause_and_resume_from_serialised_state(engine: Engine) -> None:
    state = walk(engine, started(engine), ["1", "2", "today"])
    state, messages = say(engine, state, "pause")
    assert state.status == "paused"
    assert "saved" in messages[0].text
    stored = state.model_dump_json()
    fresh = Engine(load_flow("staff_debrief"))
    state, messages = fresh.resume(State.model_validate_json(stored))
    assert state.status == "active"
    assert messages[-1].question_id == "incident_time"
    assert state.value("child") == "8"


def test_stale_button_changes_nothing(engine: Engine) -> None:
    state = walk(engine, started(engine), ["1", "1"])
    before = state.model_dump()
    state, messages = engine.handle(state, Inbound.pressed("wellbeing|v:hurt"))
    assert "earlier question" in messages[0].text
    assert state.model_dump() == before


def test_unsupported_input_gets_clear_answer_and_the_question_again(engine: Engine) -> None:
    state = walk(engine, started(engine), ["1"])
    state, messages = engine.handle(state, Inbound.unsupported("sticker"))
    assert "answer in words or use the buttons" in messages[0].text
    assert messages[1].question_id == "child"


def test_an_edited_message_is_explained_and_changes_nothing(engine: Engine) -> None:
    state = walk(engine, started(engine), ["1"])
    before = state.model_dump()
    state, messages = engine.handle(state, Inbound.unsupported("edited"))
    assert "doesn't change my notes" in messages[0].text
    assert "Back" in messages[0].text
    assert messages[1].question_id == "child"
    assert state.model_dump() == before


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_messages_are_reasked(engine: Engine, text: str) -> None:
    state = started(engine)
    state, messages = say(engine, state, text)
    assert "didn't get any words" in messages[0].text
    assert state.current == "wellbeing"


def _to_free_text(engine: Engine) -> State:
    state = walk(engine, started(engine), ["1", "1", "today", "14:00", PLAIN_STORY])
    assert state.current == "communication"
    return state


@pytest.mark.parametrize(
    "text",
    ["x" * 10_000, "😢😡🙏 she was scared", "Она была расстроена — 她很难过 — هي كانت حزينة"],
)
def test_long_emoji_and_non_latin_answers_are_kept_whole(engine: Engine, text: str) -> None:
    state = _to_free_text(engine)
    state, _ = say(engine, state, text)
    assert state.value("communication") == text
    assert state.current == "location"


def test_number_where_a_choice_is_expected(engine: Engine) -> None:
    state = _to_free_text(engine)
    state = walk(engine, state, ["upset"])
    state, messages = say(engine, state, "12")
    assert state.current == "location"
    assert messages[0].kind == "error"


def test_number_duration_and_range_checks(engine: Engine) -> None:
    state = _to_free_text(engine)
    state = walk(engine, state, ["upset", "1"])
    state, _ = press(engine, state, "t:physical_hold")
    state, _ = press(engine, state, "done")
    assert state.current == "hold_types"
    state = walk(engine, state, ["standing"])
    assert state.current == "duration"
    state, messages = say(engine, state, "5000")
    assert "outside" in messages[0].text
    state = walk(engine, state, ["1h 30m"])
    assert state.value("duration") == 90
    state, messages = say(engine, state, "lots")
    assert state.current == "staff_count"
    state = walk(engine, state, ["two"])
    assert state.value("staff_count") == 2


def test_conditions_follow_setting_and_answers(engine: Engine) -> None:
    state = started(engine, {**CONTEXT, "setting_kind": "secure_children_home"})
    state = walk(engine, state, [*TO_LOCATION, "3"])
    state, _ = press(engine, state, "t:separation")
    state, _ = press(engine, state, "done")
    assert state.current == "restrictions"
    state = walk(engine, state, ["1", "5", "2", "1", "1", "1"])
    assert state.current == "necessity"
    labels = " ".join(b.label for row in engine._ask(state, engine.flow.question("necessity")).buttons
                      for b in row)
    assert "To stop absconding" in labels
    assert "Good order and discipline" not in labels
    home = Engine(load_flow("staff_debrief"))
    plain = started(home)
    assert "To stop absconding" not in " ".join(
        b.label for row in home._ask(plain, home.flow.question("necessity")).buttons for b in row)


def test_existing_incident_skips_incident_questions(engine: Engine) -> None:
    state, _ = engine.start({**CONTEXT, "new_incident": False, "incident_id": 4})
    state = walk(engine, state, ["1"])
    assert state.current == "describe"


FULL = ["1", "1", "today", "14:05", PLAIN_STORY, "She was worried about contact", "1"]


def _complete(engine: Engine) -> State:
    state = walk(engine, started(engine), FULL)
    state, _ = press(engine, state, "t:physical_hold")
    state, _ = press(engine, state, "done")
    state = walk(engine, state, ["5", "12 mins", "3", "1", "1, 3", "1,2", "2", "no", "yes",
                                 "scratch on my arm, first aid", "she settled with music",
                                 "she said it hurt", "partly", "earlier warning"])
    assert state.status == "summary"
    return state


def test_summary_shows_answers_and_points_to_reflect_on(engine: Engine) -> None:
    state = _complete(engine)
    summary = engine._to_summary(state.model_copy(deep=True), [])[1][-1]
    assert summary.kind == "summary"
    assert "Child: Robin (demo)" in summary.text
    assert "How long: about 12 min" in summary.text
    assert "a prone or floor hold was used" in summary.text
    assert "the intervention was long" in summary.text
    assert "several staff were involved" in summary.text
    assert "someone was hurt" in summary.text
    assert set(engine.flags(state)) >= {"prone_or_ground_hold", "long_intervention", "many_staff",
                                       "injury", "restraint_in_bedroom"}


def test_edit_from_summary_returns_to_summary(engine: Engine) -> None:
    state = _complete(engine)
    state, messages = engine.handle(state, Inbound.pressed("summary|edit"))
    assert state.status == "choose_edit"
    state, messages = engine.handle(state, Inbound.pressed("choose_edit|edit:staff_count"))
    assert state.current == "staff_count"
    state, messages = say(engine, state, "2")
    assert state.status == "summary"
    assert "Staff hands-on: 2" in messages[-1].text
    assert "several staff were involved" not in messages[-1].text
    state, messages = engine.handle(state, Inbound.pressed("summary|submit"))
    assert state.status == "submitted"
    assert messages[0].kind == "done"


def test_edit_by_typing_the_number(engine: Engine) -> None:
    state = _complete(engine)
    state, _ = say(engine, state, "edit")
    state, _ = say(engine, state, "1")
    assert state.current == "wellbeing"
    state, _ = say(engine, state, "2")
    assert state.status == "summary"
    assert state.value("wellbeing") == "shaken"


def test_cancel_asks_first(engine: Engine) -> None:
    state = walk(engine, started(engine), ["1"])
    state, messages = say(engine, state, "cancel")
    assert state.status == "confirm_cancel"
    state, _ = say(engine, state, "no")
    assert state.status == "active"
    assert state.current == "child"
    state, _ = say(engine, state, "cancel")
    state, messages = say(engine, state, "yes")
    assert state.status == "cancelled"
    assert "Nothing from it has been submitted" in messages[0].text


def test_cancel_from_the_summary_asks_first_and_can_go_back(engine: Engine) -> None:
    state = _complete(engine)
    state, messages = say(engine, state, "cancel")
    assert state.status == "confirm_cancel"
    assert [b.payload for b in messages[0].buttons[0]] == ["confirm_cancel|yes", "confirm_cancel|no"]
    state, messages = engine.handle(state, Inbound.pressed("confirm_cancel|no"))
    assert state.status == "summary"
    assert messages[-1].kind == "summary"
    state, _ = say(engine, state, "cancel")
    state, messages = engine.handle(state, Inbound.pressed("confirm_cancel|yes"))
    assert state.status == "cancelled"


def test_a_debrief_never_stops_because_the_nlu_is_unreachable() -> None:
    """A Rasa server that is not there (a real closed port): the flow carries on in plain words."""
    import socket

    from nlu.rasa_backend import RasaInterpreter

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = Engine(load_flow("staff_debrief"), RasaInterpreter(f"http://127.0.0.1:{port}"))
    state = walk(engine, started(engine), ["1", "1", "today", "14:00",
                                           "two of us held her for about five minutes"])
    assert state.current == "noted_confirm", "the hold is read from the words, without the NLU"
    state = walk(engine, state, ["yes", "upset", "1"])
    assert state.current == "hold_types"
    state, messages = say(engine, state, "erm")
    assert state.current == "hold_types"
    assert messages[0].kind == "error"
    state = walk(engine, state, ["5", "five minutes"])
    assert state.value("interventions") == ["physical_hold"]
    assert state.value("hold_types") == ["ground"]
    assert state.value("duration") == 5, "plain forms are read without the NLU"
    assert state.current == "staff_count"


def test_a_pressed_button_is_its_value_never_a_position_in_the_list(engine: Engine) -> None:
    """Children are options whose values are database ids: pressing "Jay" (id 4) stores child 4."""
    children = [{"value": "9", "label": "Ada O'Neill (demo)"}, {"value": "4", "label": "Jay (demo)"},
                {"value": "7", "label": "Sam (demo)"}, {"value": "2", "label": "Noor (demo)"}]
    context = {**CONTEXT, "options": {**CONTEXT["options"], "children": children}}
    for child in children:
        state = started(engine, context)
        state, _ = press(engine, state, "v:ok")
        state, _ = press(engine, state, f"v:{child['value']}")
        assert state.value("child") == child["value"], child
    only = {**CONTEXT, "options": {**CONTEXT["options"], "children": [children[1]]}}
    state = started(engine, only)
    state, _ = press(engine, state, "v:ok")
    state, _ = press(engine, state, "v:4")
    assert state.value("child") == "4"
    state = started(engine, context)
    state, _ = press(engine, state, "v:ok")
    state, _ = say(engine, state, "2")
    assert state.value("child") == "4", "a typed number is a position in the list"


def test_a_pressed_value_that_is_not_offered_is_stale_not_a_guess(engine: Engine) -> None:
    state = started(engine)
    state, _ = press(engine, state, "v:ok")
    state, messages = press(engine, state, "v:5")
    assert state.current == "child"
    assert "child" not in state.answers
    assert messages[0].text == engine.flow.message("stale")
