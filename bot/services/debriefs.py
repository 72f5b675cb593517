"""Runs a person's conversation: loads its state, steps the engine, stores the result.

Every transport (Telegram, the console, tests) calls this, so a debrief behaves the same
everywhere and any process can pick up any conversation where the last one left it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.followups import planner as followups
from dialogues.engine import Engine, Inbound, Outbound, State
from dialogues.flow import QuestionType, load_flow
from nlu.result import Interpreter
from storage import crud
from storage.models import Child, Conversation, Incident, Person, Role, Setting
from storage.types import utcnow

STAFF_DEBRIEF = "staff_debrief"
DAY_OFFSETS = {"today": 0, "yesterday": 1, "two_days_ago": 2, "three_plus_days_ago": 3}


@dataclass
class Reply:
    """What a transport should send, and what just happened."""

    messages: list[Outbound]
    status: str = "active"
    submitted_debrief_id: int | None = None
    incident_id: int | None = None
    cancelled: bool = False
    support_requested: bool = False
    flags: list[str] = field(default_factory=list)


class DebriefService:
    """Starts, continues and submits staff debriefs for enrolled people."""

    def __init__(self, *, interpreter: Interpreter | None = None) -> None:
        self.engine = Engine(load_flow(STAFF_DEBRIEF), interpreter)

    def has_active(self, session: Session, *, person: Person) -> bool:
        """Whether this person has a debrief in progress."""
        assert person.id is not None
        return crud.active_conversation(session, person_id=person.id) is not None

    def start_or_resume(self, session: Session, *, person: Person, new: bool = False) -> Reply:
        """Resume the debrief in progress, or start the one that is waiting, or a new one."""
        assert person.id is not None
        conversation = crud.active_conversation(session, person_id=person.id)
        if conversation is not None and not new:
            state, messages = self.engine.resume(State.model_validate_json(conversation.state))
            self._store(session, conversation, state)
            return Reply(messages=messages)
        if conversation is not None:
            conversation.active = False
            session.add(conversation)
        setting = session.get(Setting, person.setting_id)
        assert setting is not None
        context = self._context(session, person=person, setting=setting)
        preface: list[Outbound] = []
        pending = [] if new else crud.pending_debrief_incidents(session, person_id=person.id)
        if pending:
            incident = pending[0]
            context.update(new_incident=False, incident_id=incident.id)
            preface.append(Outbound(text=self._incident_line(session, incident, setting)))
        state, messages = self.engine.start(context)
        conversation = Conversation(person_id=person.id, flow_id=self.engine.flow.id, state="")
        self._store(session, conversation, state)
        return Reply(messages=[*preface, *messages])

    def handle(self, session: Session, *, person: Person, inbound: Inbound) -> Reply:
        """Apply one input from this person to their debrief in progress."""
        assert person.id is not None
        conversation = crud.active_conversation(session, person_id=person.id)
        if conversation is None:
            return Reply(messages=[Outbound(
                text="You have no debrief open just now. Send /debrief to start one.")])
        state = State.model_validate_json(conversation.state)
        new_state, messages = self.engine.handle(state, inbound)
        reply = Reply(messages=messages, status=new_state.status)
        reply.support_requested = (new_state.support_requested and not state.support_requested) or (
            new_state.value("wellbeing_checkin") is True and state.value("wellbeing_checkin") is not True)
        if new_state.status == "submitted":
            incident, debrief_id = self._submit(session, person=person, state=new_state)
            followups.after_submit(session, incident=incident, person_id=person.id,
                                   debrief_id=debrief_id)
            reply.submitted_debrief_id = debrief_id
            reply.incident_id = incident.id
            reply.flags = list(incident.flags)
        reply.cancelled = new_state.status == "cancelled"
        self._store(session, conversation, new_state)
        return reply

    # --- internals ----------------------------------------------------------------------------

    def _store(self, session: Session, conversation: Conversation, state: State) -> None:
        active = state.status not in ("submitted", "cancelled")
        crud.save_conversation(session, conversation=conversation,
                               state_json=state.model_dump_json(), active=active)

    def _context(self, session: Session, *, person: Person, setting: Setting) -> dict[str, Any]:
        assert setting.id is not None
        children = [{"value": str(c.id), "label": c.display_name}
                    for c in crud.list_children(session, setting_id=setting.id)]
        colleagues = [{"value": str(p.id), "label": p.display_name}
                      for p in crud.list_people(session, setting_id=setting.id,
                                                roles=(Role.staff, Role.manager))
                      if p.id != person.id]
        colleagues.append({"value": "none", "label": "Just me"})
        return {"setting_kind": setting.kind, "new_incident": True,
                "options": {"children": children, "staff": colleagues}}

    def _incident_line(self, session: Session, incident: Incident, setting: Setting) -> str:
        child = session.get(Child, incident.child_id)
        when = incident.occurred_at.astimezone(ZoneInfo(setting.timezone))
        name = child.display_name if child else "a child"
        return (f"This debrief is for the incident with {name} on "
                f"{when:%a %d %b at %H:%M}. A colleague named you as involved.")

    def _submit(self, session: Session, *, person: Person, state: State) -> tuple[Incident, int]:
        assert person.id is not None
        setting = session.get(Setting, person.setting_id)
        assert setting is not None
        assert setting.id is not None
        if state.context.get("new_incident", True):
            staff = [int(v) for v in (state.value("other_staff") or []) if v != "none"]
            incident = crud.create_incident(
                session, setting_id=setting.id, child_id=int(state.value("child")),
                occurred_at=occurred_at(state, setting), reported_by_id=person.id, staff_ids=staff)
        else:
            found = session.get(Incident, int(state.context["incident_id"]))
            assert found is not None
            incident = found
        debrief = crud.save_debrief(
            session, incident=incident, person_id=person.id, flow_id=state.flow_id,
            answers=self._answer_rows(state), flags=self.engine.flags(state))
        assert debrief.id is not None
        return incident, debrief.id

    def _answer_rows(self, state: State) -> list[dict[str, Any]]:
        rows = []
        for question in self.engine.flow.questions:
            record = state.answers.get(question.id)
            if record is None or not self.engine.applies(state, question):
                continue
            row: dict[str, Any] = {"question_id": question.id, "status": record.status,
                                   "source": record.source}
            if question.type is QuestionType.text and record.value is not None:
                row["text"] = record.value
            else:
                row["value"] = record.value
            rows.append(row)
        return rows


def occurred_at(state: State, setting: Setting, *, now: datetime | None = None) -> datetime:
    """When the incident happened, from the day and time answers, in the setting's time zone."""
    zone = ZoneInfo(setting.timezone)
    local_now = (now or utcnow()).astimezone(zone)
    day: date = local_now.date() - timedelta(days=DAY_OFFSETS.get(state.value("incident_day"), 0))
    clock = state.value("incident_time")
    at = time.fromisoformat(clock) if clock else local_now.time().replace(second=0, microsecond=0)
    return datetime.combine(day, at, tzinfo=zone)
