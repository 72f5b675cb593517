"""Staff wellbeing: a hard check-in asks consent, then supports the person and nudges the manager."""

from __future__ import annotations

from sqlmodel import select

from bot.services.debriefs import DebriefService
from bot.services.wellbeing import SUPPORTIVE, checkin_requested
from dialogues.engine import Inbound
from storage import crud
from storage.db import session_scope
from storage.models import AuditEvent, PersonCreate, Role

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
    assert messages[0].text == SUPPORTIVE.format(who="your manager")
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


def test_a_struggling_manager_is_pointed_to_their_own_support_not_to_their_manager(
        home: Home) -> None:
    service = DebriefService()
    with session_scope() as s:  # the only manager of the home: nobody above them here to nudge
        service.start_or_resume(s, person=home.manager)
        reply = service.handle(s, person=home.manager,
                               inbound=Inbound.pressed("wellbeing|v:struggling"))
    said = reply.messages[0].text
    assert "your own line manager, the responsible individual or a colleague" in said
    assert "your manager" not in said
    assert reply.messages[-1].question_id == "child"  # no check-in offered that nobody would get
    with session_scope() as s:
        messages, notices = checkin_requested(s, person=home.manager)
    assert notices == []
    assert "couldn't ask anyone to check in" in messages[0].text


def test_a_manager_with_a_colleague_manager_is_offered_that_colleague(home: Home) -> None:
    service = DebriefService()
    with session_scope() as s:
        colleague = crud.create_person(s, data=PersonCreate(
            setting_id=home.manager.setting_id, display_name="Dee O'Neill", role=Role.manager))
        service.start_or_resume(s, person=home.manager)
        reply = service.handle(s, person=home.manager, inbound=Inbound.pressed("wellbeing|v:hurt"))
    assert reply.messages[-1].question_id == "wellbeing_checkin"
    assert reply.messages[-1].text.startswith(
        "Would you like another manager at your setting to check in with you?")
    with session_scope() as s:
        messages, notices = checkin_requested(s, person=home.manager)
    assert [n.person_id for n in notices] == [colleague.id]
    assert messages[0].text == SUPPORTIVE.format(who="another manager at your setting")
