"""Incidents, their staff, debriefs and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.audit import record_audit
from storage.incident_flags import merge_incident_flags
from storage.models import (
    Answer,
    AnswerStatus,
    Debrief,
    DebriefStatus,
    Incident,
    IncidentStaff,
)
from storage.types import utcnow


def create_incident(
    session: Session,
    *,
    setting_id: int,
    child_id: int,
    occurred_at: datetime,
    reported_by_id: int,
    staff_ids: list[int],
) -> Incident:
    incident = Incident(setting_id=setting_id, child_id=child_id, occurred_at=occurred_at,
                        reported_by_id=reported_by_id)
    session.add(incident)
    session.flush()
    assert incident.id is not None
    for person_id in dict.fromkeys([reported_by_id, *staff_ids]):
        session.add(IncidentStaff(incident_id=incident.id, person_id=person_id))
    session.flush()
    return incident


def save_debrief(
    session: Session,
    *,
    incident: Incident,
    person_id: int,
    flow_id: str,
    answers: list[dict[str, Any]],
    flags: list[str],
) -> Debrief:
    """Store a submitted debrief and its answers, and merge its flags into the incident's."""
    assert incident.id is not None
    debrief = Debrief(incident_id=incident.id, person_id=person_id, flow_id=flow_id,
                      status=DebriefStatus.submitted, submitted_at=utcnow())
    session.add(debrief)
    session.flush()
    assert debrief.id is not None
    for item in answers:
        session.add(Answer(debrief_id=debrief.id, question_id=item["question_id"],
                           status=AnswerStatus(item["status"]), value=item.get("value"),
                           text=item.get("text"), source=item.get("source", "user")))
    merge_incident_flags(session, incident_id=incident.id, flags=flags)
    record_audit(session, actor_id=person_id, action="debrief_submitted", object_type="debrief",
                 object_id=debrief.id)
    session.flush()
    return debrief


def pending_debrief_incidents(session: Session, *, person_id: int) -> list[Incident]:
    """Incidents this person was involved in and has not yet debriefed."""
    done = select(Debrief.incident_id).where(
        Debrief.person_id == person_id, Debrief.status == DebriefStatus.submitted
    )
    statement = (
        select(Incident)
        .join(IncidentStaff, col(IncidentStaff.incident_id) == col(Incident.id))
        .where(IncidentStaff.person_id == person_id, col(Incident.id).not_in(done))
        .order_by(col(Incident.occurred_at))
    )
    return list(session.exec(statement))


def incidents_for_export(session: Session, *, setting_id: int | None = None,
                         start: datetime | None = None, end: datetime | None = None) -> list[Incident]:
    """Incidents (of one setting, or all) from `start` and before `end`, oldest first."""
    statement = select(Incident).order_by(col(Incident.occurred_at))
    if setting_id is not None:
        statement = statement.where(Incident.setting_id == setting_id)
    if start is not None:
        statement = statement.where(col(Incident.occurred_at) >= start)
    if end is not None:
        statement = statement.where(col(Incident.occurred_at) < end)
    return list(session.exec(statement))


def debriefs_of(session: Session, *, incident_id: int) -> list[Debrief]:
    statement = select(Debrief).where(
        Debrief.incident_id == incident_id, Debrief.status == DebriefStatus.submitted
    )
    return list(session.exec(statement.order_by(col(Debrief.id))))


def answers_of(session: Session, *, debrief_id: int) -> list[Answer]:
    statement = select(Answer).where(Answer.debrief_id == debrief_id)
    return list(session.exec(statement.order_by(col(Answer.id))))


def staff_of(session: Session, *, incident_id: int) -> list[int]:
    statement = select(IncidentStaff.person_id).where(IncidentStaff.incident_id == incident_id)
    return list(session.exec(statement))


def get_incident(session: Session, *, incident_id: int | None) -> Incident | None:
    """An incident by id."""
    return session.get(Incident, incident_id) if incident_id is not None else None


def incidents_between(
    session: Session, *, setting_id: int, start: datetime, end: datetime,
    child_id: int | None = None, include_end: bool = True,
) -> list[Incident]:
    """A setting's incidents (or one child's) that happened from `start` to `end`, oldest first."""
    before_end = col(Incident.occurred_at) <= end if include_end else col(Incident.occurred_at) < end
    statement = select(Incident).where(Incident.setting_id == setting_id,
                                       col(Incident.occurred_at) >= start, before_end)
    if child_id is not None:
        statement = statement.where(Incident.child_id == child_id)
    return list(session.exec(statement.order_by(col(Incident.occurred_at))))


def get_debrief(session: Session, *, debrief_id: int | None) -> Debrief | None:
    """A debrief by id (None for no id)."""
    return session.get(Debrief, debrief_id) if debrief_id is not None else None
