"""Months of synthetic incidents with planted patterns, so anyone can try the insights and the report.

Everything is written through the same storage functions a real debrief and review use (incident,
staff, answers, signed review, actions, a child's view), with synthetic names only. Background
incidents are spread over children, staff, shifts and months; on top of them, in the 28 days before
`now`, these patterns are planted (and `PLANTED` names the flags they raise):

- Jay O'Neill: one incident in the 28 days before, five in the last 28, four of them after family
  contact, two with someone hurt -> escalating_for_child, frequent_for_child, after_trigger_cluster,
  injuries_recurring.
- Sam Kowalczyk: a seated hold three times after family contact, each review signed after 70 hours
  -> same_measure_for_child, records_late (and after_trigger_cluster for Sam too).
- Ri Ng: two prone holds at night, one review late -> ground_holds_recurring.
- Casey D'Souza: the isolation room three times -> frequent_single_separation.
- Holds rising over the last eight weeks (4 in the first four, 10 in the last four) ->
  restraint_becoming_norm; family contact behind 7 of the 13 recent incidents -> repeated_trigger.
- Dee Ahmed-Browne in all 13 recent incidents -> staff_cluster; 11 of them in the late shift ->
  shift_cluster.
By DESIGN.md's own thresholds some patterns also show for other children (escalating_for_child for
Sam and Casey, who had no incident the month before; same_measure_for_child for Jay's standing
holds and Casey's isolation room): that is the rules working, and the tests allow it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage import crud
from storage import insights as facts
from storage import reviews as review_store
from storage.models import ChildCreate, Debrief, Person, PersonCreate, Role, Setting
from storage.types import utcnow

CHILDREN = ("Jay O'Neill (demo)", "Sam Kowalczyk (demo)", "Ri Ng (demo)", "Casey D'Souza (demo)",
            "Taylor Mbeki (demo)", "Robin Ó Briain (demo)")
STAFF = ("Dee Ahmed-Browne (demo)", "Lou McKay (demo)", "Pat O'Hara (demo)",
         "Chris Adeyemi (demo)", "Noor Sheikh (demo)", "Sol Reyes-Kaur (demo)")
MANAGER = "Morgan Ellis-Grey (demo)"
PLANTED = ("escalating_for_child", "frequent_for_child", "after_trigger_cluster",
           "injuries_recurring", "shift_cluster", "staff_cluster", "same_measure_for_child",
           "ground_holds_recurring", "frequent_single_separation", "restraint_becoming_norm",
           "records_late", "repeated_trigger")
TRIGGERS = ("transition", "demand", "refusal", "peer", "sensory", "unwell", "unclear")
LOCATIONS = ("communal", "corridor", "bedroom", "outdoors", "classroom", "bathroom")
CALM_HOLDS = ("standing", "escort", "kneeling")


@dataclass
class Measure:
    """What happened in one synthetic incident (the structured answers of its debrief)."""

    location: str = "communal"
    holds: list[str] = field(default_factory=lambda: ["standing"])
    restrictions: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=lambda: ["demand"])
    duration: float = 3
    staff_count: int = 2
    child_injured: bool = False
    staff_injured: bool = False


def _flags(measure: Measure) -> list[str]:
    found = set()
    if set(measure.holds) & facts.GROUND_HOLDS:
        found.add("prone_or_ground_hold")
    if measure.holds and measure.location in ("bedroom", "bed"):
        found.add("restraint_in_bedroom")
    if measure.duration >= 10:
        found.add("long_intervention")
    if measure.staff_count >= 3:
        found.add("many_staff")
    if measure.child_injured or measure.staff_injured:
        found.add("injury")
    if measure.restrictions:
        found.add("isolation_or_seclusion")
    return sorted(found)


def record_incident(session: Session, *, setting_id: int, child_id: int, reporter_id: int,
                    others: list[int], occurred_at: datetime, measure: Measure,
                    recorded_after: timedelta = timedelta(hours=3),
                    review_after: timedelta | None = timedelta(hours=30),
                    manager_id: int | None = None, action_owner_id: int | None = None,
                    now: datetime | None = None) -> int:
    """Store one synthetic incident as a real debrief (and signed review) would; return its id."""
    now = now or utcnow()
    incident = crud.create_incident(session, setting_id=setting_id, child_id=child_id,
                                    occurred_at=occurred_at, reported_by_id=reporter_id,
                                    staff_ids=others)
    assert incident.id is not None
    interventions = (["physical_hold"] if measure.holds else []) + (
        ["separation"] if measure.restrictions else [])
    answers: list[dict[str, Any]] = [
        {"question_id": "child", "status": "answered", "value": str(child_id)},
        {"question_id": "location", "status": "answered", "value": measure.location},
        {"question_id": "interventions", "status": "answered", "value": interventions},
        {"question_id": "triggers", "status": "answered", "value": measure.triggers},
        {"question_id": "tried_first", "status": "answered", "value": ["talking", "space"]},
        {"question_id": "necessity", "status": "answered", "value": ["injury_others"]},
        {"question_id": "communication", "status": "answered",
         "text": "They seemed overwhelmed and wanted to be heard."},
        {"question_id": "describe", "status": "answered",
         "text": f"{', '.join(measure.holds) or 'kept apart'} in the {measure.location}, "
                 f"about {measure.duration:g} minutes"},
        {"question_id": "duration", "status": "answered", "value": measure.duration},
        {"question_id": "staff_count", "status": "answered", "value": measure.staff_count},
        {"question_id": "child_injured", "status": "answered", "value": measure.child_injured},
        {"question_id": "staff_injured", "status": "answered", "value": measure.staff_injured},
        {"question_id": "ending", "status": "answered", "text": "Settled with a drink and a chat."},
        {"question_id": "child_experience", "status": "answered",
         "text": "Said it felt unfair, then asked for their key worker."},
        {"question_id": "least_restrictive", "status": "answered", "value": "yes"},
        {"question_id": "next_time", "status": "answered", "text": "Warn them earlier."},
    ]
    if measure.holds:
        answers.append({"question_id": "hold_types", "status": "answered", "value": measure.holds})
    if measure.restrictions:
        answers.append({"question_id": "restrictions", "status": "answered",
                        "value": measure.restrictions})
    if measure.child_injured or measure.staff_injured:
        answers.append({"question_id": "injury_details", "status": "answered",
                        "text": "A red mark on the forearm, checked by the shift lead."})
    debrief = crud.save_debrief(session, incident=incident, person_id=reporter_id,
                                flow_id="staff_debrief", answers=answers, flags=_flags(measure))
    _submitted_at(session, debrief, min(occurred_at + recorded_after, now))
    if manager_id is not None and review_after is not None and occurred_at + review_after <= now:
        signed = occurred_at + review_after
        outcome = {"spoken_with_staff": "all", "legal_necessary": "yes", "restorative": "held",
                   "notifiable": "no", "informed": ["parents"]}
        given = {"spoken_with_staff": "all", "legal_necessary": "yes",
                 "legal_necessary_why": "To stop an injury to another child.",
                 "restorative": "held", "learning": "Plan a calmer handover.",
                 "informed": ["parents"], "notifiable": "no"}
        review_answers = {q: {"status": "answered", "value": v} for q, v in given.items()}
        actions = [] if action_owner_id is None else [
            {"description": "Update the behaviour support plan", "owner_id": action_owner_id,
             "due_at": signed + timedelta(days=7)}]
        review_store.save_review(session, incident_id=incident.id, manager_id=manager_id,
                                 answers=review_answers, outcome=outcome, actions=actions,
                                 now=signed)
    return incident.id


def _submitted_at(session: Session, debrief: Debrief, at: datetime) -> None:
    debrief.submitted_at = at
    session.add(debrief)
    session.flush()


@dataclass(frozen=True)
class DemoHistory:
    """What was generated: the setting, its people and the planted incidents by pattern."""

    setting_id: int
    children: dict[str, int]
    staff: dict[str, int]
    manager_id: int
    incidents: int
    planted: dict[str, list[int]]


def _people(session: Session, *, setting_id: int) -> tuple[dict[str, int], dict[str, int], int]:
    children = {}
    for name in CHILDREN:
        child = crud.create_child(session, data=ChildCreate(setting_id=setting_id,
                                                            display_name=name))
        assert child.id is not None
        children[name] = child.id
    staff = {}
    for name in STAFF:
        person = crud.create_person(session, data=PersonCreate(setting_id=setting_id,
                                                               display_name=name, role=Role.staff))
        assert person.id is not None
        staff[name] = person.id
    manager: Person = crud.create_person(session, data=PersonCreate(
        setting_id=setting_id, display_name=MANAGER, role=Role.manager))
    assert manager.id is not None
    return children, staff, manager.id


def _local(setting: Setting, day: datetime, hour: int, minute: int) -> datetime:
    zone = ZoneInfo(setting.timezone)
    local = day.astimezone(zone)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(UTC)


def generate(session: Session, *, setting_id: int, months: int, now: datetime | None = None,
             seed: int = 35) -> DemoHistory:
    """Add synthetic children, staff and `months` of incidents with the planted patterns."""
    now = now or utcnow()
    setting = crud.get_setting(session, setting_id=setting_id)
    if setting is None:
        raise ValueError(f"There is no setting {setting_id}.")
    rng = random.Random(seed)
    children, staff, manager_id = _people(session, setting_id=setting_id)
    child_ids, staff_ids = list(children.values()), list(staff.values())
    jay, sam, ri, casey = child_ids[:4]
    dee = staff_ids[0]
    count = 0

    def add(child: int, at: datetime, measure: Measure, reporter: int, other: int, *,
            review_after: timedelta = timedelta(hours=30)) -> int:
        nonlocal count
        count += 1
        return record_incident(session, setting_id=setting_id, child_id=child,
                               reporter_id=reporter, others=[other], occurred_at=at,
                               measure=measure, review_after=review_after, manager_id=manager_id,
                               action_owner_id=reporter if count % 3 == 0 else None, now=now)

    # Background: about two incidents a week for the home, thinning out to quiet recent weeks.
    start = now - timedelta(days=30 * months)
    day = start
    calm_until = now - timedelta(weeks=8)
    while day < calm_until:
        day += timedelta(days=rng.choice((2, 3, 4, 5)))
        child = rng.choice(child_ids[1:])
        reporter, other = rng.sample(staff_ids[1:], 2)
        at = _local(setting, day, rng.choice((8, 11, 14, 16, 20, 23)), rng.choice((5, 25, 50)))
        add(child, at, Measure(location=rng.choice(LOCATIONS), holds=[rng.choice(CALM_HOLDS)],
                               triggers=[rng.choice(TRIGGERS)], duration=rng.choice((1, 2, 4, 6)),
                               staff_count=2), reporter, other)
    planted: dict[str, list[int]] = {name: [] for name in PLANTED}
    # Eight weeks of rising holds: 0, 1, 1, 1 in the first four weeks (each a different child).
    for weeks_ago, child in ((7, sam), (6, casey), (5, ri)):
        at = _local(setting, now - timedelta(weeks=weeks_ago, days=1), 10, 40)
        add(child, at, Measure(location="classroom", holds=["escort"], triggers=["demand"]),
            staff_ids[2], staff_ids[3])
    # Jay: one incident in the 28 days before, five in the last 28 (four after family contact).
    add(jay, _local(setting, now - timedelta(days=40), 9, 15),
        Measure(triggers=["sensory"], holds=["standing"]), staff_ids[4], staff_ids[5])
    for days_ago, trigger, hurt in ((25, "family", False), (19, "family", True),
                                    (13, "family", False), (8, "family", True), (3, "peer", False)):
        at = _local(setting, now - timedelta(days=days_ago), 17, 20 + days_ago)
        incident = add(jay, at, Measure(location="communal", holds=["standing"], triggers=[trigger],
                                        child_injured=hurt, duration=6), dee, staff_ids[1])
        for name in ("escalating_for_child", "frequent_for_child", "restraint_becoming_norm"):
            planted[name].append(incident)
        if trigger == "family":
            planted["after_trigger_cluster"].append(incident)
            planted["repeated_trigger"].append(incident)
        if hurt:
            planted["injuries_recurring"].append(incident)
    # Sam: a seated hold three times; reviews signed late (records_late).
    for days_ago in (22, 15, 6):
        at = _local(setting, now - timedelta(days=days_ago), 16, 45)
        incident = add(sam, at, Measure(location="communal", holds=["seated"],
                                        triggers=["family"]), dee, staff_ids[2],
                       review_after=timedelta(hours=70))
        planted["same_measure_for_child"].append(incident)
        planted["records_late"].append(incident)
        planted["repeated_trigger"].append(incident)
        planted["restraint_becoming_norm"].append(incident)
    # Ri: two prone holds, one late review; Casey: the isolation room three times.
    for days_ago in (20, 10):
        at = _local(setting, now - timedelta(days=days_ago), 23, 35)
        incident = add(ri, at, Measure(location="bedroom", holds=["prone"], triggers=["peer"],
                                       duration=11, staff_count=3), staff_ids[3], dee,
                       review_after=timedelta(hours=60 if days_ago == 20 else 20))
        planted["ground_holds_recurring"].append(incident)
        planted["restraint_becoming_norm"].append(incident)
        if days_ago == 20:
            planted["records_late"].append(incident)
    for days_ago in (24, 12, 5):
        at = _local(setting, now - timedelta(days=days_ago), 19, 55)
        incident = add(casey, at, Measure(location="corridor", holds=[],
                                          restrictions=["isolation"], triggers=["refusal"],
                                          duration=15), staff_ids[4], dee)
        planted["frequent_single_separation"].append(incident)
    # Dee was in every one of the last 28 days' incidents; all but Ri's were in the late shift.
    recent = sorted({i for ids in planted.values() for i in ids})
    planted["staff_cluster"] = recent
    planted["shift_cluster"] = [i for i in recent if i not in planted["ground_holds_recurring"]]
    planted = {name: sorted(ids) for name, ids in planted.items()}
    session.flush()
    facts.refresh_facts(session, setting_id=setting_id)
    return DemoHistory(setting_id=setting_id, children=children, staff=staff,
                       manager_id=manager_id, incidents=count, planted=planted)
