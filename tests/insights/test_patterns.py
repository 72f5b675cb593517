"""Each pattern flag: planted in generated incidents it is found with exactly the incidents behind it;
just below its threshold it is not found. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.services import insights
from bot.services.demo_history import Measure, record_incident
from storage.db import session_scope

from .conftest import NOW, Home, make_home

Plant = Callable[[Home], list[int]]


def _escalating(h: Home) -> list[int]:
    h.add(0, days_ago=40)
    return [h.add(0, days_ago=d, staff=(d % 5, (d + 1) % 5)) for d in (20, 9, 2)]


def _escalating_near(h: Home) -> list[int]:
    h.add(0, days_ago=40)
    h.add(0, days_ago=33)
    return [h.add(0, days_ago=d) for d in (20, 9, 2)]  # 3, not double 2


def _frequent(h: Home) -> list[int]:
    return [h.add(1, days_ago=d) for d in (27, 18, 11, 0.1)]


def _frequent_near(h: Home) -> list[int]:
    return [h.add(1, days_ago=d) for d in (27, 18, 11)] + [h.add(1, days_ago=29)]


def _staff_cluster(h: Home) -> list[int]:
    ids = [h.add(c, days_ago=d, staff=(2, o)) for c, d, o in ((0, 20, 0), (1, 12, 1), (2, 5, 3))]
    h.add(3, days_ago=3, staff=(0, 1))
    return ids


def _staff_cluster_near(h: Home) -> list[int]:
    return [h.add(c, days_ago=d, staff=s) for c, d, s in
            ((0, 20, (2, 0)), (1, 12, (2, 1)), (2, 5, (3, 4)), (3, 3, (0, 1)))]


def _shift_cluster(h: Home) -> list[int]:
    # Three at night (23:50 and 00:20 local, across midnight and the clock change), one early.
    ids = [h.add(0, days_ago=20, hour=23, minute=50), h.add(1, days_ago=9, hour=0, minute=20),
           h.add(2, days_ago=0.9, hour=23, minute=55)]
    h.add(3, days_ago=4, hour=9)
    return ids


def _shift_cluster_near(h: Home) -> list[int]:
    return [h.add(0, days_ago=20, hour=23, minute=50), h.add(1, days_ago=9, hour=0, minute=20),
            h.add(2, days_ago=6, hour=9), h.add(3, days_ago=4, hour=16)]


def _repeated_trigger(h: Home) -> list[int]:
    ids = [h.add(c, days_ago=d, measure=Measure(triggers=["transition", "demand"]))
           for c, d in ((0, 21), (1, 14), (2, 7))]
    h.add(3, days_ago=3, measure=Measure(triggers=["peer"]))
    return ids


def _repeated_trigger_near(h: Home) -> list[int]:
    return [h.add(c, days_ago=d, measure=Measure(triggers=[t])) for c, d, t in
            ((0, 21, "transition"), (1, 14, "transition"), (2, 7, "peer"), (3, 3, "unclear"))]


def _becoming_norm(h: Home) -> list[int]:
    h.add(0, days_ago=50)
    return [h.add(c, days_ago=d) for c, d in ((0, 25), (1, 18), (0, 10), (1, 3))]


def _becoming_norm_near(h: Home) -> list[int]:
    return [h.add(c, days_ago=d) for c, d in ((0, 52), (1, 38), (0, 25), (1, 10))]


def _becoming_norm_children(h: Home) -> list[int]:
    for days_ago in (50, 45, 40, 35):
        h.add(5, days_ago=days_ago)  # no rise: as many before as after
    return [h.add(c, days_ago=d) for c, d in ((0, 25), (1, 18), (2, 10), (3, 3))]


def _separation(h: Home) -> list[int]:
    measure = Measure(holds=[], restrictions=["single_separation"])
    return [h.add(c, days_ago=d, measure=measure) for c, d in ((4, 26), (5, 15), (4, 1))]


def _separation_near(h: Home) -> list[int]:
    measure = Measure(holds=[], restrictions=["single_separation"])
    return [h.add(c, days_ago=d, measure=measure) for c, d in ((4, 26), (5, 15))] + [
        h.add(4, days_ago=1, measure=Measure(holds=[], restrictions=["locked_door"]))]


def _same_measure(h: Home) -> list[int]:
    ids = [h.add(2, days_ago=d, measure=Measure(holds=["kneeling"])) for d in (24, 13, 2)]
    h.add(3, days_ago=6, measure=Measure(holds=["kneeling"]))
    return ids


def _same_measure_near(h: Home) -> list[int]:
    return [h.add(2, days_ago=d, measure=Measure(holds=[hold])) for d, hold in
            ((24, "kneeling"), (13, "kneeling"), (2, "standing"))]


def _ground_holds(h: Home) -> list[int]:
    return [h.add(0, days_ago=17, measure=Measure(holds=["prone"])),
            h.add(3, days_ago=4, measure=Measure(holds=["supine", "kneeling"]))]


def _ground_holds_near(h: Home) -> list[int]:
    return [h.add(0, days_ago=30, measure=Measure(holds=["ground"])),
            h.add(3, days_ago=4, measure=Measure(holds=["prone"]))]


def _injuries(h: Home) -> list[int]:
    return [h.add(1, days_ago=19, measure=Measure(child_injured=True)),
            h.add(1, days_ago=2, measure=Measure(staff_injured=True))]


def _injuries_near(h: Home) -> list[int]:
    return [h.add(1, days_ago=19, measure=Measure(child_injured=True)),
            h.add(2, days_ago=2, measure=Measure(child_injured=True))]


def _after_trigger(h: Home) -> list[int]:
    ids = [h.add(4, days_ago=d, measure=Measure(triggers=["family"])) for d in (26, 19, 5)]
    h.add(4, days_ago=12, measure=Measure(triggers=["sensory"]))
    return ids


def _after_trigger_near(h: Home) -> list[int]:
    return [h.add(4, days_ago=d, measure=Measure(triggers=[t])) for d, t in
            ((26, "family"), (19, "family"), (12, "sensory"), (5, "unclear"))]


def _records_late(h: Home) -> list[int]:
    late = [h.add(c, days_ago=d, review_after=timedelta(hours=60)) for c, d in ((0, 20), (1, 9))]
    h.add(2, days_ago=15)
    h.add(3, days_ago=0.5, review_after=None)  # not yet due: neither met nor missed
    return late


def _records_late_near(h: Home) -> list[int]:
    return [h.add(0, days_ago=20, review_after=timedelta(hours=60)), h.add(1, days_ago=9),
            h.add(2, days_ago=15), h.add(3, days_ago=0.5, review_after=None)]


CASES: dict[str, tuple[Plant, Plant, str]] = {  # flag: (planted, near miss, subject starts with)
    "escalating_for_child": (_escalating, _escalating_near, "child:"),
    "frequent_for_child": (_frequent, _frequent_near, "child:"),
    "staff_cluster": (_staff_cluster, _staff_cluster_near, "person:"),
    "shift_cluster": (_shift_cluster, _shift_cluster_near, "shift:night"),
    "repeated_trigger": (_repeated_trigger, _repeated_trigger_near, "trigger:transition"),
    "restraint_becoming_norm": (_becoming_norm, _becoming_norm_near, "setting:rising"),
    "frequent_single_separation": (_separation, _separation_near, "setting"),
    "same_measure_for_child": (_same_measure, _same_measure_near, "child:"),
    "ground_holds_recurring": (_ground_holds, _ground_holds_near, "setting"),
    "injuries_recurring": (_injuries, _injuries_near, "child:"),
    "after_trigger_cluster": (_after_trigger, _after_trigger_near, "child:"),
    "records_late": (_records_late, _records_late_near, "deadline:review"),
}


SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _flags(home: Home) -> list[insights.PatternFlag]:
    with session_scope() as s:
        return insights.pattern_flags(s, setting_id=home.setting_id, as_of=NOW)


def test_every_flag_of_the_design_has_a_rule_and_a_case() -> None:
    assert set(insights.FLAG_NAMES) == set(insights.RULES) == set(CASES)


@SQLITE_ONLY
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_planted_pattern_is_found_with_the_incidents_behind_it(home: Home, name: str) -> None:
    planted, _, subject = CASES[name]
    expected = planted(home)
    found = [f for f in _flags(home) if f.name == name and f.subject.startswith(subject)]
    assert [sorted(f.incident_ids) for f in found] == [sorted(expected)], found
    sentence = found[0].sentence
    assert sentence.endswith(".")
    assert "_" not in sentence.replace("(test)", "")


@SQLITE_ONLY
@pytest.mark.parametrize("name", sorted(CASES))
def test_nothing_is_found_just_below_the_threshold(home: Home, name: str) -> None:
    _, near_miss, _ = CASES[name]
    near_miss(home)
    assert [f for f in _flags(home) if f.name == name] == []


@SQLITE_ONLY
def test_restraint_used_across_most_children_is_the_norm(home: Home) -> None:
    expected = _becoming_norm_children(home)
    found = {f.subject: sorted(f.incident_ids) for f in _flags(home)
             if f.name == "restraint_becoming_norm"}
    assert found == {"setting:children": sorted(expected)}


@SQLITE_ONLY
def test_sentences_name_the_child_and_the_staff_member(home: Home) -> None:
    _escalating(home)
    _staff_cluster(home)
    sentences = " ".join(f.sentence for f in _flags(home))
    assert "Jay O'Neill (test) has had 4 incidents in the last 28 days, up from 1" in sentences
    assert "Pat O'Hara (test) was involved in 4 of the 7 incidents" in sentences


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_every_case_on_postgresql(db_engine: object) -> None:
    """The same cases, each in its own home of one PostgreSQL database."""
    for name, (planted, near_miss, subject) in sorted(CASES.items()):
        home = make_home()
        expected = planted(home)
        found = [sorted(f.incident_ids) for f in _flags(home)
                 if f.name == name and f.subject.startswith(subject)]
        assert found == [sorted(expected)], name
        home = make_home()
        near_miss(home)
        assert [f for f in _flags(home) if f.name == name] == [], name


@SQLITE_ONLY
def test_the_managers_review_names_the_patterns_the_incident_is_part_of(home: Home) -> None:
    from bot.services.reviews import pattern_lines
    from storage.models import Incident
    from storage.types import utcnow

    now = utcnow()
    with session_scope() as s:
        ids = [record_incident(s, setting_id=home.setting_id, child_id=home.children[c],
                               reporter_id=home.staff[0], others=[home.staff[1]],
                               occurred_at=now - timedelta(days=d), measure=Measure(holds=[h]),
                               now=now)
               for c, d, h in ((0, 9, "prone"), (2, 1, "ground"), (3, 2, "standing"))]
        second, third = s.get(Incident, ids[1]), s.get(Incident, ids[2])
        assert second is not None
        assert third is not None
        lines = pattern_lines(s, incident=second)
        others = pattern_lines(s, incident=third)
    assert "Prone or floor holds were used 2 times in the last 28 days." in lines
    assert not any("floor holds" in line for line in others)


@SQLITE_ONLY
def test_a_debrief_or_review_after_the_last_look_is_counted(home: Home) -> None:
    first = home.add(0, days_ago=9, measure=Measure(holds=["prone"]), review_after=None)
    assert [f for f in _flags(home) if f.name == "ground_holds_recurring"] == []
    second = home.add(3, days_ago=2, measure=Measure(holds=["ground"]))
    (found,) = [f for f in _flags(home) if f.name == "ground_holds_recurring"]
    assert sorted(found.incident_ids) == sorted([first, second])
    with session_scope() as s:
        numbers = insights.summary(s, setting_id=home.setting_id, start=NOW - timedelta(days=28),
                                   end=NOW, now=NOW)
    review = {d.name: d for d in numbers.deadlines}["Review signed within 48 hours"]
    assert (review.met, review.missed) == (1, 1), "the first was never reviewed, the second was"


@SQLITE_ONLY
def test_flags_are_reused_only_until_the_policy_a_name_or_the_time_changes(home: Home) -> None:
    """The cache of flags never shows a stale sentence: a new threshold, a renamed child and a
    later window are all seen at once (new incidents: the test above)."""
    from storage.models import Child

    planted = _frequent(home)

    def frequent(as_of: object = NOW) -> list[insights.PatternFlag]:
        with session_scope() as s:
            return [f for f in insights.pattern_flags(s, setting_id=home.setting_id,
                                                      as_of=as_of)  # type: ignore[arg-type]
                    if f.name == "frequent_for_child"]

    (first,) = frequent()
    assert frequent() == [first]
    assert sorted(first.incident_ids) == sorted(planted)
    with session_scope() as s:
        insights.save_policy(s, setting_id=home.setting_id, overrides={"frequent_min": 5})
    assert frequent() == []
    with session_scope() as s:
        insights.save_policy(s, setting_id=home.setting_id, overrides={"frequent_min": 4})
        child = s.get(Child, home.children[1])
        assert child is not None
        child.display_name = "Sam O'Kane (test)"
        s.add(child)
    (renamed,) = frequent()
    assert renamed.sentence.startswith("Sam O'Kane (test) has had 4 incidents")
    assert frequent(NOW + timedelta(days=20)) == []  # the window has moved past most of them
