"""Question types are one registered thing each: every name a flow may use has its class, and what
a type reads, asks and shows back is the class's (dialogues/kinds.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dialogues.engine import Engine, Inbound
from dialogues.flow import Flow, QuestionType
from dialogues.kinds import KINDS


def test_every_type_a_flow_may_name_is_a_registered_class() -> None:
    assert set(KINDS) == {t.value for t in QuestionType}


def _flow(question: dict[str, object]) -> Flow:
    return Flow.model_validate({
        "id": "t", "version": 1, "title": "T", "intro": "Hi.", "done": "Done.",
        "questions": [{"short": "Q", "prompt": "How many?", "help": "h", "guidance": "g",
                       **question}]})


def test_a_type_that_needs_options_is_refused_without_them() -> None:
    with pytest.raises(ValidationError, match="needs options"):
        _flow({"id": "q", "type": "multi_choice"})


@pytest.mark.parametrize(("kind", "typed", "stored", "shown"), [
    ("number", "three", 3, "3"),
    ("duration", "about 4 mins", 4, "about 4 min"),
    ("time", "10.30pm", "22:30", "22:30"),
    ("yes_no", "yeah", True, "yes"),
    ("text", "He calmed in the garden", "He calmed in the garden", "He calmed in the garden"),
])
def test_each_type_reads_a_typed_answer_and_shows_it_back(kind: str, typed: str, stored: object,
                                                          shown: str) -> None:
    engine = Engine(_flow({"id": "q", "type": kind}))
    state, _ = engine.start()
    state, messages = engine.handle(state, Inbound.typed(typed))
    assert state.value("q") == stored
    assert f"1. Q: {shown}" in messages[-1].text
