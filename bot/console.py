"""The console transport: the same debrief as Telegram, in a terminal, for trying and testing.

Buttons are shown as numbered choices and typed words; everything typed goes to the engine as
text, so the console exercises exactly the parsing a Telegram user's typing gets.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from bot.conversations import DebriefService
from dialogues.engine import Inbound, Outbound
from storage.db import session_scope
from storage.models import Person

CONTROL_HINT = "(or type: back · skip · not sure · help · pause)"


def render(message: Outbound) -> str:
    """A message as terminal text: its words, then its choices."""
    lines = [message.text]
    choices = [b for row in message.buttons for b in row
               if "|v:" in b.payload or "|t:" in b.payload or "|edit:" in b.payload]
    if message.kind == "question" and choices and not any(
            b.payload.endswith(("|v:yes", "|v:no")) for b in choices):
        lines += [f"  {n}. {b.label}" for n, b in enumerate(choices, start=1)]
        if any("|t:" in b.payload for b in choices):
            lines.append("  (type the numbers that apply, like 1, 3)")
    elif message.kind == "question" and any(
            b.payload.endswith("|v:yes") for row in message.buttons for b in row):
        lines.append("  (yes / no)")
    elif choices:
        lines += [f"  {b.label}" for b in choices]
    if message.kind == "question":
        lines.append("  " + CONTROL_HINT)
    elif message.kind == "summary":
        lines.append("  (type submit, or edit to change an answer)")
    elif any(b.payload.endswith(("|yes", "|tell")) for row in message.buttons for b in row):
        lines.append("  (yes / no)")
    return "\n".join(lines)


def run_chat(
    *,
    person: Person,
    service: DebriefService,
    stdin: TextIO = sys.stdin,
    write: Callable[[str], object] = print,
) -> int:
    """Run one person's debrief in the terminal until it is submitted, cancelled or input ends."""

    def show(messages: list[Outbound]) -> None:
        for message in messages:
            write(render(message))
            write("")

    with session_scope() as session:
        show(service.start_or_resume(session, person=person).messages)
    while True:
        write("> ")
        line = stdin.readline()
        if not line:
            write("\nPaused: your answers are saved. Run `flourish chat` again to carry on.")
            return 0
        with session_scope() as session:
            reply = service.handle(session, person=person, inbound=Inbound.typed(line))
        show(reply.messages)
        if reply.submitted_debrief_id is not None:
            write(f"Receipt: debrief {reply.submitted_debrief_id} submitted.")
            return 0
        if reply.cancelled or reply.status == "paused":
            return 0
        with session_scope() as session:
            if not service.has_active(session, person=person):
                return 0
