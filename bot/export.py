"""Records for inspection: incidents with their debriefs, as JSON or CSV.

Exports hold narrative text, so each one is written to the audit table.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlmodel import Session

from storage import crud
from storage.models import Child, Person, Setting


def export_records(session: Session, *, setting_id: int | None = None,
                   actor_id: int | None = None) -> list[dict[str, Any]]:
    """Every incident (of one setting, or all) with its staff and submitted debriefs."""
    records = []
    for incident in crud.incidents_for_export(session, setting_id=setting_id):
        assert incident.id is not None
        setting = session.get(Setting, incident.setting_id)
        child = session.get(Child, incident.child_id)
        debriefs = []
        for debrief in crud.debriefs_of(session, incident_id=incident.id):
            assert debrief.id is not None
            person = session.get(Person, debrief.person_id)
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
        staff = [session.get(Person, pid) for pid in crud.staff_of(session, incident_id=incident.id)]
        records.append({
            "id": incident.id,
            "setting": setting.name if setting else None,
            "child": child.display_name if child else None,
            "occurred_at": incident.occurred_at.isoformat(),
            "flags": list(incident.flags),
            "staff": [p.display_name for p in staff if p is not None],
            "debriefs": debriefs,
        })
    crud.record_audit(session, actor_id=actor_id, action="export", object_type="setting",
                      object_id=setting_id, detail={"incidents": len(records)})
    return records


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
    return buffer.getvalue()
