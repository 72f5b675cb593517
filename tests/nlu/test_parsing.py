"""What staff write, and the facts and flags the parser must read from it (DESIGN.md shape)."""

from __future__ import annotations

from typing import Any

import pytest

from nlu.embedded import EmbeddedInterpreter
from nlu.facts import empty_facts


def facts(**given: Any) -> dict[str, Any]:
    """The full facts dict a text should give: what it says, the rest empty or null."""
    out = empty_facts()
    for key, value in given.items():
        if key == "injury":
            out["injury"].update(value)
        else:
            out[key] = value
    return out


CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    # the examples in issue 4 and DESIGN.md
    ("me n Dave took her to the floor approx 4 mins no injuries no prn",
     facts(hold_types=["ground"], duration_minutes=4.0, staff_count=2, prn_medication=False,
           injury={"child": False, "staff": False}),
     ["prone_or_ground_hold"]),
    ("we did not use a prone hold", facts(), []),
    ("she wasn't hurt but I was scratched", facts(injury={"child": False, "staff": True}),
     ["injury"]),
    ("no prn given", facts(prn_medication=False), []),
    ("prone hold, on the floor, 2 staff, about 3 minutes",
     facts(hold_types=["prone", "ground"], staff_count=2, duration_minutes=3.0),
     ["prone_or_ground_hold"]),
    # written the way staff write, not taken from the training data
    ("YP was restrained in her bedroom on the bed by 3 staff for roughly 12 mins, PRN (lorazepam) "
     "given at 21:40. Small carpet burn on her elbow.",
     facts(locations=["bedroom", "bed"], staff_count=3, duration_minutes=12.0,
           prn_medication=True, injury={"child": True}),
     ["restraint_in_bedroom", "long_intervention", "many_staff", "injury", "prn_medication"]),
    ("Two members of staff guided him by the arms to the quiet room and held the door shut for "
     "5 minutes. No injuries.",
     facts(hold_types=["escort"], restrictions=["isolation", "locked_door"], staff_count=2,
           duration_minutes=5.0, injury={"child": False, "staff": False}),
     ["isolation_or_seclusion"]),
    ("Used a seated double embrace on the sofa in the lounge - about 2 mins. Nobody hurt.",
     facts(hold_types=["seated_double_embrace"], locations=["communal"], duration_minutes=2.0,
           injury={"child": False, "staff": False}),
     ["unapproved_technique"]),
    ("he was strapped in his wheelchair with the seatbelt guard on in the minibus",
     facts(equipment=["wheelchair", "seatbelt"], locations=["vehicle"]),
     ["restrictive_equipment"]),
    ("It wasn't used as a punishment and no pain compliance was used.",
     facts(used_as_punishment=False, pain_inflicted=False), []),
    ("my colleague used a wrist lock which caused him pain",
     facts(pain_inflicted=True), ["pain_inflicted"]),
    ("Sam said it was to teach him a lesson", facts(used_as_punishment=True),
     ["used_as_punishment"]),
    ("She was held face down on the landing from 19:40 to 19:52",
     facts(hold_types=["prone"], locations=["corridor"], duration_minutes=12.0),
     ["prone_or_ground_hold", "long_intervention"]),
    ("it was not in her bedroom, it was in the kitchen", facts(locations=["communal"]), []),
    ("he bit me, skin not broken. YP not hurt", facts(injury={"child": False, "staff": True}),
     ["injury"]),
    # "cut short" is a phone call, not a wound; "cut his hand" still is
    ("his call with mum was cut short, no marks on anyone",
     facts(injury={"child": False, "staff": False}), []),
    ("he cut his hand on the glass", facts(injury={"child": True}), ["injury"]),
    ("no injuries to staff or YP, prn offered and taken",
     facts(prn_medication=True, injury={"child": False, "staff": False}), ["prn_medication"]),
    ("injuries: none. prn: no", facts(prn_medication=False, injury={"child": False,
                                                                   "staff": False}), []),
    ("we went to the ground and held him supine, single separation in the calm room after",
     facts(hold_types=["ground", "supine"], restrictions=["single_separation", "isolation"]),
     ["prone_or_ground_hold", "isolation_or_seclusion"]),
    ("we avoided a prone hold and used a standing hold instead",
     facts(hold_types=["standing"]), []),
    ("held for 1 hr 20 mins", facts(duration_minutes=80.0), ["long_intervention"]),
    ("she went to bed after and is asleep now", facts(), []),
    ("Restraint: prone, 2 mins, 3 staff, injuries nil, PRN yes",
     facts(hold_types=["prone"], duration_minutes=2.0, staff_count=3, prn_medication=True,
           injury={"child": False, "staff": False}),
     ["prone_or_ground_hold", "many_staff", "prn_medication"]),
    ("Was PRN given? No. Staff involved: 2. Time: 14:00-14:04",
     facts(prn_medication=False, staff_count=2, duration_minutes=4.0), []),
    ("restrained to stop her hurting herself", facts(), []),
]


@pytest.mark.parametrize(("text", "expected", "flags"), CASES, ids=[c[0][:40] for c in CASES])
def test_staff_sentences_give_exact_facts_and_flags(
    interpreter: EmbeddedInterpreter, text: str, expected: dict[str, Any], flags: list[str]
) -> None:
    result = interpreter.parse(text)
    got = dict(result.facts)
    got["hold_types"] = sorted(got["hold_types"])
    got["locations"] = sorted(got["locations"])
    got["restrictions"] = sorted(got["restrictions"])
    got["equipment"] = sorted(got["equipment"])
    want = dict(expected)
    for key in ("hold_types", "locations", "restrictions", "equipment"):
        want[key] = sorted(want[key])
    assert got == want
    assert sorted(result.flags) == sorted(flags)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("approx 3 mins", 3.0), ("half an hour", 30.0), ("from 14:05 until 14:20", 15.0),
     ("90 seconds", 1.5), ("a couple of minutes", 2.0), ("about ten minutes", 10.0),
     ("2-3 mins", 3.0), ("an hour and a half", 90.0), ("from 8.10pm to 8.25pm", 15.0),
     ("two and a half minutes", 2.5), ("for 45 secs", 0.75), ("a quarter of an hour", 15.0),
     ("between 23:50 and 00:05", 15.0)],
)
def test_durations_in_words_digits_and_clock_times(
    interpreter: EmbeddedInterpreter, text: str, minutes: float
) -> None:
    assert interpreter.parse(text).facts["duration_minutes"] == pytest.approx(minutes, abs=0.01)


@pytest.mark.parametrize(
    ("text", "count"),
    [("two of us", 2), ("me and 2 colleagues", 3), ("me n Dave", 2), ("a team of five", 5),
     ("3 staff", 3), ("Priya, Sam and I held him", 3), ("me and another member of staff", 2),
     ("a colleague and I", 2), ("2 person hold", 2), ("four members of staff", 4),
     ("me, Tom and Leah", 3), ("I was on my own", 1)],
)
def test_staff_counts(interpreter: EmbeddedInterpreter, text: str, count: int) -> None:
    assert interpreter.parse(text).facts["staff_count"] == count


@pytest.mark.parametrize(
    "text",
    ["she hit me and kicked off", "he tried to abscond and I followed him", "we held her",
     "at 6pm", "5 mins later she calmed down"],
)
def test_no_staff_count_or_duration_invented(interpreter: EmbeddedInterpreter, text: str) -> None:
    result = interpreter.parse(text)
    assert result.facts["staff_count"] is None
    if "later" in text or "6pm" in text:
        assert result.facts["duration_minutes"] is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [("can we skip this", "skip"), ("skip", "skip"), ("I'm really shaken up", "distress"),
     ("yes", "affirm"), ("yep that's right", "affirm"), ("no", "deny"), ("nope", "deny"),
     ("go back", "go_back"), ("i pressed the wrong button", "go_back"),
     ("i'll finish this later", "pause"), ("what does this mean?", "help"), ("idk", "unsure"),
     ("can't remember", "unsure"), ("Jamie", "inform"), ("2", "inform"), ("17:45", "inform"),
     ("in the lounge after tea", "inform")],
)
def test_control_intents_and_short_answers(
    interpreter: EmbeddedInterpreter, text: str, intent: str
) -> None:
    assert interpreter.parse(text).intent.name == intent


@pytest.mark.parametrize(
    "text",
    ["he wanted to skip school so we went to the car and he got upset, we escorted him inside",
     "She said she didn't know why, kept saying stop and help, we held her seated on the sofa "
     "for about 3 minutes",
     "I told him to go back to his room, he refused and hit me, two of us took him to the floor"],
)
def test_long_descriptions_with_control_words_are_answers(
    interpreter: EmbeddedInterpreter, text: str
) -> None:
    assert interpreter.parse(text).intent.name == "inform"


def test_negated_entities_are_reported_as_negated(interpreter: EmbeddedInterpreter) -> None:
    result = interpreter.parse("we did not use a prone hold, we used a seated hold")
    marks = {(e.value, e.negated) for e in result.entities}
    assert marks == {("prone", True), ("seated", False)}
    assert result.facts["hold_types"] == ["seated"]


def test_entity_offsets_point_into_the_original_text(interpreter: EmbeddedInterpreter) -> None:
    text = "She was FACE DOWN in the Lounge, no PRN"
    result = interpreter.parse(text)
    assert [(text[e.start:e.end], e.value) for e in result.entities] == [
        ("FACE DOWN", "prone"), ("Lounge", "communal"), ("PRN", "prn")]


def test_typos_are_forgiven(interpreter: EmbeddedInterpreter) -> None:
    result = interpreter.parse("held her prnoe on the flor for 3 minuets by 2 satff")
    assert sorted(result.facts["hold_types"]) == ["ground", "prone"]
    assert result.facts["duration_minutes"] == 3.0
