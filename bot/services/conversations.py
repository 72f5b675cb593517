"""Every conversation of every person, for every channel: the one place the rules of a turn live.

A channel (Telegram, the console, the dashboard) turns a platform event into a call here for a
person id — a command (`/debrief`, `/review`, ...), an input (`Inbound`: words, a pressed button,
something unreadable) or a nudge's "open" button — and sends the `Reply` it gets back: messages
for the person and notices for others, by person id. Which flow an input belongs to is decided
here, by the registry of flow ids; who may do what by `bot.services.access`; a request for a
check-in reaches the managers from here, whatever the channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from bot.followups import messages as followup_messages
from bot.services import access
from bot.services.child_views import (
    CHILD_VIEW,
    CHILD_VIEW_ASSISTED,
    LATER,
    AssistedViewService,
    ChildViewService,
)
from bot.services.debriefs import DEBRIEF_ROLES, DebriefService, pending_debriefs
from bot.services.reviews import MANAGER_REVIEW, REVIEW_ADDENDUM, ReviewService, pending_reviews
from bot.services.runner import FINISHED, LIVE, STAFF_DEBRIEF, FlowRunner, Reply
from bot.services.wellbeing import checkin_requested
from dialogues import buttons
from dialogues.buttons import Kind
from dialogues.engine import Inbound, Outbound, State, scope_of
from nlu.result import Interpreter
from storage import crud
from storage.models import Conversation, Person, Role
from storage.types import utcnow

CHILD_DEBRIEF_REFUSAL = "{Send:tell} to tell us how it was for you. 💛"
CHILD_VIEW_PAUSED = "OK. We can stop for now. 💛 I kept what you said. {Send:tell} to go on."
NOTHING_WAITING = "Nothing is waiting for you just now. Thank you."
OPENED_TASKS = ("review", "childview", "safeguarding", "debrief")
TASK_HINTS = {
    "review": "{Send:review} to open the review.",
    "childview": "{Send:childview} to record the child's view (on your own or with the child).",
    "reflection": "Just write a few lines here, or talk it through at supervision. Thank you.",
    "debrief": "{Send:debrief} to start or carry on.",
}

Handle = Callable[[Session, Person, Inbound], Reply]


@dataclass(frozen=True)
class FlowEntry:
    """A flow in the registry: how to apply an input to it, and the command that comes back to it."""

    handle: Handle
    command: str


class Conversations:
    """Runs commands, inputs and nudge buttons for a person id, in any flow."""

    def __init__(self, *, interpreter: Interpreter | None = None) -> None:
        self.debriefs = DebriefService(interpreter=interpreter)
        self.reviews = ReviewService()
        self.child_views = ChildViewService()
        self.assisted = AssistedViewService()
        self.flows: dict[str, FlowEntry] = {
            STAFF_DEBRIEF: FlowEntry(
                lambda s, p, i: self.debriefs.handle(s, person=p, inbound=i), "/debrief"),
            MANAGER_REVIEW: FlowEntry(
                lambda s, p, i: self.reviews.handle(s, person=p, inbound=i, flow_id=MANAGER_REVIEW),
                "/review"),
            REVIEW_ADDENDUM: FlowEntry(
                lambda s, p, i: self.reviews.handle(s, person=p, inbound=i, flow_id=REVIEW_ADDENDUM),
                "/review"),
            CHILD_VIEW: FlowEntry(
                lambda s, p, i: self.child_views.handle(s, person=p, inbound=i), "/tell"),
            CHILD_VIEW_ASSISTED: FlowEntry(
                lambda s, p, i: self.assisted.handle(s, person=p, inbound=i), "/childview"),
        }
        self.commands: dict[str, Callable[[Session, Person, int | None], Reply]] = {
            "debrief": self._debrief,
            "pause": lambda s, p, _: self._pause(s, p),
            "cancel": lambda s, p, _: self._cancel(s, p),
            "review": lambda s, p, n: self.reviews.open(s, person=p, incident_id=n),
            "childview": self._childview,
            "tell": lambda s, p, _: self.child_views.open(s, person=p),
        }

    # --- what channels call ---------------------------------------------------------------------

    def command(self, session: Session, *, person_id: int, name: str,
                argument: int | None = None) -> Reply:
        """A command (`debrief`, `pause`, `cancel`, `review`, `childview`, `tell`) from a person."""
        person = self._person(session, person_id)
        run = self.commands.get(name)
        if run is None:
            return Reply(messages=[Outbound(text=f"I don't know the command /{name[:40]}.")],
                         status="none")
        assert person.id is not None
        before = crud.active_conversation(session, person_id=person.id)
        if before is not None and before.flow_id == CHILD_VIEW and name != "tell":
            return self._child_view_interrupted(session, person, before, name,
                                                lambda: run(session, person, argument))
        reply = self._finish_turn(session, person, lambda: run(session, person, argument))
        if before is not None and reply.status not in ("none", "refused") \
                and before.id != reply.conversation_id:
            self._set_aside(session, before.id, reply)
        return reply

    def handle(self, session: Session, *, person_id: int, inbound: Inbound) -> Reply:
        """Words, a pressed button or something unreadable, for the person's current conversation."""
        person = self._person(session, person_id)
        pressed = buttons.parse(inbound.text) if inbound.kind == "button" else None
        if pressed is not None and pressed.kind is Kind.open:
            target, number = pressed.scope, int(pressed.value)
            return self._finish_turn(session, person,
                                     lambda: self._open(session, person, target, number))
        assert person.id is not None
        current = crud.active_conversation(session, person_id=person.id)
        entry = self.flows.get(current.flow_id) if current is not None else None
        if current is None or entry is None:
            return self._finish_turn(session, person, lambda: self._no_conversation(
                session, person, "input", inbound))
        before = State.model_validate_json(current.state)
        reply = self._finish_turn(session, person, lambda: entry.handle(session, person, inbound),
                                  flow_id=current.flow_id, conversation_id=current.id)
        if inbound.kind == "button":
            reply.accepted = pressed is not None and pressed.scope == scope_of(before)
        return reply

    def open_task(self, session: Session, *, person_id: int, task: str,
                  incident_id: int | None) -> Reply:
        """A nudge's first button ("Review now", "Start my debrief", ...): open that work."""
        person = self._person(session, person_id)
        if task in ("review", "childview", "safeguarding"):  # the rest of OPENED_TASKS: debrief
            def run() -> Reply:
                if task == "childview" or person.role != Role.manager:
                    return self.assisted.open(session, person=person, incident_id=incident_id)
                return self.reviews.open(session, person=person, incident_id=incident_id)

            return self._finish_turn(session, person, run)
        if task == "debrief":
            return self.command(session, person_id=person_id, name="debrief")
        text = TASK_HINTS.get(task, "{Send:pending} to see what is waiting for you.")
        return Reply(messages=[Outbound(text=text)], status="none")

    def pending(self, session: Session, *, person_id: int) -> list[str]:
        """What is waiting for this person: debriefs, reviews, actions and follow-ups."""
        person = self._person(session, person_id)
        lines = [*pending_debriefs(session, person), *pending_reviews(session, person),
                 *followup_messages.pending_lines(session, person=person, now=utcnow())]
        if not lines:
            return [NOTHING_WAITING]
        return ["Waiting for you:", *lines]

    # --- commands -------------------------------------------------------------------------------

    def _debrief(self, session: Session, person: Person, _: int | None) -> Reply:
        if person.role not in DEBRIEF_ROLES:
            raise self._refuse_debrief(session, person, "start")
        return self.debriefs.start_or_resume(session, person=person)

    def _childview(self, session: Session, person: Person, incident_id: int | None) -> Reply:
        if person.role == Role.child:
            return self.child_views.open(session, person=person, incident_id=incident_id)
        return self.assisted.open(session, person=person, incident_id=incident_id)

    def _latest(self, session: Session, person: Person) -> tuple[str, State] | None:
        """The conversation in progress, or else the one touched last if it is paused."""
        assert person.id is not None
        found = (crud.active_conversation(session, person_id=person.id)
                 or crud.last_conversation(session, person_id=person.id))
        if found is None or found.flow_id not in self.flows:
            return None
        state = State.model_validate_json(found.state)
        return None if state.status in FINISHED else (found.flow_id, state)

    def _pause(self, session: Session, person: Person) -> Reply:
        latest = self._latest(session, person)
        if latest is None:
            return self._no_conversation(session, person, "pause", None)
        flow_id, state = latest
        entry = self.flows[flow_id]
        if state.status != "active":
            return Reply(messages=[Outbound(text=f"Everything so far is saved. Send {entry.command} "
                                                 "when you're ready to carry on.")],
                         status=state.status, flow_id=flow_id)
        return entry.handle(session, person, Inbound.typed("pause"))

    def _cancel(self, session: Session, person: Person) -> Reply:
        latest = self._latest(session, person)
        if latest is None:
            return self._no_conversation(session, person, "cancel", None)
        flow_id, state = latest
        entry = self.flows[flow_id]
        if state.status == "paused":
            entry.handle(session, person, Inbound.typed("resume"))  # paused: resumed first
        return entry.handle(session, person, Inbound.typed("cancel"))

    def _no_conversation(self, session: Session, person: Person, action: str,
                         inbound: Inbound | None) -> Reply:
        """Input, /pause or /cancel with nothing in progress."""
        if person.role not in DEBRIEF_ROLES:
            raise self._refuse_debrief(session, person, action)
        if inbound is None:
            return Reply(messages=[Outbound(
                text=f"There's no debrief in progress, so there's nothing to {action}.")],
                status="none")
        return self.debriefs.handle(session, person=person, inbound=inbound)

    def _child_view_interrupted(self, session: Session, person: Person, view: Conversation,
                                name: str, run: Callable[[], Reply]) -> Reply:
        """A command in the middle of a child's own view pauses it (only their Stop ends it)."""
        state = State.model_validate_json(view.state)
        state.status = "paused"
        FlowRunner.store(session, view, state)
        paused = Outbound(text=CHILD_VIEW_PAUSED)
        if name in ("pause", "cancel"):
            return Reply(messages=[paused], status="paused", flow_id=CHILD_VIEW,
                         conversation_id=view.id)
        reply = self._finish_turn(session, person, run)
        reply.messages.insert(0, paused)
        return reply

    # --- buttons outside a conversation ---------------------------------------------------------

    def _open(self, session: Session, person: Person, target: str, number: int) -> Reply:
        if target == buttons.REVIEW_ADDENDUM:
            return self.reviews.start_addendum(session, person=person, review_id=number)
        if target == buttons.ASSISTED_VIEW_INVITE:
            return self.child_views.invite(session, person=person, incident_id=number)
        if target == buttons.ASSISTED_VIEW_START:
            return self.assisted.open(session, person=person, incident_id=number)
        if target == buttons.CHILD_VIEW_LATER:
            return Reply(messages=[Outbound(text=LATER)], status="none")
        return self.child_views.open(session, person=person, incident_id=number)

    # --- internals ------------------------------------------------------------------------------

    def _set_aside(self, session: Session, conversation_id: int | None, reply: Reply) -> None:
        """Another flow was opened: pause the conversation that was in progress, and say so."""
        conversation = crud.get_conversation(session, conversation_id=conversation_id)
        entry = self.flows.get(conversation.flow_id) if conversation is not None else None
        if conversation is None or entry is None or not conversation.active:
            return
        state = State.model_validate_json(conversation.state)
        if state.status not in LIVE:
            return
        state.status = "paused"
        FlowRunner.store(session, conversation, state)
        reply.messages.insert(0, Outbound(text=f"I've paused what we were doing; everything is "
                                               f"saved. Send {entry.command} to carry on with it."))

    @staticmethod
    def _person(session: Session, person_id: int) -> Person:
        person = crud.get_person(session, person_id=person_id)
        if person is None:
            raise LookupError(f"no person {person_id}")
        return person

    @staticmethod
    def _refuse_debrief(session: Session, person: Person, action: str) -> access.Refused:
        message = CHILD_DEBRIEF_REFUSAL if person.role == Role.child else None
        return access.refuse(session, person=person, action=f"debrief_{action}",
                             object_type="debrief", object_id=None, message=message)

    def _finish_turn(self, session: Session, person: Person, run: Callable[[], Reply],
                     flow_id: str | None = None, conversation_id: int | None = None) -> Reply:
        """Run a turn: a refusal becomes its polite answer; a check-in request reaches the
        managers; the reply says which conversation is now the person's current one."""
        assert person.id is not None
        try:
            reply = run()
        except access.Refused as refused:
            return Reply(messages=[Outbound(text=refused.message)], status="refused")
        if reply.support_requested:
            supportive, notices = checkin_requested(session, person=person)
            reply.notices.extend(notices)
            if reply.status == "active":
                reply.messages = [*supportive, *reply.messages]
        current = crud.active_conversation(session, person_id=person.id)
        reply.flow_id = reply.flow_id or flow_id or (current.flow_id if current else None)
        if reply.conversation_id is None:
            reply.conversation_id = conversation_id or (current.id if current else None)
        return reply

