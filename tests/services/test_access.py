"""Role rules: each refused attempt gets a polite answer and an audit record, on both databases."""

from __future__ import annotations

import pytest
from sqlmodel import select
from support.debriefs import walk_debrief

from bot.services import access
from bot.services.child_views import AssistedViewService, ChildViewService
from bot.services.reviews import ReviewService
from storage import crud
from storage.db import session_scope
from storage.models import AuditEvent, Debrief, Incident, Person
from storage.types import utcnow

from .conftest import DEBRIEF_ANSWERS, Home


def refusals() -> list[AuditEvent]:
    with session_scope() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == "access_refused")))


def a_debrief(home: Home) -> Debrief:
    reply = walk_debrief(home.staff[0], DEBRIEF_ANSWERS)
    with session_scope() as s:
        debrief = s.get(Debrief, reply.submitted_debrief_id)
        assert debrief is not None
        return debrief


def refused(call: object, person: Person, attempted: str, object_id: int | None) -> str:
    """Run `call(session)`, expect a polite refusal, and check it was audited."""
    before = len(refusals())
    with session_scope() as s, pytest.raises(access.Refused) as caught:
        call(s)  # type: ignore[operator]
    events = refusals()
    assert len(events) == before + 1, "the refusal must be audited"
    event = events[-1]
    assert event.actor_id == person.id
    assert event.detail["attempted"] == attempted
    assert event.object_id == object_id
    assert event.detail["role"] == str(person.role)
    assert caught.value.message.startswith("Sorry")
    return caught.value.message


def test_a_child_cannot_open_a_debrief_or_a_review(home: Home) -> None:
    debrief = a_debrief(home)
    child = home.child_user
    text = refused(lambda s: access.check_debrief(s, person=child, debrief=s.get(Debrief, debrief.id),
                                                  debrief_id=debrief.id), child, "open_debrief",
                   debrief.id)
    assert text == access.CHILD_NOT_YOURS
    text = refused(lambda s: ReviewService().open(s, person=child, incident_id=debrief.incident_id),
                   child, "open_review", debrief.incident_id)
    assert text == access.CHILD_NOT_YOURS


def test_a_child_can_reach_only_their_own_view(home: Home) -> None:
    with session_scope() as s:
        theirs = crud.create_incident(s, setting_id=home.setting_id, child_id=home.other_child_id,
                                      occurred_at=utcnow(), reported_by_id=home.staff[0].id or 0,
                                      staff_ids=[])
    child = home.child_user
    refused(lambda s: ChildViewService().open(s, person=child, incident_id=theirs.id), child,
            "open_child_view", theirs.id)
    refused(lambda s: AssistedViewService().open(s, person=child, incident_id=theirs.id), child,
            "record_child_view", theirs.id)


def test_staff_cannot_open_a_review_or_a_colleagues_debrief(home: Home) -> None:
    debrief = a_debrief(home)
    colleague = home.staff[1]
    text = refused(lambda s: ReviewService().open(s, person=colleague), colleague, "open_review",
                   None)
    assert text == access.MANAGERS_ONLY
    text = refused(lambda s: access.check_debrief(s, person=colleague,
                                                  debrief=s.get(Debrief, debrief.id),
                                                  debrief_id=debrief.id),
                   colleague, "open_debrief", debrief.id)
    assert text == access.NOT_YOURS
    with session_scope() as s:  # their own debrief, and their manager, are fine
        assert access.check_debrief(s, person=home.staff[0], debrief=debrief,
                                    debrief_id=debrief.id) is not None
        assert access.check_debrief(s, person=home.manager, debrief=debrief,
                                    debrief_id=debrief.id) is not None
    with session_scope() as s:
        read = s.exec(select(AuditEvent).where(AuditEvent.action == "debrief_read")).one()
        assert read.actor_id == home.manager.id


def test_a_manager_cannot_see_another_settings_incidents(home: Home) -> None:
    debrief = a_debrief(home)
    outsider = home.other_manager
    incident_id = debrief.incident_id
    text = refused(lambda s: ReviewService().open(s, person=outsider, incident_id=incident_id),
                   outsider, "open_review", incident_id)
    assert text == access.NOT_YOURS
    refused(lambda s: access.check_incident(s, person=outsider, incident_id=incident_id,
                                            incident=s.get(Incident, incident_id)),
            outsider, "open_incident", incident_id)
    refused(lambda s: access.check_debrief(s, person=outsider, debrief=s.get(Debrief, debrief.id),
                                           debrief_id=debrief.id), outsider, "open_debrief",
            debrief.id)
    refused(lambda s: AssistedViewService().open(s, person=outsider, incident_id=incident_id),
            outsider, "record_child_view", incident_id)
    with session_scope() as s:  # and nothing of this setting is waiting for them
        reply = ReviewService().open(s, person=outsider)
    assert reply.status == "none"


def test_an_unknown_incident_is_refused_the_same_way(home: Home) -> None:
    refused(lambda s: ReviewService().open(s, person=home.manager, incident_id=999), home.manager,
            "open_review", 999)
