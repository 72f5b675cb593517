"""How staff really write, category by category: cases a reader can check by eye.

Each row is a sentence of the kind staff type at the end of a shift (none of them is in the
staff-written evaluation set) and what must be read from it. The rules these pin down are general
(shared/DESIGN.md, "Points to reflect on"); both backends go through the same post-processing, so
the last group checks that what a backend spots cannot change the facts.
"""

from __future__ import annotations

from typing import Any

import pytest

from nlu.embedded import EmbeddedInterpreter
from nlu.facts import build_result
from nlu.result import Entity, Intent


def _facts(interpreter: EmbeddedInterpreter, text: str) -> dict[str, Any]:
    return interpreter.parse(text).facts


# ---------------------------------------------------------------- whose injury
WHOSE_INJURY = [
    ("me n Olu held him, Olu got a graze on his elbow", {"child": None, "staff": True}),
    ("my colleague Fen has a cut lip, the yp was fine", {"child": False, "staff": True}),
    ("Fen's wrist got twisted, no injury to the young person", {"child": False, "staff": True}),
    ("he scratched me on the arm, bleeding a little", {"child": None, "staff": True}),
    ("bitten by the yp on my hand", {"child": None, "staff": True}),
    ("Ade (staff) has a bruise on her shin", {"child": None, "staff": True}),
    ("she kicked Ade, Ade has a swollen knee", {"child": None, "staff": True}),
    ("held Zeb seated, Zeb has a red mark on his cheek", {"child": True, "staff": None}),
    ("he banged his head on the door frame, small lump", {"child": True, "staff": None}),
    ("no injury to Fen", {"child": False, "staff": None}),
    ("yp no marks, i have a scratch", {"child": False, "staff": True}),
    ("the TA has a bruised arm, pupil unhurt", {"child": False, "staff": True}),
    ("she was fine afterwards", {"child": False, "staff": None}),
    ("i wasnt injured and neither was she", {"child": False, "staff": False}),
    ("no marks seen on the body map", {"child": False, "staff": None}),
    ("Olu has teeth marks on his forearm", {"child": None, "staff": True}),
]


@pytest.mark.parametrize(("text", "injury"), WHOSE_INJURY, ids=[t for t, _ in WHOSE_INJURY])
def test_an_injury_belongs_to_whoever_the_text_says(
    interpreter: EmbeddedInterpreter, text: str, injury: dict[str, bool | None]
) -> None:
    assert _facts(interpreter, text)["injury"] == injury


# ---------------------------------------------------------------- negation and modality
NEGATION: list[tuple[str, str, Any]] = [
    ("prn offered, he said no thanks and refused", "prn_medication", False),
    ("offered prn which she declined", "prn_medication", False),
    ("prn suggested by the nurse", "prn_medication", None),
    ("declined prn at first but accepted it ten minutes later", "prn_medication", True),
    ("we talked about prn but did not give any", "prn_medication", False),
    ("no prn given", "prn_medication", False),
    ("i did not hold her, i sat next to her on the floor", "hold_types", []),
    ("we never went to the floor, held seated", "hold_types", ["seated"]),
    ("she lay on the floor crying, nobody touched her", "hold_types", []),
    ("wouldn't say nobody was hurt, Olu's hand was cut when he kicked the door", "injury",
     {"child": None, "staff": True}),
    ("he says we hurt him on purpose to punish him", "used_as_punishment", None),
    ("she has had stomach pain all week", "pain_inflicted", None),
    ("the grip was not hurting him, we checked", "pain_inflicted", False),
    ("I pressed on his thumb to make him let go and it causes pain, I know that now",
     "pain_inflicted", True),
]


@pytest.mark.parametrize(("text", "key", "value"), NEGATION, ids=[t for t, _, _ in NEGATION])
def test_denied_offered_and_reported_things_are_not_read_as_done(
    interpreter: EmbeddedInterpreter, text: str, key: str, value: Any
) -> None:
    got = _facts(interpreter, text)[key]
    assert (sorted(got) if isinstance(got, list) else got) == value


# ---------------------------------------------------------------- which duration
DURATIONS = [
    ("she was up a tree for 45 mins, when she came down we held her for 2 mins", 2.0),
    ("overall about 2hrs 5, the restraint itself roughly 6 minutes", 6.0),
    ("held for 1hr 5 with staff swapping", 65.0),
    ("he was awol for 3 hours and came back calm, no hold", None),
    ("it took 40 mins to settle him after, the hold was 3 mins", 3.0),
    ("about twenty minutes later she asked for a drink", None),
    ("held for about 4 mins after he threw the kettle", 4.0),
    ("seated hold 5-7 mins", 7.0),
    ("the hold lasted under a minute", 1.0),
    ("kept in the calm room with the door held for a quarter of an hour", 15.0),
]


@pytest.mark.parametrize(("text", "minutes"), DURATIONS, ids=[t for t, _ in DURATIONS])
def test_the_duration_is_the_hold_itself(
    interpreter: EmbeddedInterpreter, text: str, minutes: float | None
) -> None:
    assert _facts(interpreter, text)["duration_minutes"] == minutes


# ---------------------------------------------------------------- vocabulary as staff write it
VOCABULARY: list[tuple[str, str, list[str]]] = [
    ("the lounge door was locked for a bit", "restrictions", ["locked_door"]),
    ("I held his bedroom door shut", "restrictions", ["locked_door"]),
    ("we wedged the classroom door closed", "restrictions", ["locked_door"]),
    ("turned off her powerchair so she would stop", "restrictions", ["mobility_aid_removed"]),
    ("took his walker away for ten minutes", "restrictions", ["mobility_aid_removed"]),
    ("his walking frame was taken off him", "restrictions", ["mobility_aid_removed"]),
    ("told her to stay in the calm room and stood in the doorway", "restrictions",
     ["blocked_exit", "isolation"]),
    ("she went to the sensory room by herself and came out after", "restrictions", []),
    ("held her stood up by the window", "hold_types", ["standing"]),
    ("held him approx 3 mins sitting on the settee", "hold_types", ["seated"]),
    ("guided him down to the floor", "hold_types", ["ground"]),
    ("walked her out of the hall by her arms", "hold_types", ["escort"]),
    ("she unclipped her seatbelt and I took it off her", "equipment", []),
    ("buckle guard on the whole way", "equipment", ["seatbelt"]),
    ("safe space zipped while he was head banging", "equipment", ["safe_space_bed"]),
    ("held him in the corrdior", "locations", ["corridor"]),
    ("restraint in the kitchn", "locations", ["communal"]),
    ("took him to the grund in the playgrund", "hold_types", ["ground"]),
    ("held in the car park beside the minibus", "locations", ["outdoors"]),
    ("she ran off to the garden afterwards", "locations", []),
    ("the dining hall", "locations", ["communal"]),
]


@pytest.mark.parametrize(("text", "key", "values"), VOCABULARY, ids=[t for t, _, _ in VOCABULARY])
def test_vocabulary_in_staff_words_and_typos(
    interpreter: EmbeddedInterpreter, text: str, key: str, values: list[str]
) -> None:
    assert sorted(_facts(interpreter, text)[key]) == sorted(values)


# ---------------------------------------------------------------- control messages in sentences
CONTROL = [
    ("i'm really struggling after that one, can someone call me please", "distress"),
    ("he headbutted me and I'm still trembling, I don't think I can carry on tonight", "distress"),
    ("feeling pretty overwhelmed to be honest", "distress"),
    ("she was crying and really upset after the hold", "inform"),
    ("i need to stop here, will finish the rest tomorrow", "pause"),
    ("got to dash, the night staff are here, can I carry on later", "pause"),
    ("oops I think I picked the wrong child earlier", "go_back"),
    ("can we skip that question for now", "skip"),
    ("he skipped school and went to the park, we held him standing there", "inform"),
    ("what do you mean by restrictive?", "help"),
    ("honestly can't remember", "unsure"),
    ("not sure if he banged his knee, he was limping a bit", "inform"),
    ("yes, it was the only way to stop him running into the road", "affirm"),
    ("no, there were three of us", "inform"),
    ("no we haven't yet", "deny"),
    ("sorry lost signal for a bit", "inform"),
    ("no restraint happened today, just words", "inform"),
    ("i'm ok thanks, long day", "inform"),
]


@pytest.mark.parametrize(("text", "intent"), CONTROL, ids=[t for t, _ in CONTROL])
def test_control_requests_said_in_sentences(
    interpreter: EmbeddedInterpreter, text: str, intent: str
) -> None:
    assert interpreter.parse(text).intent.name == intent


# ---------------------------------------------------------------- the same answer from any backend
PARITY = [
    ("we did not use prone at any point, held seated",
     [Entity("hold_type", "prone", 15, 20), Entity("hold_type", "seated", 39, 45)]),
    ("her finger got bent back when she grabbed the handle",
     [Entity("pain", "pain", 15, 24)]),
    ("held on the floor in her bedroom", [Entity("hold_type", "ground", 5, 17),
                                          Entity("hold_type", "ground", 8, 17),
                                          Entity("location", "bedroom", 21, 32)]),
]


@pytest.mark.parametrize(("text", "raw"), PARITY, ids=[t for t, _ in PARITY])
def test_what_a_backend_spots_cannot_change_the_facts(
    interpreter: EmbeddedInterpreter, text: str, raw: list[Entity]
) -> None:
    """Rasa's DIET tags "prone" alone and overlapping spans; facts come from one shared reading."""
    intent = Intent("inform", 0.9)
    with_raw = build_result(text, intent=intent, entities=raw)
    embedded = interpreter.parse(text)
    assert with_raw.facts == embedded.facts
    assert with_raw.flags == embedded.flags
    assert "pain_inflicted" not in with_raw.flags
    assert "prone" not in with_raw.facts["hold_types"]


# ---------------------------------------------------------------- how many staff, and more places
MORE: list[tuple[str, str, Any]] = [
    ("just me to start with, then the deputy came to help", "staff_count", 2),
    ("three of us, then a fourth person took over", "staff_count", 4),
    ("2 staff and then 4 when she kicked off again", "staff_count", 4),
    ("the TA and i held her while she was throwing chairs", "staff_count", 2),
    ("me and the driver held him in his seat", "staff_count", 2),
    ("me and the driver held him in his seat", "hold_types", ["seated"]),
    ("a two person seated hold", "staff_count", 2),
    ("her reins weren't needed in the car", "locations", ["vehicle"]),
    ("her reins weren't needed in the car", "equipment", []),
    ("no restraint used, only a friendly hold to the lounge", "hold_types", ["escort"]),
    ("held about 5 mins, swapped halfway", "locations", []),
    ("escorted her off the minibus", "locations", ["vehicle"]),
    ("held in the lounge for a minute, standing", "hold_types", ["standing"]),
    ("we held her in a basket hold on the floor", "hold_types", ["double_basket", "ground"]),
    ("took him out of the class by the arms", "locations", ["classroom"]),
]


@pytest.mark.parametrize(("text", "key", "value"), MORE, ids=[f"{t} [{k}]" for t, k, _ in MORE])
def test_staff_numbers_places_and_holds(
    interpreter: EmbeddedInterpreter, text: str, key: str, value: Any
) -> None:
    got = _facts(interpreter, text)[key]
    assert (sorted(got) if isinstance(got, list) else got) == (
        sorted(value) if isinstance(value, list) else value)
