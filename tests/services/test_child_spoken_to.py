"""The 5-day clock (regulation 35(3)(c)) closes on the right event, on SQLite and PostgreSQL: a
child's own view through /tell is welcome but does not close it; a dated confirmation that someone
spoke with the child does — the review's restorative conversation "held", or the "Done" of the
follow-up a "planned" one becomes. "Not sure, I'll check" answers become dated actions too."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.followups import planner
from bot.services.child_views import ChildViewService
from bot.services.reviews import ReviewService
from dialogues.engine import Inbound
from storage import reviews as store
from storage.db import session_scope
from storage.models import AuditEvent, FollowUp, Incident, ReviewAction
from storage.types import utcnow

from .conftest import Home
from .test_review_service import REVIEW_ANSWERS, run_review, two_debriefs

CLOCK = ("childview_prompt", "childview_reminder", "childview_escalation")


def clock_rows(incident_id: int) -> list[FollowUp]:
    with session_scope() as s:
        return [r for r in s.exec(select(FollowUp).where(FollowUp.incident_id == incident_id))
                if r.kind in CLOCK]


def still_running(incident_id: int) -> bool:
    return any(r.state == "pending" for r in clock_rows(incident_id))


def spoken_to(incident_id: int) -> list[AuditEvent]:
    with session_scope() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == "child_spoken_to",
                                                    AuditEvent.object_id == incident_id)))


def sign(home: Home, answers: dict[str, str]) -> None:
    service = ReviewService()
    run_review(service, home, answers)
    with session_scope() as s:
        reply = service.handle(s, person=home.manager, inbound=Inbound.pressed("summary|submit"))
    assert reply.status == "submitted"


def the_childs_own_view(home: Home) -> None:
    service = ChildViewService()
    with session_scope() as s:
        service.open(s, person=home.child_user)
    for payload in ("feel_now|v:ok", "before|v:too_loud", "before_words|c:skip", "calm|v:music",
                    "hurt|v:no"):
        with session_scope() as s:
            service.handle(s, person=home.child_user, inbound=Inbound.pressed(payload))
    with session_scope() as s:
        reply = service.handle(s, person=home.child_user, inbound=Inbound.typed("stop"))
    assert reply.status == "submitted"


def test_a_childs_own_view_and_a_planned_conversation_leave_the_clock_running_until_confirmed(
        home: Home) -> None:
    incident_id = two_debriefs(home)
    assert still_running(incident_id)
    the_childs_own_view(home)
    assert still_running(incident_id), "a child's view through /tell is not the confirmation"
    assert spoken_to(incident_id) == []

    sign(home, {**REVIEW_ANSWERS, "restorative": "planned"})
    assert still_running(incident_id), "a planned conversation is not a held one"
    with session_scope() as s:
        incident = s.get(Incident, incident_id)
        assert incident is not None
        (check,) = [a for a in s.exec(select(ReviewAction)) if "spoken with" in a.description]
        assert check.description == ("Confirm you have spoken with Robin (test) (regulation 35: "
                                     "within 5 days)")
        assert check.owner_id == home.manager.id
        due = check.due_at
        assert abs((due - (incident.occurred_at + timedelta(days=5))).total_seconds()) < 1
        (nudge,) = [r for r in s.exec(select(FollowUp).where(FollowUp.kind == "action_reminder"))
                    if r.detail.get("action_id") == str(check.id)]
        assert nudge.person_id == home.manager.id
        planner.mark_done(s, row=nudge)  # the manager presses "Done" on it
    assert not still_running(incident_id)
    assert all(r.outcome == "child_spoken_to" for r in clock_rows(incident_id)
               if r.state == "cancelled")
    (confirmed,) = spoken_to(incident_id)
    assert confirmed.actor_id == home.manager.id
    assert confirmed.detail["source"] == "confirmed_after_review"
    assert abs((utcnow() - confirmed.at).total_seconds()) < 60


def test_a_review_that_says_the_conversation_was_held_closes_the_clock_dated_at_sign_off(
        home: Home) -> None:
    incident_id = two_debriefs(home)
    sign(home, {**REVIEW_ANSWERS, "restorative": "held"})
    assert not still_running(incident_id)
    assert all(r.outcome == "child_spoken_to" for r in clock_rows(incident_id)
               if r.state == "cancelled")
    (confirmed,) = spoken_to(incident_id)
    assert (confirmed.actor_id, confirmed.detail["source"]) == (home.manager.id, "review")
    with session_scope() as s:
        review = store.signed_review(s, incident_id=incident_id)
        assert review is not None
        assert review.signed_at is not None
        assert confirmed.detail["at"] == review.signed_at.isoformat()
        assert not [a for a in s.exec(select(ReviewAction)) if "spoken with" in a.description]


def test_not_sure_answers_become_dated_actions_for_the_manager(home: Home) -> None:
    incident_id = two_debriefs(home)
    sign(home, {**REVIEW_ANSWERS, "spoken_with_staff": "some", "notifiable": "Not sure, I'll check"})
    with session_scope() as s:
        incident = s.get(Incident, incident_id)
        assert incident is not None
        actions = {a.description: a for a in s.exec(select(ReviewAction))}
        staff = actions["Speak with the rest of the staff involved (regulation 35: within 48 hours)"]
        ofsted = actions["Check whether this incident must be notified to Ofsted (regulation 40: "
                         "without delay)"]
        assert staff.owner_id == ofsted.owner_id == home.manager.id
        assert abs((staff.due_at - (incident.occurred_at + timedelta(hours=48))).total_seconds()) < 1
        assert (ofsted.due_at - utcnow()).total_seconds() < 60
        reminders = {r.detail.get("action_id") for r in s.exec(
            select(FollowUp).where(FollowUp.kind == "action_reminder"))}
        assert {str(staff.id), str(ofsted.id)} <= reminders
