"""The console channel: every flow Telegram has, in a terminal, for trying and testing.

Input side: a typed line becomes a command (`/review 12`, `/childview`, `/tell`, `/pending`, ...)
or an `Inbound` for the person id; output side: each `Outbound` is printed, buttons as numbered
choices and typed words, and notices for other people (a check-in request, an alert) are printed
with who they are for. Everything typed goes to the engine as text, so the console exercises
exactly the parsing a Telegram user's typing gets.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from sqlmodel import Session

from bot.services.conversations import Conversations
from bot.services.runner import Notice, Reply
from dialogues import wording
from dialogues.buttons import Kind, Press
from dialogues.engine import Button, Inbound, Outbound, State
from storage import crud
from storage.db import session_scope
from storage.models import Person, Role

CONTROL_HINT = "(or type: back · skip · not sure · help · pause)"
COMMANDS = ("debrief", "pause", "cancel", "review", "childview", "tell")
ENDED = ("submitted", "cancelled", "paused")


def _kinds(message: Outbound) -> list[tuple[Button, Press]]:
    return [(b, p) for row in message.buttons for b in row if (p := b.press) is not None]


def render(message: Outbound) -> str:
    """A message as terminal text: its words, then its choices."""
    lines = [wording.for_console(message.text)]
    pressable = _kinds(message)
    choices = [b for b, p in pressable if p.kind in (Kind.value, Kind.toggle)
               or (p.kind is Kind.edit and p.value)]
    values = {p.value for _, p in pressable if p.kind is Kind.value}
    yes_no = bool(values) and values <= {"yes", "no"}  # "Partly" is an answer: list the choices
    actions = _actions(message)
    if message.kind == "question" and choices and not yes_no:
        lines += [f"  {n}. {b.label}" for n, b in enumerate(choices, start=1)]
        if any(p.kind is Kind.toggle for _, p in pressable):
            lines.append("  (type the numbers that apply, like 1, 3)")
    elif message.kind == "question" and yes_no:
        lines.append("  (yes / no)")
    elif choices:
        lines += [f"  {b.label}" for b in choices]
    elif actions:
        lines += [f"  {n}. {b.label}" for n, b in enumerate(actions, start=1)]
        lines.append("  (type a number)")
    if message.kind == "question":
        lines.append("  " + CONTROL_HINT)
    elif message.kind == "summary":
        lines.append("  (type submit, or edit to change an answer)")
    elif any(p.kind in (Kind.yes, Kind.tell) for _, p in pressable):
        lines.append("  (yes / no)")
    return "\n".join(lines)


def _actions(message: Outbound) -> list[Button]:
    """Buttons that open work outside a conversation (chosen here by number)."""
    return [b for b, p in _kinds(message) if p.kind is Kind.open]


class Console:
    """One person at a terminal: lines in, printed messages and notices out."""

    def __init__(self, *, conversations: Conversations, person_id: int,
                 write: Callable[[str], object] = print,
                 deliver: Callable[[Notice], object] | None = None) -> None:
        self.conversations = conversations
        self.person_id = person_id
        self.write = write
        self.deliver = deliver
        self.actions: list[Button] = []

    def command(self, name: str, argument: int | None = None) -> Reply:
        """Run a command (`debrief`, `review`, ...) as if it had been typed."""
        with session_scope() as session:
            reply = self.conversations.command(session, person_id=self.person_id, name=name,
                                               argument=argument)
            self._show(session, reply)
        return reply

    def say(self, line: str) -> Reply | None:
        """One typed line; None when it was answered here (/pending, /help)."""
        text = line.strip()
        words = text.split()
        if words and words[0].startswith("/"):
            name = words[0][1:].lower()
            number = int(words[1]) if len(words) > 1 and words[1].isdigit() else None
            if name in COMMANDS:
                return self.command(name, number)
            if name == "pending":
                with session_scope() as session:
                    self.write("\n".join(self.conversations.pending(session,
                                                                    person_id=self.person_id)))
                return None
        inbound = Inbound.typed(line)
        if text.isdigit() and 0 < int(text) <= len(self.actions):
            inbound = Inbound.pressed(self.actions[int(text) - 1].payload)
        with session_scope() as session:
            reply = self.conversations.handle(session, person_id=self.person_id, inbound=inbound)
            self._show(session, reply)
        return reply

    def live(self) -> bool:
        """Whether the person is in the middle of a conversation (not paused, not finished)."""
        with session_scope() as session:
            current = crud.active_conversation(session, person_id=self.person_id)
            return current is not None and \
                State.model_validate_json(current.state).status not in ENDED

    def _show(self, session: Session, reply: Reply) -> None:
        for message in reply.messages:
            self.write(render(message))
            self.write("")
        actions = [_actions(m) for m in reply.messages]
        self.actions = next((a for a in reversed(actions) if a), []) if reply.messages else []
        if reply.submitted_debrief_id is not None:
            self.write(f"Receipt: debrief {reply.submitted_debrief_id} submitted.")
        for notice in reply.notices:
            if self.deliver is not None:
                self.deliver(notice)
            else:
                target = crud.get_person(session, person_id=notice.person_id)
                who = target.display_name if target else f"person {notice.person_id}"
                self.write(f"📨 For {who}: {wording.for_console(notice.text)}")
                self.write("")


def first_command(person: Person) -> str:
    """What `flourish chat` opens with: a child's own view, or the staff debrief."""
    return "tell" if person.role == Role.child else "debrief"


def run_chat(
    *,
    person: Person,
    conversations: Conversations,
    stdin: TextIO = sys.stdin,
    write: Callable[[str], object] = print,
    command: str | None = None,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Run one person's conversations in the terminal until the one in hand is submitted,
    cancelled or paused with nothing else open, or input ends (`on_ready` runs once the first
    messages are shown)."""
    assert person.id is not None
    console = Console(conversations=conversations, person_id=person.id, write=write)
    reply: Reply | None = console.command(command or first_command(person))
    if on_ready is not None:
        on_ready()
    while True:
        if reply is not None and (reply.status in ENDED or reply.status in ("none", "refused")) \
                and not console.live():
            return 0
        write("> ")
        line = stdin.readline()
        if not line:
            write("\nPaused: your answers are saved. Run `flourish chat` again to carry on.")
            return 0
        reply = console.say(line)
