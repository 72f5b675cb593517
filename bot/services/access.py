"""Who may see or do what, in one place, so every transport refuses the same things the same way.

- A child sees and can reach nothing but their own view.
- Staff see their own debriefs; they cannot open a review or another person's debrief.
- A manager sees the incidents of their own setting only; admins are not in any one setting's
  records through the bot (they work from the terminal).
Every refusal is polite, says nothing about whether the record exists, and is written to the
audit table.
"""

from __future__ import annotations

from sqlmodel import Session

from storage import crud
from storage.crud import record_audit
from storage.models import Debrief, Incident, Person, Role

NOT_YOURS = ("Sorry, that isn't something you can open here. If you think you need it, please ask "
             "your manager.")
CHILD_NOT_YOURS = "Sorry, I can't open that. 💛 You can tell me how it was for you."
MANAGERS_ONLY = "Sorry, reviews are for managers. If something needs looking at, please talk to your manager."


class Refused(Exception):
    """An attempt the rules do not allow; `message` is safe to show to the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def refuse(
    session: Session, *, person: Person, action: str, object_type: str, object_id: int | None,
    message: str | None = None,
) -> Refused:
    """Record a refused attempt in the audit table and return the polite answer to raise."""
    record_audit(session, actor_id=person.id, action="access_refused", object_type=object_type,
                 object_id=object_id, detail={"attempted": action, "role": str(person.role)})
    if message is None:
        message = CHILD_NOT_YOURS if person.role == Role.child else NOT_YOURS
    return Refused(message)


def check_review(session: Session, *, person: Person, incident: Incident | None,
                 incident_id: int | None) -> Incident:
    """The incident, if this person may review it (a manager of its setting)."""
    if person.role != Role.manager:
        message = None if person.role == Role.child else MANAGERS_ONLY
        raise refuse(session, person=person, action="open_review", object_type="incident",
                     object_id=incident_id, message=message)
    if incident is None or incident.setting_id != person.setting_id:
        raise refuse(session, person=person, action="open_review", object_type="incident",
                     object_id=incident_id)
    return incident


def check_incident(session: Session, *, person: Person, incident: Incident | None,
                   incident_id: int | None, action: str = "open_incident") -> Incident:
    """The incident, if this person may see it: a manager of its setting."""
    if person.role != Role.manager or incident is None or incident.setting_id != person.setting_id:
        raise refuse(session, person=person, action=action, object_type="incident",
                     object_id=incident_id)
    return incident


def check_debrief(session: Session, *, person: Person, debrief: Debrief | None,
                  debrief_id: int | None) -> Debrief:
    """The debrief, if this person may read it: its author, or a manager of its setting."""
    if debrief is not None and person.role in (Role.staff, Role.manager):
        if debrief.person_id == person.id:
            return debrief
        incident = (crud.get_incident(session, incident_id=debrief.incident_id)
                    if debrief.incident_id else None)
        if person.role == Role.manager and incident and incident.setting_id == person.setting_id:
            record_audit(session, actor_id=person.id, action="debrief_read", object_type="debrief",
                         object_id=debrief.id)
            return debrief
    raise refuse(session, person=person, action="open_debrief", object_type="debrief",
                 object_id=debrief_id)


def check_assisted_view(session: Session, *, person: Person, incident: Incident | None,
                        incident_id: int | None) -> Incident:
    """The incident, if this person may record its child's view: staff or a manager of its setting."""
    allowed = person.role in (Role.staff, Role.manager)
    if not allowed or incident is None or incident.setting_id != person.setting_id:
        raise refuse(session, person=person, action="record_child_view", object_type="incident",
                     object_id=incident_id)
    return incident


def check_own_view(session: Session, *, person: Person, incident: Incident | None,
                   incident_id: int | None) -> Incident:
    """The incident, if it is this child user's own."""
    if (person.role != Role.child or person.child_id is None or incident is None
            or incident.child_id != person.child_id):
        raise refuse(session, person=person, action="open_child_view", object_type="incident",
                     object_id=incident_id)
    return incident
