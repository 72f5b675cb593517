"""The one rule set for "points to reflect on", shared by the NLU and the structured answers."""

from __future__ import annotations

from nlu.facts import empty_facts
from nlu.flags import FLAG_NAMES, flags_from_facts


def test_nothing_said_raises_nothing() -> None:
    assert flags_from_facts(empty_facts()) == []
    assert flags_from_facts({}) == []


def test_every_flag_and_its_threshold() -> None:
    facts = empty_facts() | {
        "hold_types": ["prone", "nose_distraction"], "locations": ["bed"],
        "restrictions": ["blocked_exit"], "equipment": ["reins"], "prn_medication": True,
        "injury": {"child": None, "staff": True}, "duration_minutes": 10.0, "staff_count": 3,
        "pain_inflicted": True, "used_as_punishment": True,
    }
    assert flags_from_facts(facts) == list(FLAG_NAMES)


def test_thresholds_are_configurable_and_inclusive() -> None:
    facts = empty_facts() | {"duration_minutes": 9.99, "staff_count": 2}
    assert flags_from_facts(facts) == []
    assert flags_from_facts(facts, long_minutes=5, many_staff=2) == ["long_intervention",
                                                                     "many_staff"]


def test_false_and_unknown_never_raise_a_flag() -> None:
    facts = empty_facts() | {"prn_medication": False, "pain_inflicted": None,
                             "injury": {"child": False, "staff": None},
                             "hold_types": ["seated", "escort", "kneeling"]}
    assert flags_from_facts(facts) == []
