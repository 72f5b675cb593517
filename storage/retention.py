"""How long Flourish keeps what it holds, per setting, and the people's rights over it.

The regulation 35 record itself (incidents, submitted debriefs and their answers, reviews,
addenda, actions, the child's view) belongs to the child's case record: the Children's Homes
(England) Regulations 2015, regulation 36, keep case records for 75 years from the child's date of
birth (15 years from the death of a child who dies before 18). Flourish does not know children's
dates of birth, so it never deletes these records by itself; the provider's records policy
decides, after an export. What Flourish deletes on its own is what is only a working copy:

- the conversation state of a finished conversation (a second copy of the answers): 30 days after
  it was submitted, so a missed receipt or a crash can still be put right;
- a cancelled conversation (a debrief that was never submitted): 30 days after it was cancelled;
- used or expired invite codes (their HMACs): 90 days after use or expiry;
- the audit trail is kept (no default period); a setting may set one.

Each period can be changed per setting (`RetentionPolicy.overrides`, in days). `erase_person`
removes a person's identity and working copies but keeps the statutory record they wrote, with
their name replaced; `subject_access` gathers everything held about one person.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, delete, select

from storage.models import (
    Answer,
    AuditEvent,
    ChatMessage,
    Child,
    ChildView,
    Conversation,
    Debrief,
    FollowUp,
    Incident,
    Invite,
    Person,
    RetentionPolicy,
    Review,
    ReviewAddendum,
    Setting,
)
from storage.types import utcnow

DEFAULT_DAYS: dict[str, int | None] = {
    "finished_conversation": 30,
    "cancelled_conversation": 30,
    "invite": 90,
    "audit": None,
}
FINISHED = ("submitted", "cancelled")


class RetentionError(ValueError):
    """A retention setting that cannot be used; the message is safe to show."""


def retention_days(session: Session, *, setting_id: int) -> dict[str, int | None]:
    """A setting's retention periods in days (None: kept), the defaults with its overrides."""
    policy = session.get(RetentionPolicy, setting_id)
    return {**DEFAULT_DAYS, **(policy.overrides if policy else {})}


def set_retention(session: Session, *, setting_id: int, kind: str, days: int | None) -> None:
    """Change one retention period of a setting (None keeps that kind of data)."""
    if kind not in DEFAULT_DAYS:
        raise RetentionError(f"Unknown kind {kind!r}: choose one of {', '.join(DEFAULT_DAYS)}.")
    if days is not None and days < 1:
        raise RetentionError("A retention period is at least one day.")
    if session.get(Setting, setting_id) is None:
        raise RetentionError(f"No setting {setting_id}.")
    policy = session.get(RetentionPolicy, setting_id) or RetentionPolicy(setting_id=setting_id)
    policy.overrides = {**policy.overrides, kind: days}
    policy.updated_at = utcnow()
    session.add(policy)
    session.flush()


def _delete_conversations(session: Session, ids: list[int]) -> None:
    if ids:
        session.exec(delete(ChatMessage).where(col(ChatMessage.conversation_id).in_(ids)))
        session.exec(delete(Conversation).where(col(Conversation.id).in_(ids)))


def apply_retention(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Delete what is past its setting's retention period; returns how many of each kind."""
    now = now or utcnow()
    counts = dict.fromkeys(DEFAULT_DAYS, 0)
    for setting_id in session.exec(select(Setting.id)):
        assert setting_id is not None
        days = retention_days(session, setting_id=setting_id)
        people = select(Person.id).where(Person.setting_id == setting_id)
        cutoffs = {kind: now - timedelta(days=d) for kind, d in days.items() if d is not None}
        latest = max([cutoffs[k] for k in ("finished_conversation", "cancelled_conversation")
                      if k in cutoffs], default=None)
        old = [] if latest is None else session.exec(select(Conversation).where(
            col(Conversation.active).is_(False), col(Conversation.person_id).in_(people),
            col(Conversation.updated_at) < latest)).all()
        doomed = []
        for conversation in old:
            status = json.loads(conversation.state).get("status")
            kind = {"submitted": "finished_conversation",
                    "cancelled": "cancelled_conversation"}.get(status)
            if kind in cutoffs and conversation.updated_at < cutoffs[kind]:
                assert conversation.id is not None
                doomed.append(conversation.id)
                counts[kind] += 1
        _delete_conversations(session, doomed)
        if "invite" in cutoffs:
            stale = select(Invite.id).where(col(Invite.person_id).in_(people)).where(
                (col(Invite.used_at) < cutoffs["invite"]) | (col(Invite.expires_at) < cutoffs["invite"]))
            ids = list(session.exec(stale))
            session.exec(delete(Invite).where(col(Invite.id).in_(ids)))
            counts["invite"] += len(ids)
        if "audit" in cutoffs:
            ids = list(session.exec(select(AuditEvent.id).where(
                col(AuditEvent.actor_id).in_(people), col(AuditEvent.at) < cutoffs["audit"])))
            session.exec(delete(AuditEvent).where(col(AuditEvent.id).in_(ids)))
            counts["audit"] += len(ids)
    session.flush()
    return counts


# --- people's rights ------------------------------------------------------------------------------


def erase_person(session: Session, *, person_id: int, actor_id: int | None) -> Person:
    """Remove a person's identity, account, invites and conversation copies; keep the record."""
    person = session.get(Person, person_id)
    if person is None:
        raise RetentionError(f"No person {person_id}.")
    person.display_name = f"Erased person {person_id}"
    person.telegram_user_id = None
    person.active = False
    session.add(person)
    conversations = list(session.exec(select(Conversation.id).where(
        Conversation.person_id == person_id)))
    _delete_conversations(session, [c for c in conversations if c is not None])
    session.exec(delete(Invite).where(col(Invite.person_id) == person_id))
    for followup in session.exec(select(FollowUp).where(
            FollowUp.person_id == person_id, col(FollowUp.state).in_(["pending", "sending"]))):
        followup.state, followup.closed_at, followup.outcome = "cancelled", utcnow(), "erased"
        session.add(followup)
    session.add(AuditEvent(actor_id=actor_id, action="person_erased", object_type="person",
                           object_id=person_id))
    session.flush()
    return person


def _row(model: Any, *fields: str) -> dict[str, Any]:
    return {name: getattr(model, name) for name in fields}


def subject_access(session: Session, *, person_id: int) -> dict[str, Any]:
    """Everything held about one person, decrypted, as plain data (JSON-ready with `default=str`)."""
    person = session.get(Person, person_id)
    if person is None:
        raise RetentionError(f"No person {person_id}.")
    setting = session.get(Setting, person.setting_id)
    debriefs = []
    for debrief in session.exec(select(Debrief).where(Debrief.person_id == person_id)
                                .order_by(col(Debrief.id))):
        answers = session.exec(select(Answer).where(Answer.debrief_id == debrief.id)
                               .order_by(col(Answer.id)))
        debriefs.append({**_row(debrief, "id", "incident_id", "status", "submitted_at"),
                         "answers": [_row(a, "question_id", "status", "value", "text")
                                     for a in answers]})
    held: dict[str, Any] = {
        "person": {**_row(person, "id", "display_name", "role", "active", "created_at"),
                   "setting": setting.name if setting else None,
                   "telegram_account_linked": person.telegram_user_id is not None},
        "debriefs": debriefs,
        "reviews": [_row(r, "id", "incident_id", "answers", "outcome", "signed_at")
                    for r in session.exec(select(Review).where(Review.manager_id == person_id))],
        "review_addenda": [_row(a, "id", "review_id", "text", "created_at") for a in session.exec(
            select(ReviewAddendum).where(ReviewAddendum.author_id == person_id))],
        "conversations_in_progress": [
            {**_row(c, "id", "flow_id", "updated_at"), "state": json.loads(c.state)}
            for c in session.exec(select(Conversation).where(Conversation.person_id == person_id))
            if json.loads(c.state).get("status") not in FINISHED],
        "follow_ups": [_row(f, "id", "kind", "incident_id", "due_at", "state")
                       for f in session.exec(select(FollowUp).where(FollowUp.person_id == person_id))],
        "audit": [_row(e, "at", "action", "object_type", "object_id")
                  for e in session.exec(select(AuditEvent).where(AuditEvent.actor_id == person_id)
                                        .order_by(col(AuditEvent.id)))],
    }
    if person.child_id is not None:
        child = session.get(Child, person.child_id)
        held["child"] = {
            "name": child.display_name if child else None,
            "incidents": [_row(i, "id", "occurred_at", "flags") for i in session.exec(
                select(Incident).where(Incident.child_id == person.child_id))],
            "views": [_row(v, "id", "incident_id", "mode", "answers", "choices", "created_at")
                      for v in session.exec(select(ChildView).where(
                          ChildView.child_id == person.child_id))],
        }
    return held
