"""The staff debrief: who it is for, what is asked first, and what is stored when it is submitted.

It runs on the one `FlowRunner` like every other flow; this module adds only the debrief's own
start (the children and colleagues to choose from, an incident a colleague already reported) and
its submission (the incident, the debrief and its answers, and the follow-ups it starts).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.followups import planner as followups
from bot.followups.messages import incident_title
from bot.services.runner import FINISHED, STAFF_DEBRIEF, FlowRunner, Reply
from dialogues import when
from dialogues.engine import Inbound, Outbound, State, facts_from_answers
from nlu import catalogue
from nlu.result import Interpreter
from storage import crud
from storage.models import Incident, Person, Role, Setting
from storage.types import utcnow

NOTHING_OPEN = "You have no debrief open just now. {Send:debrief} to start one."

__all__ = ["DEBRIEF_ROLES", "STAFF_DEBRIEF", "DebriefService", "Reply", "occurred_at", "pending_debriefs"]


class DebriefService:
    """Starts, continues and submits staff debriefs for enrolled people."""

    def __init__(self, *, interpreter: Interpreter | None = None) -> None:
        self.runner = FlowRunner(STAFF_DEBRIEF, interpreter=interpreter)
        self.engine = self.runner.engine

    def has_active(self, session: Session, *, person: Person) -> bool:
        """Whether this person has a debrief in progress (or paused)."""
        return self.runner.unfinished(session, person=person) is not None

    def start_or_resume(self, session: Session, *, person: Person, new: bool = False) -> Reply:
        """Resume the debrief in progress, or start the one that is waiting, or a new one."""
        assert person.id is not None
        if not new:
            resumed = self.runner.resume(session, person=person)
            if resumed is not None:
                return Reply(messages=resumed[1], status=resumed[0].status, flow_id=STAFF_DEBRIEF)
        setting = crud.get_setting(session, setting_id=person.setting_id)
        assert setting is not None
        context = self._context(session, person=person, setting=setting)
        preface: list[Outbound] = []
        pending = [] if new else crud.pending_debrief_incidents(session, person_id=person.id)
        if pending:
            incident = pending[0]
            context.update(new_incident=False, incident_id=incident.id)
            preface.append(Outbound(text=f"This debrief is for {incident_title(session, incident)}. "
                                         "A colleague named you as involved."))
        messages = self.runner.begin(session, person=person, context=context, same=None)
        return Reply(messages=[*preface, *messages], flow_id=STAFF_DEBRIEF)

    def handle(self, session: Session, *, person: Person, inbound: Inbound) -> Reply:
        """Apply one input to this person's debrief in progress."""
        assert person.id is not None
        step = self.runner.step(session, person=person, inbound=inbound)
        if step is None:
            return Reply(messages=[Outbound(text=NOTHING_OPEN)], status="none", flow_id=STAFF_DEBRIEF)
        state, new_state = step.before, step.after
        reply = Reply(messages=step.messages, status=new_state.status, flow_id=STAFF_DEBRIEF,
                      conversation_id=step.conversation.id)
        reply.support_requested = (new_state.support_requested and not state.support_requested) or (
            new_state.value("wellbeing_checkin") is True and state.value("wellbeing_checkin") is not True)
        if new_state.status == "submitted":
            incident, debrief_id = self._submit(session, person=person, state=new_state)
            alerts = catalogue.alerts_from_facts(facts_from_answers(self.engine.flow, new_state))
            followups.after_submit(session, incident=incident, person_id=person.id,
                                   debrief_id=debrief_id, alerts=alerts)
            reply.record_id = debrief_id
            step.conversation.debrief_id = debrief_id  # a restart can still send its receipt
            session.add(step.conversation)
            reply.incident_id = incident.id
            reply.flags = list(incident.flags)
        return reply

    # --- internals ----------------------------------------------------------------------------

    def _context(self, session: Session, *, person: Person, setting: Setting) -> dict[str, Any]:
        assert setting.id is not None
        children = [{"value": str(c.id), "label": c.display_name}
                    for c in crud.list_children(session, setting_id=setting.id)]
        colleagues = [{"value": str(p.id), "label": p.display_name}
                      for p in crud.list_people(session, setting_id=setting.id,
                                                roles=(Role.staff, Role.manager))
                      if p.id != person.id]
        colleagues.append({"value": "none", "label": "Just me"})
        managers = [p for p in crud.list_people(session, setting_id=setting.id, roles=(Role.manager,))
                    if p.id != person.id]
        return {"setting_kind": setting.kind, "new_incident": True, "timezone": setting.timezone,
                "now": utcnow().isoformat(), "nobody_to_check_in": not managers,
                "words": MANAGER_WORDS if person.role != Role.staff else {},
                "options": {"children": children, "staff": colleagues}}

    def _submit(self, session: Session, *, person: Person, state: State) -> tuple[Incident, int]:
        assert person.id is not None
        setting = crud.get_setting(session, setting_id=person.setting_id)
        assert setting is not None
        assert setting.id is not None
        if state.context.get("new_incident", True):
            staff = [int(v) for v in (state.value("other_staff") or []) if v != "none"]
            incident = crud.create_incident(
                session, setting_id=setting.id, child_id=int(state.value("child")),
                occurred_at=occurred_at(state, setting), reported_by_id=person.id, staff_ids=staff)
        else:
            found = crud.get_incident(session, incident_id=int(state.context["incident_id"]))
            assert found is not None
            incident = found
        debrief = crud.save_debrief(
            session, incident=incident, person_id=person.id, flow_id=state.flow_id,
            answers=self.runner.answer_rows(state), flags=self.engine.flags(state))
        assert debrief.id is not None
        return incident, debrief.id


def occurred_at(state: State, setting: Setting, *, now: datetime | None = None) -> datetime:
    """When the incident happened, from the day, date and time answers, in the setting's time zone."""
    return when.incident_moment(
        day_option=state.value("incident_day"), date_iso=state.value("incident_date"),
        clock=state.value("incident_time"), now=now or utcnow(), zone=ZoneInfo(setting.timezone))


DEBRIEF_ROLES = (Role.staff, Role.manager, Role.admin)
# A manager's own support is not "your manager": their line manager, the responsible individual.
MANAGER_WORDS = {
    "support_person": "your own line manager, the responsible individual or a colleague",
    "checkin_person": "another manager at your setting",
}


def pending_debriefs(session: Session, person: Person) -> list[str]:
    """The /pending lines for debriefs: the one in progress and incidents still to debrief."""
    assert person.id is not None
    lines: list[str] = []
    if person.role not in DEBRIEF_ROLES:
        return lines
    last = crud.last_conversation(session, person_id=person.id, flow_id=STAFF_DEBRIEF)
    if last is not None and State.model_validate_json(last.state).status not in FINISHED:
        lines.append("• Your debrief in progress: {send:debrief} to carry on.")
    zone = crud.setting_zone(session, setting_id=person.setting_id)
    for incident in crud.pending_debrief_incidents(session, person_id=person.id):
        lines.append(f"• A debrief for {incident_title(session, incident, zone)}: {{send:debrief}}.")
    return lines
