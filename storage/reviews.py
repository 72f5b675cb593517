"""Data functions for what follows a debrief: manager reviews, addenda, actions and child views.

Kept beside `storage/crud.py` (same rules: a session first, keyword-only arguments, the caller
commits). A signed review is never updated here: corrections are new, dated addenda.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.crud import record_audit
from storage.models import (
    ChildView,
    Debrief,
    DebriefStatus,
    FollowUp,
    Incident,
    IncidentStaff,
    Review,
    ReviewAction,
    ReviewAddendum,
)
from storage.types import utcnow

# A review action's reminder is a follow-up (bot/followups); these outcomes mean "done".
ACTION_REMINDER = "action_reminder"
ACTION_DONE_OUTCOMES = ("done_by_button", "action_done")


class ReadOnlyError(ValueError):
    """A signed review cannot be changed; the message is safe to show."""


# --- reviews -------------------------------------------------------------------------------------


def signed_review(session: Session, *, incident_id: int) -> Review | None:
    """The signed review of an incident, if there is one."""
    statement = select(Review).where(Review.incident_id == incident_id,
                                     col(Review.signed_at).is_not(None))
    return session.exec(statement.order_by(col(Review.id))).first()


def save_review(
    session: Session,
    *,
    incident_id: int,
    manager_id: int,
    answers: dict[str, Any],
    outcome: dict[str, Any],
    actions: list[dict[str, Any]],
    now: datetime | None = None,
) -> Review:
    """Store a signed review and its actions; refuse if the incident already has a signed one."""
    if signed_review(session, incident_id=incident_id) is not None:
        raise ReadOnlyError("This incident's review is already signed. Add an addendum instead.")
    now = now or utcnow()
    review = Review(incident_id=incident_id, manager_id=manager_id, outcome=outcome,
                    answers=json.dumps(answers, ensure_ascii=False), signed_at=now)
    try:
        with session.begin_nested():
            session.add(review)
            session.flush()
    except IntegrityError as exc:  # another manager signed it a moment ago
        raise ReadOnlyError("This incident's review was just signed by someone else. "
                            "Add an addendum instead.") from exc
    assert review.id is not None
    for item in actions:
        session.add(ReviewAction(review_id=review.id, incident_id=incident_id,
                                 description=item["description"], owner_id=item.get("owner_id"),
                                 due_at=item["due_at"]))
    record_audit(session, actor_id=manager_id, action="review_signed", object_type="review",
                 object_id=review.id, detail={"incident_id": incident_id, "actions": len(actions)})
    session.flush()
    return review


def review_answers(review: Review) -> dict[str, Any]:
    """A review's answers, decrypted."""
    return dict(json.loads(review.answers)) if review.answers else {}


def actions_of(session: Session, *, review_id: int) -> list[ReviewAction]:
    statement = select(ReviewAction).where(ReviewAction.review_id == review_id)
    return list(session.exec(statement.order_by(col(ReviewAction.id))))


def actions_done(session: Session, *, action_ids: list[int]) -> dict[int, datetime]:
    """When each of these actions was marked done (on its reminder's "Done" button, or in code)."""
    done: dict[int, datetime] = {}
    if not action_ids:
        return done
    # only the two columns: loading whole rows would decrypt every description for nothing
    for found_id, done_at in session.exec(select(ReviewAction.id, ReviewAction.done_at)
                                          .where(col(ReviewAction.id).in_(action_ids))):
        if found_id is not None and done_at is not None:
            done[found_id] = done_at
    closed = select(FollowUp).where(FollowUp.kind == ACTION_REMINDER,
                                    col(FollowUp.outcome).in_(ACTION_DONE_OUTCOMES))
    wanted = {str(i) for i in action_ids}
    for row in session.exec(closed):
        action_id = str(row.detail.get("action_id", ""))
        if action_id in wanted and row.closed_at is not None:
            done.setdefault(int(action_id), row.closed_at)
    return done


def open_actions_of(session: Session, *, person_id: int) -> list[ReviewAction]:
    """Review actions this person owns that are not done yet, soonest first."""
    statement = select(ReviewAction).where(ReviewAction.owner_id == person_id,
                                           col(ReviewAction.done_at).is_(None))
    actions = list(session.exec(statement.order_by(col(ReviewAction.due_at))))
    done = actions_done(session, action_ids=[a.id for a in actions if a.id is not None])
    return [a for a in actions if a.id not in done]


def add_addendum(session: Session, *, review: Review, author_id: int, text: str) -> ReviewAddendum:
    """A dated correction or addition to a signed review (the review itself is not touched)."""
    assert review.id is not None
    if review.signed_at is None:
        raise ValueError("only a signed review takes addenda")
    addendum = ReviewAddendum(review_id=review.id, author_id=author_id, text=text)
    session.add(addendum)
    session.flush()
    record_audit(session, actor_id=author_id, action="review_addendum", object_type="review",
                 object_id=review.id, detail={"addendum_id": addendum.id})
    return addendum


def addenda_of(session: Session, *, review_id: int) -> list[ReviewAddendum]:
    statement = select(ReviewAddendum).where(ReviewAddendum.review_id == review_id)
    return list(session.exec(statement.order_by(col(ReviewAddendum.id))))


def incidents_awaiting_review(session: Session, *, setting_id: int) -> list[Incident]:
    """Incidents of a setting with at least one submitted debrief and no signed review, oldest first."""
    debriefed = select(Debrief.incident_id).where(Debrief.status == DebriefStatus.submitted)
    signed = select(Review.incident_id).where(col(Review.signed_at).is_not(None))
    statement = (select(Incident)
                 .where(Incident.setting_id == setting_id, col(Incident.id).in_(debriefed),
                        col(Incident.id).not_in(signed))
                 .order_by(col(Incident.occurred_at)))
    return list(session.exec(statement))


# --- patterns --------------------------------------------------------------------------------------


def staff_by_incident(session: Session, *, incident_ids: list[int]) -> dict[int, set[int]]:
    """The people involved in each of these incidents."""
    found: dict[int, set[int]] = {i: set() for i in incident_ids}
    if not incident_ids:
        return found
    statement = select(IncidentStaff).where(col(IncidentStaff.incident_id).in_(incident_ids))
    for row in session.exec(statement):
        found[row.incident_id].add(row.person_id)
    return found


# --- child views -----------------------------------------------------------------------------------


def save_child_view(
    session: Session,
    *,
    incident_id: int | None,
    child_id: int,
    recorded_by_id: int | None,
    mode: str,
    answers: dict[str, Any],
    choices: dict[str, Any],
    alerts: list[str],
    ended_early: bool,
) -> ChildView:
    """Store a child's view (their own words encrypted; button codes kept for patterns)."""
    view = ChildView(incident_id=incident_id, child_id=child_id, recorded_by_id=recorded_by_id,
                     mode=mode, answers=json.dumps(answers, ensure_ascii=False), choices=choices,
                     alerts=alerts, ended_early=ended_early)
    session.add(view)
    session.flush()
    record_audit(session, actor_id=recorded_by_id, action="child_view_saved",
                 object_type="child_view", object_id=view.id,
                 detail={"incident_id": incident_id, "mode": mode})
    return view


def child_view_answers(view: ChildView) -> dict[str, Any]:
    """A child view's answers, decrypted."""
    return dict(json.loads(view.answers)) if view.answers else {}


def child_views_of(session: Session, *, incident_id: int) -> list[ChildView]:
    statement = select(ChildView).where(ChildView.incident_id == incident_id)
    return list(session.exec(statement.order_by(col(ChildView.id))))


def incidents_of_child(session: Session, *, child_id: int) -> list[Incident]:
    """A child's incidents, newest first."""
    statement = select(Incident).where(Incident.child_id == child_id)
    return list(session.exec(statement.order_by(col(Incident.occurred_at).desc())))


def has_child_view(session: Session, *, incident_id: int, mode: str | None = None) -> bool:
    statement = select(ChildView.id).where(ChildView.incident_id == incident_id)
    if mode is not None:
        statement = statement.where(ChildView.mode == mode)
    return session.exec(statement).first() is not None


def get_review(session: Session, *, review_id: int | None) -> Review | None:
    """A review by id."""
    return session.get(Review, review_id) if review_id is not None else None
