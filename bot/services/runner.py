"""Runs any flow against the database: load a person's conversation, step the engine, store it.

Every flow (the staff debrief, the review and its addenda, both child views) is carried by this one
runner, so each service only says what happens when its flow starts and when it is submitted.
One meaning of active and paused for every flow: a conversation row is `active` while it is in
progress; paused or finished (submitted, cancelled), it is not. A paused conversation is picked up
again by its flow's command, exactly where it was. A person's current conversation is their active
one touched last (see `storage.crud.active_conversation`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from dialogues.engine import Button, Engine, Inbound, Outbound, State
from dialogues.flow import load_flow
from dialogues.kinds import kind_of
from nlu.result import Interpreter
from storage import crud
from storage.models import Conversation, Person
from storage.types import utcnow

STAFF_DEBRIEF = "staff_debrief"
FINISHED = ("submitted", "cancelled")
LIVE = ("active", "summary", "choose_edit", "confirm_cancel", "distress")


@dataclass
class Notice:
    """A message for someone other than the person talking: an alert or a check-in request."""

    person_id: int
    text: str
    buttons: list[list[Button]] = field(default_factory=list)


@dataclass
class Reply:
    """One turn's outcome, for any flow and any channel: what to send to the person, what to send
    to others (by person id), what was stored, and where the conversation stands."""

    messages: list[Outbound]
    status: str = "active"
    record_id: int | None = None
    notices: list[Notice] = field(default_factory=list)
    flow_id: str | None = None
    conversation_id: int | None = None
    incident_id: int | None = None
    flags: list[str] = field(default_factory=list)
    support_requested: bool = False
    accepted: bool = False  # a pressed button was for the question on screen

    @property
    def finished(self) -> bool:
        """Submitted or cancelled in this turn (or already)."""
        return self.status in FINISHED

    @property
    def cancelled(self) -> bool:
        """The conversation was cancelled."""
        return self.status == "cancelled"

    @property
    def submitted_debrief_id(self) -> int | None:
        """The id of the debrief stored by this turn, if a staff debrief was submitted."""
        if self.flow_id == STAFF_DEBRIEF and self.status == "submitted":
            return self.record_id
        return None


FlowReply = Reply


@dataclass
class Step:
    """One input applied to a stored conversation."""

    conversation: Conversation
    before: State
    after: State
    messages: list[Outbound]


class FlowRunner:
    """One flow, stored in the `conversation` table."""

    def __init__(self, flow_id: str, *, interpreter: Interpreter | None = None) -> None:
        self.engine = Engine(load_flow(flow_id), interpreter)
        self.flow_id = flow_id

    def unfinished(self, session: Session, *, person: Person) -> tuple[Conversation, State] | None:
        """This person's conversation in this flow that is in progress or paused, if any."""
        assert person.id is not None
        conversation = crud.last_conversation(session, person_id=person.id, flow_id=self.flow_id)
        if conversation is None:
            return None
        state = State.model_validate_json(conversation.state)
        return None if state.status in FINISHED else (conversation, state)

    def begin(self, session: Session, *, person: Person, context: dict[str, Any],
              same: str | None = "incident_id") -> list[Outbound]:
        """Start, and return the first messages. An unfinished one about the same thing (the same
        `context[same]`) is resumed exactly where it was; one about something else is set aside
        (cancelled). With `same=None` an unfinished one is always set aside."""
        assert person.id is not None
        found = self.unfinished(session, person=person)
        if found is not None:
            conversation, state = found
            if same is not None and state.context.get(same) == context.get(same):
                state, messages = self.engine.resume(state)
                self.store(session, conversation, state)
                return messages
            state.status = "cancelled"
            self.store(session, conversation, state)
        state, messages = self.engine.start(context)
        self.store(session, Conversation(person_id=person.id, flow_id=self.flow_id, state=""), state)
        return messages

    def resume(self, session: Session, *, person: Person) -> tuple[State, list[Outbound]] | None:
        """Carry on with the unfinished conversation exactly where it was, if there is one."""
        found = self.unfinished(session, person=person)
        if found is None:
            return None
        conversation, state = found
        state, messages = self.engine.resume(state)
        self.store(session, conversation, state)
        return state, messages

    def step(self, session: Session, *, person: Person, inbound: Inbound) -> Step | None:
        """Apply one input to the unfinished conversation (None if there is none)."""
        found = self.unfinished(session, person=person)
        if found is None:
            return None
        conversation, before = found
        before.context["now"] = utcnow().isoformat()  # answers about time are read against now
        if before.status == "paused":
            after, messages = self.engine.resume(before)
        else:
            after, messages = self.engine.handle(before, inbound)
        self.store(session, conversation, after)
        return Step(conversation=conversation, before=before, after=after, messages=messages)

    @staticmethod
    def store(session: Session, conversation: Conversation, state: State) -> None:
        """Save the state; the row is active while the conversation is in progress."""
        crud.save_conversation(session, conversation=conversation,
                               state_json=state.model_dump_json(), active=state.status in LIVE)

    def answers(self, state: State) -> dict[str, dict[str, Any]]:
        """Every asked question's answer: its status and value (codes, or the person's words)."""
        found: dict[str, dict[str, Any]] = {}
        for question in self.engine.flow.questions:
            record = state.answers.get(question.id)
            if record is None or not self.engine.applies(state, question):
                continue
            found[question.id] = {"status": record.status, "value": record.value}
        return found

    def answer_rows(self, state: State) -> list[dict[str, Any]]:
        """Every asked question's answer as a stored row: free text apart from coded values."""
        rows = []
        for question in self.engine.flow.questions:
            record = state.answers.get(question.id)
            if record is None or not self.engine.applies(state, question):
                continue
            row: dict[str, Any] = {"question_id": question.id, "status": record.status,
                                   "source": record.source}
            if kind_of(question).free_text and record.value is not None:  # encrypted at rest
                row["text"] = record.value
            else:
                row["value"] = record.value
            rows.append(row)
            if record.note:
                rows.append(_note_row(question.id, record.note))
        rows.extend(_note_row(question_id, "\n".join(notes))
                    for question_id, notes in state.notes.items() if notes)
        return rows

    def choices(self, state: State) -> dict[str, Any]:
        """Only the button answers (codes, never free text): safe to keep unencrypted for patterns."""
        kept: dict[str, Any] = {}
        for question in self.engine.flow.questions:
            if kind_of(question).free_text or question.options_from:
                continue
            value = state.value(question.id)
            if value is not None and self.engine.applies(state, question):
                kept[question.id] = value
        return kept


def _note_row(question_id: str, note: str) -> dict[str, Any]:
    """The person's own words kept with an answer, stored (encrypted) beside it as `<id>.note`."""
    return {"question_id": f"{question_id}.note", "status": "answered", "text": note,
            "source": "user"}
