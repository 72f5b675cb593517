"""Records for inspection: incidents with their debriefs, reviews and child views, as JSON or CSV.

What an inspector needs: every answer with its question and its words (a label or a name beside
each stored code), the regulation 35 timings (recorded within 24 hours, review signed within 48
hours, child spoken to within 5 days: when, and met or missed), and nothing that was promised to
stay private: a staff member's own wellbeing check-in is not part of the child's record. Exports
hold narrative text, so each one is written to the audit table.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.followups.schedule import Policy, PolicyError
from bot.services.insights import Names, names_of
from dialogues.flow import Flow, QuestionType, load_flow
from storage import crud, reviews
from storage import followups as followup_store
from storage.insights import child_spoken_at
from storage.models import Incident, Review, Setting
from storage.types import utcnow

# Asked for the staff member's own sake, promised not to be part of the child's record.
PRIVATE_QUESTIONS = frozenset({"wellbeing", "wellbeing_checkin"})
FLOW_OF = {"review": "manager_review", "self": "child_view", "assisted": "child_view_assisted"}
DEADLINES = (("recorded_within_24h", "debrief"), ("review_signed_within_48h", "review"),
             ("child_spoken_to_within_5_days", "childview"))


class PeriodError(ValueError):
    """A period whose last day is before its first."""


def whole_days(*, first: date | None, last: date | None,
               timezone: str) -> tuple[datetime | None, datetime | None]:
    """The period from the start of `first` to the end of `last` (included) in the setting's time
    zone, as UTC bounds [start, end) for `export_records` and the report (None: unbounded)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC) if first else None
    end = (datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
           if last else None)
    if start is not None and end is not None and end <= start:
        raise PeriodError("The last day must not be before the first.")
    return start, end


def export_records(session: Session, *, setting_id: int | None = None,
                   actor_id: int | None = None, start: datetime | None = None,
                   end: datetime | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every incident (of one setting, or all; from `start`, before `end`) with all that followed."""
    now = now or utcnow()
    records = []
    names: dict[int, Names] = {}
    for incident in crud.incidents_for_export(session, setting_id=setting_id, start=start, end=end):
        if incident.setting_id not in names:
            names[incident.setting_id] = names_of(session, setting_id=incident.setting_id)
        records.append(_record(session, incident=incident, names=names[incident.setting_id],
                               now=now))
    crud.record_audit(session, actor_id=actor_id, action="export", object_type="setting",
                      object_id=setting_id, detail={"incidents": len(records)})
    return records


def _record(session: Session, *, incident: Incident, names: Names,
            now: datetime) -> dict[str, Any]:
    assert incident.id is not None
    setting = crud.get_setting(session, setting_id=incident.setting_id)
    child = crud.get_child(session, child_id=incident.child_id)
    flow = load_flow("staff_debrief")
    debriefs: list[dict[str, Any]] = []
    for debrief in crud.debriefs_of(session, incident_id=incident.id):
        assert debrief.id is not None
        answers = {
            a.question_id: _answer(flow, a.question_id, a.status,
                                   a.text if a.text is not None else a.value, names, a.source)
            for a in crud.answers_of(session, debrief_id=debrief.id)
            if a.question_id.removesuffix(".note") not in PRIVATE_QUESTIONS
        }
        debriefs.append({
            "id": debrief.id,
            "person": names.people.get(debrief.person_id),
            "submitted_at": _when(debrief.submitted_at),
            "answers": answers,
        })
    staff = [names.people.get(pid) for pid in crud.staff_of(session, incident_id=incident.id)]
    review = reviews.signed_review(session, incident_id=incident.id)
    review_list = _reviews(session, review=review, names=names)
    return {
        "id": incident.id,
        "setting": setting.name if setting else None,
        "child": child.display_name if child else None,
        "occurred_at": incident.occurred_at.isoformat(),
        "flags": list(incident.flags),
        "staff": [p for p in staff if p is not None],
        "regulation_35": _timings(session, incident=incident, setting=setting, review=review,
                                  submitted=[d["submitted_at"] for d in debriefs], now=now),
        "debriefs": debriefs,
        "reviews": review_list,
        "child_views": _child_views(session, incident_id=incident.id, names=names),
    }


def _person(session: Session, names: Names, person_id: int | None) -> str | None:
    """A person's name: from the setting's names, or looked up (an admin from elsewhere)."""
    if person_id is None:
        return None
    if person_id in names.people:
        return names.people[person_id]
    person = crud.get_person(session, person_id=person_id)
    return person.display_name if person else None


def _when(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _answer(flow: Flow, question_id: str, status: str, value: Any, names: Names,
            source: str | None = None) -> dict[str, Any]:
    """An answer with its question's title and its value in words (labels, names), beside the code."""
    found: dict[str, Any] = {"status": status, "value": value}
    if source is not None:
        found["source"] = source
    try:
        question = flow.question(question_id.removesuffix(".note"))
    except KeyError:
        return found
    if question_id.endswith(".note"):  # the person's own words kept with that answer
        found["question"] = f"{question.short} (in their words)"
        return found
    found["question"] = question.short
    found["label"] = _words(question.type, {o.value: o.label for o in question.options},
                            question.options_from, value, names)
    return found


def _stored(flow: Flow, question_id: str, stored: Any, names: Names) -> dict[str, Any]:
    """A review's or child view's answer ({"status", "value"}) in words."""
    if not isinstance(stored, dict):
        stored = {"status": "answered", "value": stored}
    return _answer(flow, question_id, stored.get("status", "answered"), stored.get("value"), names)


def _words(kind: QuestionType, labels: dict[str, str], options_from: str | None, value: Any,
           names: Names) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(w for v in value if (w := _words(kind, labels, options_from, v, names)))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if options_from == "children" and str(value).isdigit():
        return names.children.get(int(value), str(value))
    if options_from and str(value).isdigit():
        return names.people.get(int(value), str(value))
    if str(value) == "none" and options_from:
        return "Just me"
    if kind is QuestionType.duration and isinstance(value, int | float):
        return f"{value:g} minutes"
    return labels.get(str(value), str(value))


def _timings(session: Session, *, incident: Incident, setting: Setting | None,
             review: Review | None, submitted: list[str | None], now: datetime) -> dict[str, Any]:
    """The three regulation 35 deadlines: when each fell due, when it was done, met or missed."""
    policy = Policy()
    if setting is not None and setting.id is not None:
        try:
            policy = Policy.build(timezone=setting.timezone, overrides=followup_store.
                                  policy_overrides(session, setting_id=setting.id))
        except PolicyError:
            policy = Policy()
    recorded = min((datetime.fromisoformat(s) for s in submitted if s), default=None)
    done = {"debrief": recorded, "review": review.signed_at if review else None,
            "childview": child_spoken_at(review) if review else None}
    timings: dict[str, Any] = {}
    for name, task in DEADLINES:
        limit = policy.deadlines.get(task, timedelta(0))
        timings[name] = deadline_entry(t0=incident.occurred_at, done_at=done[task], limit=limit,
                                       now=now)
    return timings


def deadline_entry(*, t0: datetime, done_at: datetime | None, limit: timedelta,
                   now: datetime) -> dict[str, Any]:
    """{"due_at", "done_at", "met": true/false/null} — null while it is not yet due and not done."""
    due = t0 + limit
    met: bool | None = (done_at <= due) if done_at is not None else (None if now < due else False)
    return {"due_at": due.isoformat(), "done_at": _when(done_at), "met": met,
            "status": {True: "met", False: "missed", None: "not yet due"}[met]}


def _reviews(session: Session, *, review: Review | None, names: Names) -> list[dict[str, Any]]:
    """The incident's signed review, with its actions and dated addenda."""
    if review is None or review.id is None:
        return []
    flow = load_flow(FLOW_OF["review"])
    actions = reviews.actions_of(session, review_id=review.id)
    done = reviews.actions_done(session, action_ids=[a.id for a in actions if a.id is not None])
    answers = {qid: _stored(flow, qid, a, names)
               for qid, a in reviews.review_answers(review).items()}
    return [{
        "id": review.id,
        "manager": _person(session, names, review.manager_id),
        "signed_at": _when(review.signed_at),
        "answers": answers,
        "actions": [{"id": a.id, "description": a.description, "owner": _person(session, names, a.owner_id),
                     "due_at": _when(a.due_at), "done_at": _when(done.get(a.id or 0))}
                    for a in actions],
        "addenda": [{"id": a.id, "author": _person(session, names, a.author_id),
                     "created_at": _when(a.created_at), "text": a.text}
                    for a in reviews.addenda_of(session, review_id=review.id)],
    }]


def _child_views(session: Session, *, incident_id: int,
                 names: Names) -> list[dict[str, Any]]:
    """The child's own views of the incident, self-service and assisted."""
    views = []
    for view in reviews.child_views_of(session, incident_id=incident_id):
        flow = load_flow(FLOW_OF.get(view.mode, "child_view"))
        answers = {qid: _stored(flow, qid, a, names)
                   for qid, a in reviews.child_view_answers(view).items()}
        views.append({
            "id": view.id,
            "mode": view.mode,
            "recorded_by": _person(session, names, view.recorded_by_id),
            "created_at": _when(view.created_at),
            "ended_early": view.ended_early,
            "alerts": list(view.alerts),
            "answers": answers,
        })
    return views


def to_json(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, ensure_ascii=False, indent=2)


CSV_COLUMNS = ("incident_id", "occurred_at", "setting", "child", "flags", "debrief_id", "person",
               "question_id", "status", "answer", "answered_at", "question", "answer_words",
               "recorded_at", "recorded_within_24h", "review_signed_at",
               "review_signed_within_48h", "child_spoken_to_at", "child_spoken_to_within_5_days")


def _shown(value: Any) -> Any:
    shown = ";".join(map(str, value)) if isinstance(value, list) else value
    return "" if shown is None else shown


def to_csv(records: list[dict[str, Any]]) -> str:
    """One row per answer, with when it was given and the regulation 35 timings, to filter and count."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for incident in records:
        base = [incident["id"], incident["occurred_at"], incident["setting"], incident["child"],
                ";".join(incident["flags"])]
        timing = []
        for name, _ in DEADLINES:
            entry = incident.get("regulation_35", {}).get(name, {})
            timing += [entry.get("done_at") or "", entry.get("status", "")]
        rows: list[tuple[Any, Any, str, dict[str, Any]]] = []
        for debrief in incident["debriefs"]:
            rows += [(debrief["id"], debrief["person"], debrief["submitted_at"], debrief["answers"])]
        for kind, items, who, at in (("review", incident.get("reviews", []), "manager", "signed_at"),
                                     ("child_view", incident.get("child_views", []), "recorded_by",
                                      "created_at")):
            rows += [(f"{kind}:{item['id']}", item[who], item[at], item["answers"]) for item in items]
        for item_id, person, answered_at, answers in rows:
            for question_id, answer in answers.items():
                writer.writerow([*base, item_id, person, question_id, answer["status"],
                                 _shown(answer["value"]), answered_at or "",
                                 answer.get("question", ""), _shown(answer.get("label")), *timing])
    return buffer.getvalue()
