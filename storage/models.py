"""The database tables: settings, people, children, incidents, debriefs and everything that follows.

Narrative fields use `EncryptedText`; structured answers (choice codes, numbers) stay queryable so
managers can see patterns. Every timestamp is timezone-aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from storage.types import EncryptedText, UTCDateTime, utcnow


class SettingKind(StrEnum):
    children_home = "children_home"
    residential_special_school = "residential_special_school"
    secure_children_home = "secure_children_home"
    school = "school"


class Role(StrEnum):
    staff = "staff"
    manager = "manager"
    admin = "admin"
    child = "child"


class DebriefStatus(StrEnum):
    in_progress = "in_progress"
    submitted = "submitted"
    cancelled = "cancelled"


class AnswerStatus(StrEnum):
    answered = "answered"
    skipped = "skipped"
    unsure = "unsure"


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# --- settings, people, children -----------------------------------------------------------------


class SettingBase(SQLModel):
    name: str = Field(max_length=200)
    kind: SettingKind = Field(sa_type=sa.String(40))
    timezone: str = Field(default="Europe/London", max_length=64)
    quiet_start: str = Field(default="21:00", max_length=5)
    quiet_end: str = Field(default="07:00", max_length=5)
    delete_chat_after_submit: bool = True


class SettingCreate(SettingBase):
    pass


class Setting(SettingBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _created()


class PersonBase(SQLModel):
    setting_id: int = Field(foreign_key="setting.id", index=True)
    display_name: str = Field(sa_type=EncryptedText)
    role: Role = Field(sa_type=sa.String(16))


class PersonCreate(PersonBase):
    child_id: int | None = None


class Person(PersonBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    child_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("child.id", use_alter=True, name="fk_person_child_id")
        ),
    )
    telegram_user_id: int | None = Field(default=None, sa_type=sa.BigInteger, unique=True)
    active: bool = True
    created_at: datetime = _created()


class ChildBase(SQLModel):
    setting_id: int = Field(foreign_key="setting.id", index=True)
    display_name: str = Field(sa_type=EncryptedText)
    key_worker_id: int | None = Field(default=None, foreign_key="person.id")
    communication_needs: str | None = Field(default=None, sa_type=EncryptedText)


class ChildCreate(ChildBase):
    pass


class Child(ChildBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    active: bool = True
    created_at: datetime = _created()


class Invite(SQLModel, table=True):
    """A single-use enrolment code; only its hash is stored."""

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- incidents and debriefs ---------------------------------------------------------------------


class Incident(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    setting_id: int = Field(foreign_key="setting.id", index=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    occurred_at: datetime = Field(sa_type=UTCDateTime, index=True)
    reported_by_id: int = Field(foreign_key="person.id")
    flags: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = _created()


class IncidentStaff(SQLModel, table=True):
    """A member of staff involved in an incident (each owes a debrief)."""

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)


class Debrief(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("incident_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    flow_id: str = Field(max_length=64)
    status: DebriefStatus = Field(default=DebriefStatus.in_progress, sa_type=sa.String(16))
    started_at: datetime = _created()
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Answer(SQLModel, table=True):
    """One answer of a submitted debrief: structured `value`, or encrypted free `text`."""

    __table_args__ = (sa.UniqueConstraint("debrief_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    debrief_id: int = Field(foreign_key="debrief.id", index=True)
    question_id: str = Field(max_length=64)
    status: AnswerStatus = Field(default=AnswerStatus.answered, sa_type=sa.String(16))
    value: Any = Field(default=None, sa_type=JSON)
    text: str | None = Field(default=None, sa_type=EncryptedText)
    source: str = Field(default="user", max_length=16)


# --- conversation state -------------------------------------------------------------------------


class Conversation(SQLModel, table=True):
    """Where a person is in a flow: the engine state, encrypted, so any process can resume it."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    flow_id: str = Field(max_length=64)
    debrief_id: int | None = Field(default=None, foreign_key="debrief.id")
    active: bool = Field(default=True, index=True)
    state: str = Field(sa_type=EncryptedText)
    version: int = 0
    created_at: datetime = _created()
    updated_at: datetime = _created()


# --- follow-ups, reviews, child's view, audit -----------------------------------------------------


class FollowUp(SQLModel, table=True):
    """A reminder, nudge or escalation owed to someone: the database row is the truth.

    `due_at` is when it may be sent (already held past quiet hours); `deadline_at` is the legal
    deadline it serves. `key` makes planning idempotent. `state` moves pending -> sending -> sent,
    or to cancelled / done / superseded / unconfirmed / undeliverable (see bot/followups).
    """

    __table_args__ = (sa.Index("ix_followup_state_due", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40, index=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    state: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    telegram_message_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    created_at: datetime = _created()
    setting_id: int | None = Field(default=None, foreign_key="setting.id", index=True)
    key: str | None = Field(default=None, max_length=160, unique=True)
    deadline_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    urgent: bool = False
    claim_token: str | None = Field(default=None, max_length=32)
    claimed_by: str | None = Field(default=None, max_length=64)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=40)


class FollowUpPolicy(SQLModel, table=True):
    """A setting's own follow-up schedule: overrides of the defaults (see bot/followups/schedule)."""

    setting_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("setting.id"), primary_key=True,
                            autoincrement=False)
    )
    overrides: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = _created()


class Review(SQLModel, table=True):
    """A manager's review of an incident; once signed it is read-only (corrections are addenda).

    `answers` holds every answer, encrypted (the reasons are narrative); `outcome` keeps only the
    choice codes (legal and necessary, notifiable, plans to review...) so they can be counted.
    The database itself allows one signed review per incident, even if two managers sign at once.
    """

    __table_args__ = (
        sa.Index("uq_review_signed_incident", "incident_id", unique=True,
                 sqlite_where=sa.text("signed_at IS NOT NULL"),
                 postgresql_where=sa.text("signed_at IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    manager_id: int = Field(foreign_key="person.id")
    answers: str | None = Field(default=None, sa_type=EncryptedText)
    outcome: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created()


class ReviewAddendum(SQLModel, table=True):
    """A dated correction or addition to a signed review, by its author or another manager."""

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    author_id: int = Field(foreign_key="person.id")
    text: str = Field(sa_type=EncryptedText)
    created_at: datetime = _created()


class ReviewAction(SQLModel, table=True):
    """One action from a review's learning: what, who and by when (each becomes a follow-up)."""

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    description: str = Field(sa_type=EncryptedText)
    owner_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    follow_up_id: int | None = Field(default=None, foreign_key="followup.id")
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created()


class ChildView(SQLModel, table=True):
    """The child's own view of an incident, self-service or recorded with a member of staff.

    `answers` holds every answer, encrypted (the child's own words); `choices` keeps only the
    button codes (how they feel, what helped) for patterns; `alerts` names the safeguarding
    answers given ("something_hurt", "child_asked_to_talk"); `ended_early`: the child chose to stop.
    """

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id")
    mode: str = Field(default="self", max_length=16)
    answers: str | None = Field(default=None, sa_type=EncryptedText)
    choices: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    alerts: list[str] = Field(default_factory=list, sa_type=JSON)
    ended_early: bool = False
    created_at: datetime = _created()


class AuditEvent(SQLModel, table=True):
    """Who did or read what; never the sensitive content itself."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _created()
    actor_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    action: str = Field(max_length=64, index=True)
    object_type: str | None = Field(default=None, max_length=32)
    object_id: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


# --- Telegram transport (ids only, never content) ----------------------------------------------


class ChatMessage(SQLModel, table=True):
    """A Telegram message that belongs to a conversation, so its Q&A can be deleted after submit."""

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    chat_id: int = Field(sa_type=sa.BigInteger)
    message_id: int = Field(sa_type=sa.BigInteger)
    question_id: str | None = Field(default=None, max_length=64)
    from_bot: bool = True
    created_at: datetime = _created()


class ProcessedUpdate(SQLModel, table=True):
    """A Telegram update already handled: Telegram re-sends updates it thinks were missed."""

    update_id: int = Field(
        sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=False)
    )
    processed_at: datetime = _created()


# --- keys and retention (storage/keys.py, storage/retention.py) -----------------------------------


class KeyCheck(SQLModel, table=True):
    """A constant encrypted under the key the data is written with, so a wrong key is refused."""

    id: int = Field(default=1, primary_key=True)
    token: str = Field(sa_type=sa.Text)
    created_at: datetime = _created()
    rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RetentionPolicy(SQLModel, table=True):
    """A setting's own retention periods: overrides of the defaults in storage/retention.py."""

    setting_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("setting.id"), primary_key=True,
                            autoincrement=False)
    )
    overrides: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = _created()
