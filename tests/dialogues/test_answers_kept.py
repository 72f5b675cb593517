"""Answers are never thrown away: options named in words and near-misses, yes/no as people say it,
"Something else" in the person's words, and a narrative typed at the wrong question kept and said so.
"""

from __future__ import annotations

from typing import Any

import pytest

from dialogues import values
from dialogues.engine import Engine, Inbound, Outbound, State
from dialogues.flow import load_flow

CONTEXT: dict[str, Any] = {
    "new_incident": True, "setting_kind": "children_home", "timezone": "Europe/London",
    "now": "2026-11-18T21:05:00+00:00",
    "options": {
        "children": [{"value": "31", "label": "Robin O'Neill (demo)"},
                     {"value": "12", "label": "Kit Adeyemi (demo)"}],
        "staff": [{"value": "57", "label": "Sam D'Souza (demo)"},
                  {"value": "none", "label": "Just me"}],
    },
}
PLAIN_STORY = "It was a hard one for everyone"


def say(engine: Engine, state: State, text: str) -> tuple[State, list[Outbound]]:
    return engine.handle(state, Inbound.typed(text))


def at(engine: Engine, question_id: str) -> State:
    """A debrief walked (with plain answers) up to the given question."""
    state, _ = engine.start(CONTEXT)
    plain = {"wellbeing": "1", "child": "1", "incident_day": "today", "incident_time": "20:10",
             "describe": PLAIN_STORY, "communication": "upset", "location": "1",
             "staff_count": "2", "duration": "3", "other_staff": "Just me"}
    while state.current != question_id:
        current = state.current or ""
        if current in plain:
            state, _ = say(engine, state, plain[current])
        else:
            state, _ = engine.handle(state, Inbound.pressed(f"{current}|t:physical_hold")) \
                if current == "interventions" else engine.handle(state, Inbound.typed("1"))
            if current == "interventions":
                state, _ = engine.handle(state, Inbound.pressed(f"{current}|done"))
        assert state.status == "active"
    return state


@pytest.fixture
def engine() -> Engine:
    return Engine(load_flow("staff_debrief"))


def test_what_was_tried_is_matched_from_words_and_the_words_kept(engine: Engine) -> None:
    state = at(engine, "tried_first")
    text = "talked to him calmly, gave him space, offered to ring mum back"
    state, messages = say(engine, state, text)
    assert state.value("tried_first") == ["talking", "space", "choices"]
    assert state.answers["tried_first"].note == text
    assert "kept your words" in messages[0].text


@pytest.mark.parametrize(("typed", "stored"), [
    ("bedrom", "bedroom"), ("in the lounge", "communal"), ("his room", "bedroom"),
    ("coridor", "corridor"), ("out in the garden", "outdoors"), ("Lounge / kitchen / dining", "communal"),
])
def test_places_from_words_and_near_misses(engine: Engine, typed: str, stored: str) -> None:
    state = at(engine, "location")
    state, _ = say(engine, state, typed)
    assert state.value("location") == stored


def test_a_negated_option_is_not_picked(engine: Engine) -> None:
    state = at(engine, "tried_first")
    state, _ = say(engine, state, "talked to her, we did not try distraction")
    assert state.value("tried_first") == ["talking"]


def test_children_by_name_and_near_miss(engine: Engine) -> None:
    for typed, child in (("robin", "31"), ("Robbin", "31"), ("kit", "12"), ("adeyemi", "12")):
        state = at(engine, "child")
        state, _ = say(engine, state, typed)
        assert state.value("child") == child, typed


@pytest.mark.parametrize(("typed", "answer", "note"), [
    ("y", True, None), ("yeah", True, None), ("i think so", True, None), ("Yep.", True, None),
    ("yes it was a graze on his elbow", True, "yes it was a graze on his elbow"),
    ("nope", False, None), ("no, none at all", False, "no, none at all"),
    ("don't think so", False, None),
])
def test_yes_and_no_as_people_say_them(engine: Engine, typed: str, answer: bool,
                                       note: str | None) -> None:
    state = at(engine, "child_injured")
    state, _ = say(engine, state, typed)
    assert state.value("child_injured") is answer
    assert state.answers["child_injured"].note == note


def test_something_else_pressed_asks_for_words_kept_as_its_note(engine: Engine) -> None:
    state = at(engine, "location")
    state, _ = engine.handle(state, Inbound.pressed("location|v:other"))
    assert state.current == "location_other"
    state, _ = say(engine, state, "the swimming baths changing area")
    assert state.value("location") == "other"
    assert state.answers["location"].note == "the swimming baths changing area"


def test_something_else_typed_is_kept_as_the_answers_note(engine: Engine) -> None:
    state = at(engine, "location")
    state, messages = say(engine, state, "at the swimming baths")
    assert state.value("location") == "other"
    assert state.answers["location"].note == "at the swimming baths"
    assert "Somewhere else" in messages[0].text
    assert state.current == "interventions", "the words are kept, so nothing more is asked"


def test_a_narrative_at_a_choice_question_becomes_the_account_if_none_yet(engine: Engine) -> None:
    state, _ = engine.start(CONTEXT)
    story = ("honestly it was awful he threw a chair at the window and me and Sam had to hold him "
             "standing in the lounge")
    state, messages = say(engine, state, story)
    assert state.value("describe") == story
    assert "kept that as your account" in messages[0].text
    assert state.current == "wellbeing", "the question is asked again"
    assert state.value("location") == "communal"
    assert state.value("other_staff") == ["57"]
    assert state.answers["location"].source == "nlu", "filled in, to be confirmed"


def test_a_narrative_after_the_account_is_kept_as_a_note_and_said_so(engine: Engine) -> None:
    state = at(engine, "interventions")
    text = "well we sort of guided him out of the room by his arms to be honest"
    state, messages = say(engine, state, text)
    assert state.value("interventions") == ["guided"]
    assert state.answers["interventions"].note == text
    state = at(engine, "triggers")
    text = "hard to say really, the evening was fine until bedtime"
    state, messages = say(engine, state, text)
    assert state.value("triggers") == ["other"]
    assert state.answers["triggers"].note == text
    state = at(engine, "interventions")
    state, messages = say(engine, state, "we were all a bit on edge")
    assert "kept your words as a note" in messages[0].text
    assert state.current == "interventions"
    state, _ = engine.handle(state, Inbound.pressed("interventions|t:door"))
    state, _ = engine.handle(state, Inbound.pressed("interventions|done"))
    assert state.value("interventions") == ["door"]
    assert state.answers["interventions"].note == "we were all a bit on edge"


def test_not_sure_in_a_sentence_is_unsure_with_the_words_kept(engine: Engine) -> None:
    state = at(engine, "triggers")
    state, _ = say(engine, state, "not really sure what to put here")
    assert state.answers["triggers"].status == "unsure"
    assert state.answers["triggers"].note == "not really sure what to put here"


def _stored_texts(state: State) -> list[str]:
    texts = []
    for record in state.answers.values():
        if isinstance(record.value, str):
            texts.append(record.value)
        if record.note:
            texts.append(record.note)
    texts += [n for notes in state.notes.values() for n in notes]
    return texts


def test_no_typed_text_is_lost(engine: Engine) -> None:
    """Every message is a stored answer, a stored note, or a control; never dropped."""
    messages = [
        "Struggling tbh", "yeah please", "robin", "last night about 10.40",
        "he kicked off after his mum cancelled the visit, threw his plate and went for Kit so me "
        "and Sam held him standing in the kitchen for about 3 mins, no marks on anyone",
        "yes", "He was gutted about mum and I think he wanted us to feel how let down he was",
        "skip", "it all happened really quickly to be fair", "we were all a bit on edge tonight",
        "no time", "1", "he'd have hurt Kit", "no", "nope", "He calmed in his room with music",
        "said we always side with mum", "partly i think, we could have moved Kit away sooner",
        "Ring him before contact if mum might cancel",
    ]
    engine = Engine(load_flow("staff_debrief"))
    state, _ = engine.start(CONTEXT)
    kept_words = []
    for text in messages:
        assert state.status == "active"
        question = state.current or ""
        before = state.answers.get(question)
        state, replies = say(engine, state, text)
        after = state.answers.get(question)
        kept = any(text in stored for stored in _stored_texts(state))
        answered = after is not None and after != before
        control = values.control_word(text) is not None
        assert kept or answered or control, (question, text, [r.text for r in replies])
        if kept:
            kept_words.append(text)
    assert state.status == "summary", state.current
    everything = " ".join(_stored_texts(state))
    assert len(kept_words) >= 12
    for text in kept_words:
        assert text in everything, f"{text!r} was kept, then lost"
