"""Run a staff debrief through the service by question id, whatever order the flow asks in."""

from __future__ import annotations

from bot.services.debriefs import DebriefService, Reply
from dialogues.engine import Inbound
from storage.db import session_scope
from storage.models import Person


def walk_debrief(person: Person, answers: dict[str, str], *, child_label: str = "Robin (test)",
                 colleagues: str = "none") -> Reply:
    """Run one staff debrief through the service, answering by question id, and submit it."""
    service = DebriefService()
    given = {"child": child_label, "other_staff": colleagues, **answers}
    with session_scope() as s:
        reply = service.start_or_resume(s, person=person)
    for _ in range(60):
        last = reply.messages[-1]
        if last.kind == "summary":
            with session_scope() as s:
                return service.handle(s, person=person, inbound=Inbound.pressed("summary|submit"))
        assert last.question_id is not None, last.text
        text = given.get(last.question_id, "skip")
        with session_scope() as s:
            reply = service.handle(s, person=person, inbound=Inbound.typed(text))
    raise AssertionError("the debrief never reached its summary")
