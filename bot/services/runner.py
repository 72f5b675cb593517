"""Runs any flow other than the staff debrief against the database: load, step, store.

The review, its addenda and both child views share this, so each service only says what happens
when its flow starts and when it is submitted. A paused conversation is stored as inactive, so
the person's other conversations (a debrief, say) carry on normally until they come back to it
with the flow's own command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from dialogues.engine import Button, Engine, Inbound, Outbound, State
from dialogues.flow import QuestionType, load_flow
from nlu.result import Interpreter
from storage import crud
from storage.models import Conversation, Person
from storage.reviews import latest_conversation

FINISHED = ("submitted", "cancelled")
LIVE = ("active", "summary", "choose_edit", "confirm_cancel", "distress")


@dataclass
class Notice:
    """A message for someone other than the person talking: an alert or a check-in request."""

    person_id: int
    text: str
    buttons: list[list[Button]] = field(default_factory=list)


@dataclass
class FlowReply:
    """What to send to the person, what to send to others, and what was stored."""

    messages: list[Outbound]
    status: str = "active"
    record_id: int | None = None
    notices: list[Notice] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


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
        conversation = latest_conversation(session, person_id=person.id, flow_id=self.flow_id)
        if conversation is None:
            return None
        state = State.model_validate_json(conversation.state)
        return None if state.status in FINISHED else (conversation, state)

    def begin(self, session: Session, *, person: Person, context: dict[str, Any],
              same: str = "incident_id") -> list[Outbound]:
        """Start, and return the first messages. An unfinished one about the same thing (the same
        `context[same]`) is resumed exactly where it was; one about something else is set aside."""
        assert person.id is not None
        found = self.unfinished(session, person=person)
        if found is not None:
            conversation, state = found
            if state.context.get(same) == context.get(same):
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
        if before.status == "paused":
            after, messages = self.engine.resume(before)
        else:
            after, messages = self.engine.handle(before, inbound)
        self.store(session, conversation, after)
        return Step(conversation=conversation, before=before, after=after, messages=messages)

    def store(self, session: Session, conversation: Conversation, state: State) -> None:
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

    def choices(self, state: State) -> dict[str, Any]:
        """Only the button answers (codes, never free text): safe to keep unencrypted for patterns."""
        kept: dict[str, Any] = {}
        for question in self.engine.flow.questions:
            if question.type in (QuestionType.text,) or question.options_from:
                continue
            value = state.value(question.id)
            if value is not None and self.engine.applies(state, question):
                kept[question.id] = value
        return kept
