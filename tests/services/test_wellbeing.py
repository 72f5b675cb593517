"""Staff wellbeing: a hard check-in asks consent, then supports the person and nudges the manager."""

from __future__ import annotations

from sqlmodel import select

from bot.services.debriefs import DebriefService
from bot.services.wellbeing import SUPPORTIVE, checkin_requested
from dialogues.engine import Inbound
from storage.db import session_scope
from storage.models import AuditEvent

from .conftest import Home


def test_struggling_staff_are_offered_a_check_in_and_the_manager_is_nudged(home: Home) -> None:
    service = DebriefService()
    person = home.staff[0]
    with session_scope() as s:
        service.start_or_resume(s, person=person)
        reply = service.handle(s, person=person, inbound=Inbound.pressed("wellbeing|v:struggling"))
    assert "I'm sorry it's been a hard one" in reply.messages[0].text
    assert reply.messages[-1].question_id == "wellbeing_checkin"
    assert not reply.support_requested
    with session_scope() as s:
        reply = service.handle(s, person=person, inbound=Inbound.pressed("wellbeing_checkin|v:yes"))
    assert reply.support_requested
    assert reply.messages[-1].question_id == "child"  # the debrief carries on
    with session_scope() as s:
        messages, notices = checkin_requested(s, person=person)
    assert messages[0].text == SUPPORTIVE
    assert [n.person_id for n in notices] == [home.manager.id]
    assert notices[0].text.startswith("Alex would like you to check in with them today")
    assert "Robin" not in notices[0].text  # nothing from the debrief
    with session_scope() as s:
        event = s.exec(select(AuditEvent).where(
            AuditEvent.action == "wellbeing_checkin_requested")).one()
        assert event.actor_id == person.id


def test_staff_who_are_ok_are_not_asked(home: Home) -> None:
    service = DebriefService()
    person = home.staff[1]
    with session_scope() as s:
        service.start_or_resume(s, person=person)
        reply = service.handle(s, person=person, inbound=Inbound.pressed("wellbeing|v:ok"))
    assert reply.messages[-1].question_id == "child"


def test_declining_a_check_in_nudges_nobody(home: Home) -> None:
    service = DebriefService()
    person = home.staff[0]
    with session_scope() as s:
        service.start_or_resume(s, person=person)
        service.handle(s, person=person, inbound=Inbound.pressed("wellbeing|v:hurt"))
        reply = service.handle(s, person=person, inbound=Inbound.pressed("wellbeing_checkin|v:no"))
    assert not reply.support_requested
