"""Records for inspection: incidents with their debriefs, as JSON or CSV.

Exports hold narrative text, so each one is written to the audit table.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage import crud, reviews


def export_records(session: Session, *, setting_id: int | None = None,
                   actor_id: int | None = None) -> list[dict[str, Any]]:
    """Every incident (of one setting, or all) with its staff and submitted debriefs."""
    records = []
    for incident in crud.incidents_for_export(session, setting_id=setting_id):
        assert incident.id is not None
        setting = crud.get_setting(session, setting_id=incident.setting_id)
        child = crud.get_child(session, child_id=incident.child_id)
        debriefs = []
        for debrief in crud.debriefs_of(session, incident_id=incident.id):
            assert debrief.id is not None
            person = crud.get_person(session, person_id=debrief.person_id)
            answers = {
                a.question_id: {"status": a.status, "source": a.source,
                                "value": a.text if a.text is not None else a.value}
                for a in crud.answers_of(session, debrief_id=debrief.id)
            }
            debriefs.append({
                "id": debrief.id,
                "person": person.display_name if person else None,
                "submitted_at": debrief.submitted_at.isoformat() if debrief.submitted_at else None,
                "answers": answers,
            })
        staff = [crud.get_person(session, person_id=pid)
                 for pid in crud.staff_of(session, incident_id=incident.id)]
        records.append({
            "id": incident.id,
            "setting": setting.name if setting else None,
            "child": child.display_name if child else None,
            "occurred_at": incident.occurred_at.isoformat(),
            "flags": list(incident.flags),
            "staff": [p.display_name for p in staff if p is not None],
            "debriefs": debriefs,
            "reviews": _reviews(session, incident_id=incident.id),
            "child_views": _child_views(session, incident_id=incident.id),
        })
    crud.record_audit(session, actor_id=actor_id, action="export", object_type="setting",
                      object_id=setting_id, detail={"incidents": len(records)})
    return records


def _name(session: Session, person_id: int | None) -> str | None:
    person = crud.get_person(session, person_id=person_id) if person_id is not None else None
    return person.display_name if person else None


def _when(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _reviews(session: Session, *, incident_id: int) -> list[dict[str, Any]]:
    """The incident's signed review, with its actions and dated addenda."""
    review = reviews.signed_review(session, incident_id=incident_id)
    if review is None or review.id is None:
        return []
    actions = reviews.actions_of(session, review_id=review.id)
    done = reviews.actions_done(session, action_ids=[a.id for a in actions if a.id is not None])
    return [{
        "id": review.id,
        "manager": _name(session, review.manager_id),
        "signed_at": _when(review.signed_at),
        "answers": reviews.review_answers(review),
        "actions": [{"id": a.id, "description": a.description, "owner": _name(session, a.owner_id),
                     "due_at": _when(a.due_at), "done_at": _when(done.get(a.id or 0))}
                    for a in actions],
        "addenda": [{"id": a.id, "author": _name(session, a.author_id),
                     "created_at": _when(a.created_at), "text": a.text}
                    for a in reviews.addenda_of(session, review_id=review.id)],
    }]


def _child_views(session: Session, *, incident_id: int) -> list[dict[str, Any]]:
    """The child's own views of the incident, self-service and assisted."""
    return [{
        "id": view.id,
        "mode": view.mode,
        "recorded_by": _name(session, view.recorded_by_id),
        "created_at": _when(view.created_at),
        "ended_early": view.ended_early,
        "alerts": list(view.alerts),
        "answers": reviews.child_view_answers(view),
    } for view in reviews.child_views_of(session, incident_id=incident_id)]


def to_json(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, ensure_ascii=False, indent=2)


CSV_COLUMNS = ("incident_id", "occurred_at", "setting", "child", "flags", "debrief_id", "person",
               "question_id", "status", "answer")


def to_csv(records: list[dict[str, Any]]) -> str:
    """One row per answer, so a spreadsheet can filter and count."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for incident in records:
        base = [incident["id"], incident["occurred_at"], incident["setting"], incident["child"],
                ";".join(incident["flags"])]
        for debrief in incident["debriefs"]:
            for question_id, answer in debrief["answers"].items():
                value = answer["value"]
                shown = ";".join(map(str, value)) if isinstance(value, list) else value
                writer.writerow([*base, debrief["id"], debrief["person"], question_id,
                                 answer["status"], "" if shown is None else shown])
        for kind, items, who in (("review", incident.get("reviews", []), "manager"),
                                 ("child_view", incident.get("child_views", []), "recorded_by")):
            for item in items:
                for question_id, answer in item["answers"].items():
                    value = answer["value"]
                    shown = ";".join(map(str, value)) if isinstance(value, list) else value
                    writer.writerow([*base, f"{kind}:{item['id']}", item[who], question_id,
                                     answer["status"], "" if shown is None else shown])
    return buffer.getvalue()
