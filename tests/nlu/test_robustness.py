"""Odd input never breaks the parser: every message gets a valid result in the DESIGN.md shape."""

from __future__ import annotations

import json

import pytest

from nlu.embedded import EmbeddedInterpreter
from nlu.result import CONTROL_INTENTS

ODD = {
    "empty": "",
    "spaces": "   \n\t ",
    "huge": "we held him on the floor for 3 mins no injuries. " * 2100,
    "emoji only": "😢😢😢",
    "thumbs": "👍",
    "arabic": "لم يصب أحد بأذى",
    "chinese": "没有人受伤",
    "cyrillic": "никто не пострадал",
    "control characters": "held\x00her\x07 on the\x1b floor\x7f for 3\x0b mins\x85",
    "lone surrogate-ish": "prone \ufffd hold",
    "right-to-left marks": "\u202eno prn\u202c",
    "only punctuation": "?!.,;:-",
    "turkish dotted I": "İİİ prone İ",
    "long word": "a" * 5000,
    "numbers": "1234567890" * 50,
}


@pytest.mark.parametrize("text", list(ODD.values()), ids=list(ODD))
def test_odd_input_gives_a_valid_result(interpreter: EmbeddedInterpreter, text: str) -> None:
    result = interpreter.parse(text)
    data = json.loads(json.dumps(result.to_json()))
    assert data["text"] == text
    assert data["intent"]["name"] in CONTROL_INTENTS | {"inform"}
    assert 0.0 <= data["intent"]["confidence"] <= 1.0
    assert set(data["facts"]) == {"hold_types", "locations", "restrictions", "equipment",
                                  "prn_medication", "injury", "duration_minutes", "staff_count",
                                  "pain_inflicted", "used_as_punishment"}
    for entity in data["entities"]:
        assert 0 <= entity["start"] < entity["end"] <= len(text)


def test_empty_text_is_an_empty_answer(interpreter: EmbeddedInterpreter) -> None:
    result = interpreter.parse("")
    assert result.intent.name == "inform"
    assert result.entities == []
    assert result.flags == []


def test_huge_text_is_still_read(interpreter: EmbeddedInterpreter) -> None:
    result = interpreter.parse(ODD["huge"])
    assert result.facts["hold_types"] == ["ground"]
    assert result.facts["injury"] == {"child": False, "staff": False}


def test_control_characters_do_not_hide_the_content(interpreter: EmbeddedInterpreter) -> None:
    result = interpreter.parse(ODD["control characters"])
    assert result.facts["duration_minutes"] == 3.0
