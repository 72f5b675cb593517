"""The manager review through its service, on SQLite and PostgreSQL: side by side, patterns,
actions that become follow-ups, a read-only sign-off, and a dated addendum."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlmodel import select
from support.debriefs import walk_debrief

from bot.services.reviews import ReviewService, format_answer, pattern_lines, time_band
from dialogues.engine import Inbound
from dialogues.flow import load_flow
from dialogues.wording import for_telegram
from storage import crud
from storage import reviews as store
from storage.db import session_scope
from storage.models import AuditEvent, FollowUp, Incident, Review, ReviewAction, ReviewAddendum
from storage.types import utcnow

from .conftest import DEBRIEF_ANSWERS, Home, backdate

REVIEW_ANSWERS = {
    "spoken_with_staff": "all", "legal_necessary": "yes",
    "legal_necessary_why": "She was about to hit Kit with a chair",
    "reasonable": "yes", "reasonable_why": "Talking and space were tried first",
    "minimum_force": "partly", "minimum_force_why": "Four minutes seated; could have eased sooner",
    "proportionate": "yes", "proportionate_why": "Risk of harm to another child",
    "less_restrictive": "yes", "less_restrictive_what": "Offer her music earlier",
    "impact_on_child": "Upset for an hour, then settled with her blanket",
    "restorative": "held", "informed": "parents, placing authority", "notifiable": "no",
    "learning": "Calls home are a trigger; plan time after them",
    "action_1": "Add music to Robin's calming plan", "action_1_owner": "Jordan Test",
    "action_1_due": "In a week", "action_2": "Talk to the social worker about call times",
    "action_2_owner": "Me", "action_2_due": "In 2 weeks", "action_3": "skip",
    "plans_to_review": "behaviour support plan",
}


def two_debriefs(home: Home) -> int:
    """Alex reports the incident naming Jordan; Jordan debriefs it too. Returns the incident id."""
    first = walk_debrief(home.staff[0], DEBRIEF_ANSWERS, colleagues="Jordan Test")
    assert first.incident_id is not None
    second = walk_debrief(home.staff[1], {**DEBRIEF_ANSWERS, "duration": "6",
                                          "least_restrictive": "yes",
                                          "child_experience": "She said nothing and hid"})
    assert second.incident_id == first.incident_id
    return first.incident_id


def run_review(service: ReviewService, home: Home, answers: dict[str, str]) -> list[str]:
    """Answer the review by question id (typed, like a manager would); return the question ids."""
    asked = []
    with session_scope() as s:
        reply = service.open(s, person=home.manager)
    for _ in range(60):
        last = reply.messages[-1]
        if last.kind == "summary":
            return asked
        assert last.question_id is not None, last.text
        asked.append(last.question_id)
        with session_scope() as s:
            reply = service.handle(s, person=home.manager,
                                   inbound=Inbound.typed(answers.get(last.question_id, "skip")))
    raise AssertionError("the review never reached its summary")


def test_review_opens_with_both_debriefs_side_by_side_flags_and_patterns(home: Home) -> None:
    incident_id = two_debriefs(home)
    service = ReviewService()
    with session_scope() as s:
        reply = service.open(s, person=home.manager)
    header, side = reply.messages[0].text, reply.messages[1].text
    assert "Review of the incident with Robin (test)" in header
    assert "Debriefs in: Alex, Jordan" in header
    assert "This is the first incident for Robin (test) in the last 28 days." in header
    assert side.startswith("Side by side")
    assert "How long\n• Alex: about 4 min\n• Jordan: about 6 min" in side
    assert "What was used\n• Alex, Jordan: Physical hold\n" in side  # the same answer, one line
    assert "• Alex: She said we were rough\n• Jordan: She said nothing and hid" in side
    assert "Least restrictive?\n• Alex: Partly\n• Jordan: Yes" in side
    assert "How you were feeling" not in side  # the staff check-in stays private
    assert reply.messages[-1].question_id == "spoken_with_staff"
    with session_scope() as s:
        opened = s.exec(select(AuditEvent).where(AuditEvent.action == "review_opened")).one()
        assert opened.object_id == incident_id


def test_points_to_reflect_on_are_shown(home: Home) -> None:
    incident_id = two_debriefs(home)
    with session_scope() as s:
        incident = s.get(Incident, incident_id)
        assert incident is not None
        incident.flags = ["prone_or_ground_hold", "long_intervention"]
        s.add(incident)
    with session_scope() as s:
        header = ReviewService().open(s, person=home.manager).messages[0].text
    assert "Points to reflect on (not a judgement):\n• a prone or floor hold was used\n" \
           "• the intervention was long" in header


def test_pattern_context_counts_the_childs_recent_incidents_and_teatimes(home: Home) -> None:
    with session_scope() as s:
        ids = []
        for reporter in (home.staff[0], home.staff[0], home.staff[0], home.staff[1]):
            incident = crud.create_incident(s, setting_id=home.setting_id, child_id=home.child_id,
                                            occurred_at=utcnow(), reported_by_id=reporter.id or 0,
                                            staff_ids=[])
            ids.append(incident.id)
    backdate(ids[0], days=12, hour=17, minute=15)
    backdate(ids[1], days=5, hour=10)
    backdate(ids[2], days=1, hour=18, minute=30)
    backdate(ids[3], days=40, hour=17)  # outside the window
    with session_scope() as s:
        latest = s.get(Incident, ids[2])
        assert latest is not None
        lines = pattern_lines(s, incident=latest)
    assert lines[0] == "This is the third incident for Robin (test) in the last 28 days, two at teatime."
    assert lines[1] == "Alex Test was involved in 3 of the 3 incidents here in the last 28 days."


def test_time_bands_cover_the_day() -> None:
    from datetime import datetime

    names = {time_band(datetime(2026, 1, 1, hour)) for hour in range(24)}
    assert names == {"in the night", "in the morning", "in the afternoon", "at teatime",
                     "in the evening"}
    assert time_band(datetime(2026, 1, 1, 17, 45)) == "at teatime"


def test_sign_off_stores_the_review_actions_and_follow_ups_and_is_read_only(home: Home) -> None:
    incident_id = two_debriefs(home)
    service = ReviewService()
    asked = run_review(service, home, REVIEW_ANSWERS)
    assert asked[:3] == ["spoken_with_staff", "legal_necessary", "legal_necessary_why"]
    assert "notified" not in asked  # only when notifiable
    assert "action_3_owner" not in asked  # the third action was skipped
    with session_scope() as s:
        reply = service.handle(s, person=home.manager, inbound=Inbound.pressed("summary|submit"))
    assert reply.status == "submitted"
    assert "Signed off" in reply.messages[-1].text
    assert [n.person_id for n in reply.notices] == [home.staff[1].id]
    with session_scope() as s:
        review = s.exec(select(Review)).one()
        assert review.incident_id == incident_id
        assert review.manager_id == home.manager.id
        assert review.signed_at is not None
        assert review.outcome["minimum_force"] == "partly"
        assert review.outcome["informed"] == ["parents", "placing_authority"]
        assert "legal_necessary_why" not in review.outcome  # narrative stays encrypted
        answers = store.review_answers(review)
        assert answers["legal_necessary_why"]["value"] == "She was about to hit Kit with a chair"
        raw = s.connection().execute(sa.text("SELECT answers FROM review")).scalar_one()
        assert "chair" not in raw  # encrypted at rest
        actions = s.exec(select(ReviewAction).order_by(ReviewAction.id)).all()  # type: ignore[arg-type]
        assert [a.description for a in actions] == ["Add music to Robin's calming plan",
                                                    "Talk to the social worker about call times"]
        assert [a.owner_id for a in actions] == [home.staff[1].id, home.manager.id]
        assert round((actions[0].due_at - review.signed_at).total_seconds() / 86400) == 7
        assert round((actions[1].due_at - review.signed_at).total_seconds() / 86400) == 14
        reminders = s.exec(select(FollowUp).where(FollowUp.kind == "action_reminder")).all()
        assert {r.id for r in reminders} == {a.follow_up_id for a in actions}
        assert {r.person_id for r in reminders} == {home.staff[1].id, home.manager.id}
        assert not s.exec(select(FollowUp).where(FollowUp.kind.in_(  # type: ignore[attr-defined]
            ["review_nudge", "review_reminder", "review_escalation"]),
            FollowUp.state == "pending")).all()
    # Opening it again shows the signed record, read-only, with a way to add an addendum.
    with session_scope() as s:
        again = service.open(s, person=home.manager, incident_id=incident_id)
    assert again.status == "signed"
    text = again.messages[0].text
    assert "🔒 Signed review" in text
    assert "It is read-only." in text
    assert "Minimum force: Partly" in text
    assert "• Add music to Robin's calming plan — Jordan Test, by" in text
    assert again.messages[0].buttons[0][0].payload.startswith("rv:add:")
    with session_scope() as s, pytest.raises(store.ReadOnlyError):
        store.save_review(s, incident_id=incident_id, manager_id=home.manager.id or 0,
                          answers={}, outcome={}, actions=[])


def test_notifiable_but_not_yet_notified_adds_an_action_for_today(home: Home) -> None:
    two_debriefs(home)
    service = ReviewService()
    asked = run_review(service, home, {**REVIEW_ANSWERS, "notifiable": "yes", "notified": "no",
                                       "action_1": "skip"})
    assert "notified" in asked
    with session_scope() as s:
        service.handle(s, person=home.manager, inbound=Inbound.pressed("summary|submit"))
    with session_scope() as s:
        action = s.exec(select(ReviewAction)).one()
        assert "regulation 40" in action.description
        assert action.owner_id == home.manager.id


def test_an_addendum_is_dated_and_leaves_the_signed_review_unchanged(home: Home) -> None:
    incident_id = two_debriefs(home)
    service = ReviewService()
    run_review(service, home, REVIEW_ANSWERS)
    with session_scope() as s:
        service.handle(s, person=home.manager, inbound=Inbound.pressed("summary|submit"))
        review = s.exec(select(Review)).one()
        before = (review.answers, review.outcome, review.signed_at)
    assert review.id is not None
    with session_scope() as s:
        reply = service.start_addendum(s, person=home.manager, review_id=review.id)
    assert reply.messages[-1].question_id == "text"
    with session_scope() as s:
        reply = service.handle(s, person=home.manager, flow_id="review_addendum",
                               inbound=Inbound.typed("skip"))
    assert "can't be skipped" in reply.messages[0].text or "I need a few words" in reply.messages[0].text
    with session_scope() as s:
        service.handle(s, person=home.manager, flow_id="review_addendum",
                       inbound=Inbound.typed("The hold was 6 minutes, not 4: Jordan's timing is right"))
    with session_scope() as s:
        reply = service.handle(s, person=home.manager, flow_id="review_addendum",
                               inbound=Inbound.pressed("summary|submit"))
    assert reply.status == "submitted"
    with session_scope() as s:
        addendum = s.exec(select(ReviewAddendum)).one()
        assert addendum.text.startswith("The hold was 6 minutes")
        assert addendum.author_id == home.manager.id
        assert addendum.created_at is not None
        review = s.exec(select(Review)).one()
        assert (review.answers, review.outcome, review.signed_at) == before
        shown = service.open(s, person=home.manager, incident_id=incident_id).messages[0].text
    assert "Addendum, " in shown
    assert "by Morgan Test:\nThe hold was 6 minutes" in shown


def test_review_pauses_and_resumes_exactly_where_it_was(home: Home) -> None:
    two_debriefs(home)
    service = ReviewService()
    with session_scope() as s:
        service.open(s, person=home.manager)
    for text in ("all", "yes"):
        with session_scope() as s:
            service.handle(s, person=home.manager, inbound=Inbound.typed(text))
    with session_scope() as s:
        paused = service.handle(s, person=home.manager, inbound=Inbound.typed("pause"))
    assert paused.status == "paused"
    assert "Send /review" in for_telegram(paused.messages[0].text)
    with session_scope() as s:
        assert crud.active_conversation(s, person_id=home.manager.id or 0) is None
        resumed = service.open(s, person=home.manager)
    assert resumed.messages[-1].question_id == "legal_necessary_why"


def test_nothing_to_review_is_said_kindly(home: Home) -> None:
    with session_scope() as s:
        reply = ReviewService().open(s, person=home.manager)
    assert reply.messages[0].text == "Nothing is waiting for your review just now. Thank you."


def test_answers_are_shown_in_words() -> None:
    flow = load_flow("manager_review")
    assert format_answer(flow.question("informed"), "answered", ["parents", "not_yet"]) == \
        "Parents or carers, Not yet"
    assert format_answer(flow.question("learning"), "skipped", None) == "skipped"
    story = "He threw a chair, then sat under the table; we waited. " * 12  # never cut with "…"
    assert format_answer(flow.question("learning"), "answered", story) == story
    assert json.dumps(format_answer(flow.question("legal_necessary"), "unsure", None)) == '"not sure"'


def test_opening_the_same_incident_again_carries_on_and_loses_nothing(home: Home) -> None:
    incident_id = two_debriefs(home)
    service = ReviewService()
    with session_scope() as s:
        service.open(s, person=home.manager, incident_id=incident_id)
    for text in ("all", "yes"):
        with session_scope() as s:
            service.handle(s, person=home.manager, inbound=Inbound.typed(text))
    with session_scope() as s:  # say, from a nudge's "Review now" button
        again = service.open(s, person=home.manager, incident_id=incident_id)
    assert again.messages[0].text.startswith("📋 Review of")
    assert again.messages[-2].text == "Welcome back. Here is where we were:"
    assert again.messages[-1].question_id == "legal_necessary_why"


def test_an_action_marked_done_on_its_reminder_leaves_pending_and_is_dated_in_the_export(
        home: Home) -> None:
    from bot.followups import planner
    from bot.services.export import export_records
    from bot.services.reviews import pending_reviews

    incident_id = two_debriefs(home)
    service = ReviewService()
    run_review(service, home, REVIEW_ANSWERS)
    with session_scope() as s:
        service.handle(s, person=home.manager, inbound=Inbound.pressed("summary|submit"))
    jordan = home.staff[1]
    with session_scope() as s:
        (line,) = pending_reviews(s, jordan)
        assert line.startswith("• Action: Add music to Robin's calming plan (by ")
        reminder = s.exec(select(FollowUp).where(FollowUp.kind == "action_reminder",
                                                 FollowUp.person_id == jordan.id)).one()
        planner.mark_done(s, row=reminder)
    with session_scope() as s:
        assert pending_reviews(s, jordan) == []
        (record,) = export_records(s, setting_id=home.setting_id)
    assert record["id"] == incident_id
    done = {a["owner"]: a["done_at"] for a in record["reviews"][0]["actions"]}
    assert done["Jordan Test"] is not None
    assert done["Morgan Test"] is None


def test_the_database_allows_one_signed_review_per_incident(home: Home) -> None:
    """Two managers signing at the same moment both pass the read-only check; the index stops one."""
    incident_id = two_debriefs(home)
    with session_scope() as s:
        store.save_review(s, incident_id=incident_id, manager_id=home.manager.id or 0,
                          answers={"legal_necessary": "yes"}, outcome={}, actions=[])
    with session_scope() as s:
        s.add(Review(incident_id=incident_id, manager_id=home.manager.id or 0, signed_at=utcnow()))
        with pytest.raises(sa.exc.IntegrityError):
            s.flush()
        s.rollback()
    with session_scope() as s:
        signed = s.exec(select(Review).where(Review.incident_id == incident_id)).all()
        unsigned = Review(incident_id=incident_id, manager_id=home.manager.id or 0)
        s.add(unsigned)
    assert len(signed) == 1
    assert unsigned.id is not None, "an unsigned draft is not limited by the signed-review index"
