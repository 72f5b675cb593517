"""The embedded parser on the staff-written set: the bar, and no safety point the wrong way round.

The bar (issue 11): flag micro-F1 >= 0.95, facts accuracy >= 0.93, intent accuracy >= 0.95, and
zero safety inversions — a child's injury given to staff or the reverse, an injury read the wrong
way, PRN given when refused, pain or punishment from an innocent sentence, distress not offered
support. Every case where an inversion is possible is its own test, named by its id in
nlu/data/test/staff_written.yml. The same checks for Rasa are in test_rasa_backend.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from nlu.embedded import EmbeddedInterpreter
from nlu.evaluation import evaluate_staff_written, load_staff_written, safety_inversions

FLAG_F1 = 0.95
FACTS = 0.93
INTENT = 0.95


def at_risk(record: dict[str, Any]) -> bool:
    """Whether a record could be read with a safety point the wrong way round."""
    facts = record.get("facts") or {}
    return (record["intent"] == "distress" or "injury" in facts
            or any(k in facts for k in ("prn_medication", "pain_inflicted", "used_as_punishment"))
            or any(w in record["text"].lower() for w in ("prn", "med", "pain", "punish", "hurt",
                                                         "injur", "bit", "scratch", "bruis")))


INVERSION_CASES = [r for r in load_staff_written() if at_risk(r)]


def test_the_staff_written_set_meets_the_bar(interpreter: EmbeddedInterpreter) -> None:
    report = evaluate_staff_written(interpreter)
    summary = report.as_dict()
    assert report.flag_micro.f1 >= FLAG_F1, summary["flags"]
    assert report.fact_accuracy >= FACTS, summary["fact_accuracy"]
    assert report.intent_accuracy >= INTENT, summary["confusion"]
    assert report.inversions == []


def test_enough_cases_can_go_the_wrong_way() -> None:
    assert len(INVERSION_CASES) >= 100


@pytest.mark.parametrize("record", INVERSION_CASES, ids=[r["id"] for r in INVERSION_CASES])
def test_no_safety_inversion(interpreter: EmbeddedInterpreter, record: dict[str, Any]) -> None:
    result = interpreter.parse(record["text"])
    found = safety_inversions(intent=record["intent"], facts=record.get("facts") or {},
                              result=result)
    assert found == [], record["text"]
