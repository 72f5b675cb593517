"""What each dashboard page shows, built from the services and storage (no HTTP in here).

Each function takes a session, the signed-in person and plain arguments, and returns dataclasses
the templates render. Who may see what comes from `bot.services.access`; every narrative read goes through
it, so the audit table sees the same reads as in the chat.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from threading import Lock
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.followups import planner
from bot.followups.schedule import Policy
from bot.services import access, charts, insights
from bot.services.reviews import (
    MANAGER_REVIEW,
    format_answer,
    pattern_lines,
)
from bot.services.runner import STAFF_DEBRIEF
from dialogues.flow import load_flow
from nlu.catalogue import staff_text
from storage import crud
from storage import reviews as store
from storage import web as web_store
from storage.models import Debrief, Person, Role, Setting
from storage.web import IncidentFacts

SHIFTS = (("early", "Early (07:00–15:00)", 7, 15), ("late", "Late (15:00–23:00)", 15, 23),
          ("night", "Night (23:00–07:00)", 23, 7))
PERIODS = {"7": "the last 7 days", "28": "the last 28 days", "90": "the last 90 days",
           "365": "the last year"}


# --- the regulation 35 clock ----------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """One deadline of an incident: done, due in ..., or overdue."""

    label: str
    state: str  # "done", "due", "overdue"
    text: str


def span_words(span: timedelta) -> str:
    """A rough, readable length of time: '3 h', '2 days', '40 min'."""
    minutes = int(abs(span.total_seconds()) // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


def clock(label: str, *, done_at: datetime | None, deadline: datetime | None,
          now: datetime) -> Clock:
    """The state of one deadline at `now`."""
    if done_at is not None:
        late = deadline is not None and done_at > deadline
        return Clock(label, "done", "done, late" if late else "done")
    if deadline is None:
        return Clock(label, "due", "no deadline")
    if deadline < now:
        return Clock(label, "overdue", f"overdue by {span_words(now - deadline)}")
    return Clock(label, "due", f"due in {span_words(deadline - now)}")


def clocks(facts: IncidentFacts, *, policy: Policy, now: datetime) -> list[Clock]:
    """Record 24 h, review 48 h, child spoken to 5 days (or the setting's own deadlines)."""
    t0 = facts.incident.occurred_at
    recorded = facts.last_debrief_at if facts.staff and facts.debriefed >= facts.staff else None
    return [clock("Record", done_at=recorded, deadline=policy.deadline("debrief", t0=t0), now=now),
            clock("Review", done_at=facts.signed_at, deadline=policy.deadline("review", t0=t0),
                  now=now),
            clock("Child spoken to", done_at=facts.child_view_at,
                  deadline=policy.deadline("childview", t0=t0), now=now)]


# --- Today ---------------------------------------------------------------------------------------


@dataclass
class TodayIncident:
    id: int
    when: str
    child: str | None
    clocks: list[Clock]
    flags: list[str]


@dataclass
class Today:
    setting: str
    incidents: list[TodayIncident]
    overdue: list[str]
    flags: list[tuple[str, list[int]]]
    narrative: bool
    patterns: list[tuple[str, list[int]]] = field(default_factory=list)


def _zone(setting: Setting | None) -> ZoneInfo:
    return ZoneInfo(setting.timezone if setting else "Europe/London")


def today(session: Session, *, person: Person, now: datetime) -> Today:
    """A manager's (or, without names, an admin's) setting today: open incidents and their clocks,
    overdue follow-ups and actions, and the points to reflect on raised this week."""
    setting = crud.get_setting(session, setting_id=person.setting_id)
    assert setting is not None
    assert setting.id is not None
    narrative = person.role == Role.manager
    zone = _zone(setting)
    policy = planner.policy_for(session, setting_id=setting.id)
    facts = web_store.open_incident_facts(session, setting_id=setting.id)
    names = _child_names(session, [f.incident.child_id for f in facts]) if narrative else {}
    incidents = [TodayIncident(id=f.incident.id or 0,
                               when=f"{f.incident.occurred_at.astimezone(zone):%a %d %b %H:%M}",
                               child=names.get(f.incident.child_id),
                               clocks=clocks(f, policy=policy, now=now), flags=list(f.incident.flags))
                 for f in facts]
    overdue = [f"{c.label} for the incident of {i.when}: {c.text}" for i in incidents
               for c in i.clocks if c.state == "overdue"]
    late = web_store.overdue_actions(session, setting_id=setting.id, now=now)
    done = store.actions_done(session, action_ids=[a.id for a in late if a.id is not None])
    for action in (a for a in late if a.id not in done):
        what = action.description if narrative else "a review action"
        overdue.append(f"Action: {what} (due {action.due_at.astimezone(zone):%a %d %b})")
    week = web_store.incident_rows(session, setting_id=setting.id, since=now - timedelta(days=7))
    raised: dict[str, list[int]] = {}
    for row in week:
        for flag in row.flags:
            raised.setdefault(flag, []).append(row.id)
    flags = [(staff_text(f), ids) for f, ids in sorted(raised.items())]
    found = pattern_flags(session, setting_id=setting.id, as_of=now) if narrative else []
    return Today(setting=setting.name, incidents=incidents, overdue=overdue, flags=flags,
                 narrative=narrative, patterns=found)


def pattern_flags(session: Session, *, setting_id: int, as_of: datetime,
                  child_id: int | None = None, staff_id: int | None = None,
                  ) -> list[tuple[str, list[int]]]:
    """The insights' patterns across incidents (sentence, incidents behind it), newest first."""
    return [(flag.sentence, sorted(flag.incident_ids, reverse=True))
            for flag in insights.pattern_flags(session, setting_id=setting_id, as_of=as_of,
                                               child_id=child_id, person_id=staff_id)]


def _child_names(session: Session, child_ids: list[int]) -> dict[int, str]:
    return crud.child_names(session, child_ids=child_ids)


# --- a staff member's own debriefs ------------------------------------------------------------------


@dataclass
class OwnDebrief:
    id: int
    when: str
    child: str


def own_debriefs(session: Session, *, person: Person) -> list[OwnDebrief]:
    """The debriefs this person wrote, newest first."""
    assert person.id is not None
    zone = _zone(crud.get_setting(session, setting_id=person.setting_id))
    found = []
    for debrief in web_store.debriefs_by_person(session, person_id=person.id):
        incident = crud.get_incident(session, incident_id=debrief.incident_id)
        child = crud.get_child(session, child_id=incident.child_id) if incident else None
        when = incident.occurred_at.astimezone(zone) if incident else debrief.started_at
        found.append(OwnDebrief(id=debrief.id or 0, when=f"{when:%a %d %b %H:%M}",
                                child=child.display_name if child else "a child"))
    return found


@dataclass
class Row:
    question: str
    answers: list[tuple[str, str]]  # (who, answer)
    differ: bool = False


def debrief_rows(session: Session, *, debriefs: list[Debrief]) -> tuple[list[str], list[Row]]:
    """Each debrief's answers side by side, question by question; rows where people differ marked."""
    flow = load_flow(STAFF_DEBRIEF)
    names: list[str] = []
    answers: list[dict[str, Any]] = []
    for debrief in debriefs:
        assert debrief.id is not None
        author = crud.get_person(session, person_id=debrief.person_id)
        names.append(author.display_name if author else "Staff")
        answers.append({a.question_id: a for a in crud.answers_of(session, debrief_id=debrief.id)})
    rows = []
    for question in flow.questions:
        if not question.side_by_side:
            continue
        given = [(names[n], rows_[question.id]) for n, rows_ in enumerate(answers)
                 if question.id in rows_]
        if not given:
            continue
        shown = [(who, format_answer(question, a.status, a.text if a.text is not None else a.value,
                                     limit=2000)) for who, a in given]
        structured = [a.value for _, a in given if a.text is None and a.status == "answered"]
        differ = len(structured) >= 2 and any(v != structured[0] for v in structured)
        rows.append(Row(question=question.review_title or question.short,
                        answers=shown, differ=differ))
    return names, rows


# --- an incident -----------------------------------------------------------------------------------


@dataclass
class ReviewRecord:
    manager: str
    signed: str
    answers: list[tuple[str, str]]
    actions: list[str]
    addenda: list[str]


@dataclass
class IncidentPage:
    id: int
    title: str
    clocks: list[Clock]
    names: list[str]
    rows: list[Row]
    waiting: list[str]
    child_views: list[list[tuple[str, str]]]
    flags: list[str]
    patterns: list[str]
    review: ReviewRecord | None
    review_open: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def incident_page(session: Session, *, person: Person, incident_id: int,
                  now: datetime) -> IncidentPage:
    """Everything about one incident for a manager of its setting (refused for anyone else)."""
    found = crud.get_incident(session, incident_id=incident_id)
    incident = access.check_incident(session, person=person, incident=found,
                                     incident_id=incident_id)
    assert incident.id is not None
    setting = crud.get_setting(session, setting_id=incident.setting_id)
    zone = _zone(setting)
    debriefs = [access.check_debrief(session, person=person, debrief=d, debrief_id=d.id)
                for d in crud.debriefs_of(session, incident_id=incident.id)]
    names, rows = debrief_rows(session, debriefs=debriefs)
    done = {d.person_id for d in debriefs}
    waiting = [p.display_name for pid in crud.staff_of(session, incident_id=incident.id)
               if pid not in done and (p := crud.get_person(session, person_id=pid)) is not None]
    facts = web_store.incident_facts(session, incidents=[incident])[0]
    policy = planner.policy_for(session, setting_id=incident.setting_id)
    child = crud.get_child(session, child_id=incident.child_id)
    when = incident.occurred_at.astimezone(zone)
    views = []
    for view in store.child_views_of(session, incident_id=incident.id):
        crud.record_audit(session, actor_id=person.id, action="child_view_read",
                          object_type="child_view", object_id=view.id)
        saved = store.child_view_answers(view)
        shown = [("Recorded", "with a member of staff" if view.mode != "self" else "by the child")]
        shown += [(key.replace("_", " "), format_value(item.get("value")))
                  for key, item in saved.items() if isinstance(item, dict)]
        views.append(shown)
    signed = store.signed_review(session, incident_id=incident.id)
    record = _review_record(session, signed, zone) if signed is not None else None
    return IncidentPage(
        id=incident.id, title=f"{child.display_name if child else 'A child'}, {when:%a %d %b %Y %H:%M}",
        clocks=clocks(facts, policy=policy, now=now), names=names, rows=rows, waiting=waiting,
        child_views=views, flags=[staff_text(f) for f in incident.flags],
        patterns=pattern_lines(session, incident=incident), review=record)


def format_value(value: Any) -> str:
    """A stored answer value in plain words."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v).replace("_", " ") for v in value) or "—"
    return str(value).replace("_", " ") if " " not in str(value) else str(value)


def _review_record(session: Session, review: Any, zone: ZoneInfo) -> ReviewRecord:
    flow = load_flow(MANAGER_REVIEW)
    manager = crud.get_person(session, person_id=review.manager_id)
    saved = store.review_answers(review)
    answers = [(q.short, format_answer(q, saved[q.id]["status"], saved[q.id]["value"], limit=2000))
               for q in flow.questions if q.id in saved and q.action is None]
    actions = []
    for action in store.actions_of(session, review_id=review.id):
        owner = crud.get_person(session, person_id=action.owner_id) if action.owner_id else None
        actions.append(f"{action.description} — {owner.display_name if owner else 'unassigned'}, "
                       f"by {action.due_at.astimezone(zone):%a %d %b}")
    addenda = []
    for addendum in store.addenda_of(session, review_id=review.id):
        author = crud.get_person(session, person_id=addendum.author_id)
        addenda.append(f"{addendum.created_at.astimezone(zone):%a %d %b %Y %H:%M}, "
                       f"{author.display_name if author else 'a manager'}: {addendum.text}")
    return ReviewRecord(manager=manager.display_name if manager else "a manager",
                        signed=f"{review.signed_at.astimezone(zone):%a %d %b %Y at %H:%M}",
                        answers=answers, actions=actions, addenda=addenda)


# --- patterns --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """One chart of the Patterns page: its image's name, its title, and the same in words."""

    name: str
    title: str
    alt: str


@dataclass
class Patterns:
    period: str
    total: int
    across: list[tuple[str, list[int]]]
    by_child: list[tuple[str, int]]
    by_staff: list[tuple[str, int]]
    by_shift: list[tuple[str, int]]
    flags: list[tuple[str, list[tuple[int, str]]]]
    children: list[tuple[int, str]]
    staff: list[tuple[int, str]]
    chosen: dict[str, str]
    weeks: list[date] = field(default_factory=list)
    per_week: dict[str, list[int]] = field(default_factory=dict)  # child -> incidents each week
    heat: dict[tuple[int, int], int] = field(default_factory=dict)  # (weekday, hour) -> incidents
    charts: list[Chart] = field(default_factory=list)

    @property
    def query(self) -> str:
        """The filters as a query string, for the chart images of this same view."""
        return urlencode({k: v for k, v in self.chosen.items() if v})


def shift_of(at: datetime) -> str:
    """The shift a local time falls in (early, late, night)."""
    for name, _, first, end in SHIFTS:
        if (first <= at.hour < end) if first < end else (at.hour >= first or at.hour < end):
            return name
    raise AssertionError("every hour is in a shift")  # pragma: no cover


def patterns(session: Session, *, person: Person, now: datetime, period: str = "28",
             child_id: int | None = None, staff_id: int | None = None,
             shift: str | None = None) -> Patterns:
    """A manager's setting over a period, filtered by child, staff member and shift: counts, and
    each point to reflect on with the incidents behind it."""
    if person.role != Role.manager:
        raise access.refuse(session, person=person, action="open_patterns", object_type="setting",
                            object_id=person.setting_id)
    setting = crud.get_setting(session, setting_id=person.setting_id)
    assert setting is not None
    assert setting.id is not None
    zone = _zone(setting)
    days = int(period) if period in PERIODS else 28
    since = now - timedelta(days=days)
    local = {row.id: (row, row.occurred_at.astimezone(zone))
             for row in web_store.incident_rows(session, setting_id=setting.id, since=since,
                                                child_id=child_id, staff_id=staff_id)}
    shifts = {incident_id: shift_of(at) for incident_id, (_, at) in local.items()}
    if shift:
        local = {i: pair for i, pair in local.items() if shifts[i] == shift}
    children = {c.id: c.display_name for c in crud.list_children(session, setting_id=setting.id)
                if c.id is not None}
    people = {p.id: p.display_name for p in crud.list_people(session, setting_id=setting.id,
                                                             roles=(Role.staff, Role.manager))
              if p.id is not None}
    involved = web_store.staff_of_incidents(session, setting_id=setting.id, since=since,
                                            child_id=child_id, staff_id=staff_id)
    by_child = Counter(children.get(row.child_id, "another child") for row, _ in local.values())
    by_staff = Counter(people.get(p, "someone else") for i in local for p in involved.get(i, ()))
    by_shift = Counter(shifts[i] for i in local)
    flagged: dict[str, list[tuple[int, str]]] = {}
    for row, at in local.values():
        for flag in row.flags:
            flagged.setdefault(flag, []).append((row.id, f"{at:%d %b %H:%M}"))
    weeks = [(since + timedelta(weeks=i)).astimezone(zone).date() for i in range(-(-days // 7))]
    per_week: dict[str, list[int]] = {}
    heat: Counter[tuple[int, int]] = Counter()
    for row, at in local.values():
        index = min(len(weeks) - 1, int((row.occurred_at - since) / timedelta(weeks=1)))
        per_week.setdefault(children.get(row.child_id, "another child"), [0] * len(weeks))[index] += 1
        heat[(at.weekday(), at.hour)] += 1
    per_week = dict(sorted(per_week.items(), key=lambda item: -sum(item[1])))
    found = Patterns(
        period=PERIODS.get(period, PERIODS["28"]), total=len(local),
        across=pattern_flags(session, setting_id=setting.id, as_of=now, child_id=child_id,
                             staff_id=staff_id),
        by_child=by_child.most_common(), by_staff=by_staff.most_common(),
        by_shift=[(label, by_shift.get(name, 0)) for name, label, _, _ in SHIFTS],
        flags=[(staff_text(f), rows) for f, rows in sorted(flagged.items())],
        children=sorted(children.items()), staff=sorted(people.items()),
        chosen={"period": period, "child": str(child_id or ""), "staff": str(staff_id or ""),
                "shift": shift or ""}, weeks=weeks, per_week=per_week, heat=dict(heat))
    found.charts = [Chart("weekly", "Incidents per week, by child", _weekly_words(found)),
                    Chart("heat", "When incidents happen (weekday and local hour)",
                          _heat_words(found))]
    return found


def _weekly_words(found: Patterns) -> str:
    if not found.per_week:
        return f"No incidents in {found.period}."
    lines = "; ".join(f"{name}: {', '.join(map(str, counts))}"
                      for name, counts in list(found.per_week.items())[:6])
    more = len(found.per_week) - 6
    return (f"Incidents per week in {found.period}, weeks starting {found.weeks[0]:%d %b}, by "
            f"child. {lines}{f'; and {more} more children' if more > 0 else ''}.")


def _heat_words(found: Patterns) -> str:
    if not found.heat:
        return f"No incidents in {found.period}."
    busiest = sorted(found.heat.items(), key=lambda item: (-item[1], item[0]))[:3]
    top = ", ".join(f"{insights.WEEKDAYS[day]} {hour:02d}:00–{hour + 1:02d}:00 ({count})"
                    for (day, hour), count in busiest)
    return (f"A grid of weekdays by hour of the day, darker where more of the {found.total} "
            f"incidents happened. The busiest hours: {top}.")


def chart_png(found: Patterns, name: str) -> bytes:
    """One chart of a Patterns view as a PNG (drawn once per distinct set of numbers)."""
    if name == "weekly":
        key: tuple[Any, ...] = (name, tuple(found.weeks), tuple(
            (k, tuple(v)) for k, v in found.per_week.items()))
    elif name == "heat":
        key = (name, tuple(sorted(found.heat.items())))
    else:
        raise KeyError(name)
    with _chart_lock:
        if key in _charts:
            _charts.move_to_end(key)
            return _charts[key]
    if name == "weekly":
        png = charts.incidents_per_week(weeks=found.weeks, series=found.per_week)
    else:
        png = charts.heat_map(heat=found.heat)
    with _chart_lock:
        _charts[key] = png
        while len(_charts) > 32:
            _charts.popitem(last=False)
    return png


_charts: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_chart_lock = Lock()
