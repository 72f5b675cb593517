"""Data functions: the only way the rest of Flourish reads and writes the database.

Each takes a session and keyword-only arguments, and leaves committing to the caller's
`session_scope`. Reads of narrative fields for people other than their author are audited.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from storage.incident_flags import merge_incident_flags
from storage.invite_codes import (
    MAX_FAILURES,
    candidate_digests,
    code_digest,
    recent_failures,
    record_invite_failure,
)
from storage.models import (
    Answer,
    AnswerStatus,
    AuditEvent,
    ChatMessage,
    Child,
    ChildCreate,
    Conversation,
    Debrief,
    DebriefStatus,
    Incident,
    IncidentStaff,
    Invite,
    Person,
    PersonCreate,
    ProcessedUpdate,
    Role,
    Setting,
    SettingCreate,
)
from storage.types import utcnow

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class InviteError(ValueError):
    """An invite code that is unknown, used or expired; the message is safe to show."""


# --- settings, people, children -----------------------------------------------------------------


def create_setting(session: Session, *, data: SettingCreate) -> Setting:
    setting = Setting.model_validate(data)
    session.add(setting)
    session.flush()
    return setting


def create_person(session: Session, *, data: PersonCreate) -> Person:
    person = Person.model_validate(data)
    session.add(person)
    session.flush()
    return person


def create_child(session: Session, *, data: ChildCreate) -> Child:
    child = Child.model_validate(data)
    session.add(child)
    session.flush()
    return child


def get_setting(session: Session, *, setting_id: int) -> Setting | None:
    return session.get(Setting, setting_id)


def person_by_telegram_id(session: Session, *, telegram_user_id: int) -> Person | None:
    statement = select(Person).where(
        Person.telegram_user_id == telegram_user_id, col(Person.active).is_(True)
    )
    return session.exec(statement).first()


def list_settings(session: Session) -> list[Setting]:
    return list(session.exec(select(Setting).order_by(col(Setting.id))))


def list_children(session: Session, *, setting_id: int) -> list[Child]:
    statement = select(Child).where(Child.setting_id == setting_id, col(Child.active).is_(True))
    return list(session.exec(statement.order_by(col(Child.id))))


def list_people(
    session: Session, *, setting_id: int, roles: tuple[Role, ...] | None = None
) -> list[Person]:
    statement = select(Person).where(Person.setting_id == setting_id, col(Person.active).is_(True))
    if roles:
        statement = statement.where(col(Person.role).in_([r.value for r in roles]))
    return list(session.exec(statement.order_by(col(Person.id))))


# --- invites ------------------------------------------------------------------------------------


def create_invite(
    session: Session, *, person_id: int, ttl: timedelta, now: datetime | None = None
) -> str:
    """A new single-use code for a person; only its HMAC is kept."""
    now = now or utcnow()
    code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(10))
    session.add(Invite(code_hash=code_digest(code), person_id=person_id, expires_at=now + ttl))
    session.flush()
    return code


def redeem_invite(
    session: Session, *, code: str, telegram_user_id: int, now: datetime | None = None
) -> Person:
    """Bind a Telegram user to the invited person, once; every refusal is audited."""
    now = now or utcnow()

    def refuse(action: str, message: str, invite_id: int | None = None) -> InviteError:
        record_invite_failure(session, action=action, telegram_user_id=telegram_user_id,
                              invite_id=invite_id, at=now)
        return InviteError(message)

    if recent_failures(session, telegram_user_id=telegram_user_id, now=now) >= MAX_FAILURES:
        raise refuse("invite_throttled", "Too many codes have been tried from this account. "
                     "Please wait an hour, then check the code with your manager.")
    invite = session.exec(select(Invite).where(
        col(Invite.code_hash).in_(candidate_digests(code)))).first()
    if invite is None:
        raise refuse("invite_unknown",
                     "That invite code isn't one I know. Please check it with your manager.")
    if invite.used_at is not None:
        raise refuse("invite_reused", "That invite code has already been used. "
                     "Please ask for a new one.", invite.id)
    if invite.expires_at <= now:
        raise refuse("invite_expired", "That invite code has expired. "
                     "Please ask your manager for a new one.", invite.id)
    existing = person_by_telegram_id(session, telegram_user_id=telegram_user_id)
    if existing is not None and existing.id != invite.person_id:
        raise refuse("invite_account_in_use", "This Telegram account is already enrolled. "
                     "Please ask your manager.", invite.id)
    person = session.get(Person, invite.person_id)
    if person is None or not person.active:
        raise refuse("invite_person_inactive",
                     "That invite is no longer valid. Please ask your manager.", invite.id)
    for former in session.exec(select(Person).where(  # a revoked record still holds the account
            Person.telegram_user_id == telegram_user_id, col(Person.active).is_(False))):
        former.telegram_user_id = None
        session.add(former)
    session.flush()
    invite.used_at = now
    person.telegram_user_id = telegram_user_id
    session.add_all([invite, person])
    record_audit(session, actor_id=person.id, action="enrolled", object_type="person",
                 object_id=person.id, at=now)
    session.flush()
    return person


# --- conversations ------------------------------------------------------------------------------


def active_conversation(
    session: Session, *, person_id: int, flow_id: str | None = None
) -> Conversation | None:
    """The person's conversation in progress (not paused, not finished), touched last; in one
    flow, if given."""
    statement = select(Conversation).where(
        Conversation.person_id == person_id, col(Conversation.active).is_(True)
    )
    if flow_id is not None:
        statement = statement.where(Conversation.flow_id == flow_id)
    order = (col(Conversation.updated_at).desc(), col(Conversation.id).desc())
    return session.exec(statement.order_by(*order)).first()


def last_conversation(
    session: Session, *, person_id: int, flow_id: str | None = None
) -> Conversation | None:
    """The person's conversation touched last, in progress, paused or finished; in one flow, if given."""
    statement = select(Conversation).where(Conversation.person_id == person_id)
    if flow_id is not None:
        statement = statement.where(Conversation.flow_id == flow_id)
    order = (col(Conversation.updated_at).desc(), col(Conversation.id).desc())
    return session.exec(statement.order_by(*order)).first()


def save_conversation(
    session: Session, *, conversation: Conversation, state_json: str, active: bool
) -> Conversation:
    conversation.state = state_json
    conversation.active = active
    conversation.version += 1
    conversation.updated_at = utcnow()
    session.add(conversation)
    session.flush()
    return conversation


# --- incidents and debriefs ---------------------------------------------------------------------


def create_incident(
    session: Session,
    *,
    setting_id: int,
    child_id: int,
    occurred_at: datetime,
    reported_by_id: int,
    staff_ids: list[int],
) -> Incident:
    incident = Incident(setting_id=setting_id, child_id=child_id, occurred_at=occurred_at,
                        reported_by_id=reported_by_id)
    session.add(incident)
    session.flush()
    assert incident.id is not None
    for person_id in dict.fromkeys([reported_by_id, *staff_ids]):
        session.add(IncidentStaff(incident_id=incident.id, person_id=person_id))
    session.flush()
    return incident


def save_debrief(
    session: Session,
    *,
    incident: Incident,
    person_id: int,
    flow_id: str,
    answers: list[dict[str, Any]],
    flags: list[str],
) -> Debrief:
    """Store a submitted debrief and its answers, and merge its flags into the incident's."""
    assert incident.id is not None
    debrief = Debrief(incident_id=incident.id, person_id=person_id, flow_id=flow_id,
                      status=DebriefStatus.submitted, submitted_at=utcnow())
    session.add(debrief)
    session.flush()
    assert debrief.id is not None
    for item in answers:
        session.add(Answer(debrief_id=debrief.id, question_id=item["question_id"],
                           status=AnswerStatus(item["status"]), value=item.get("value"),
                           text=item.get("text"), source=item.get("source", "user")))
    merge_incident_flags(session, incident_id=incident.id, flags=flags)
    record_audit(session, actor_id=person_id, action="debrief_submitted", object_type="debrief",
                 object_id=debrief.id)
    session.flush()
    return debrief


def pending_debrief_incidents(session: Session, *, person_id: int) -> list[Incident]:
    """Incidents this person was involved in and has not yet debriefed."""
    done = select(Debrief.incident_id).where(
        Debrief.person_id == person_id, Debrief.status == DebriefStatus.submitted
    )
    statement = (
        select(Incident)
        .join(IncidentStaff, col(IncidentStaff.incident_id) == col(Incident.id))
        .where(IncidentStaff.person_id == person_id, col(Incident.id).not_in(done))
        .order_by(col(Incident.occurred_at))
    )
    return list(session.exec(statement))


def incidents_for_export(session: Session, *, setting_id: int | None = None) -> list[Incident]:
    statement = select(Incident).order_by(col(Incident.occurred_at))
    if setting_id is not None:
        statement = statement.where(Incident.setting_id == setting_id)
    return list(session.exec(statement))


def debriefs_of(session: Session, *, incident_id: int) -> list[Debrief]:
    statement = select(Debrief).where(
        Debrief.incident_id == incident_id, Debrief.status == DebriefStatus.submitted
    )
    return list(session.exec(statement.order_by(col(Debrief.id))))


def answers_of(session: Session, *, debrief_id: int) -> list[Answer]:
    statement = select(Answer).where(Answer.debrief_id == debrief_id)
    return list(session.exec(statement.order_by(col(Answer.id))))


def staff_of(session: Session, *, incident_id: int) -> list[int]:
    statement = select(IncidentStaff.person_id).where(IncidentStaff.incident_id == incident_id)
    return list(session.exec(statement))


# --- audit --------------------------------------------------------------------------------------


def record_audit(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    object_type: str | None = None,
    object_id: int | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Note who did or read what (never the content itself)."""
    event = AuditEvent(at=at or utcnow(), actor_id=actor_id, action=action,
                       object_type=object_type, object_id=object_id, detail=detail or {})
    session.add(event)
    return event


# --- Telegram transport: processed updates and message ids (never content) ------------------------


def update_seen(session: Session, *, update_id: int) -> bool:
    """Whether this Telegram update has already been processed."""
    return session.get(ProcessedUpdate, update_id) is not None


def claim_update(session: Session, *, update_id: int) -> bool:
    """Record an update as processed, in the caller's transaction; False if it already was."""
    if update_seen(session, update_id=update_id):
        return False
    try:
        with session.begin_nested():
            session.add(ProcessedUpdate(update_id=update_id))
    except IntegrityError:
        return False
    return True


def prune_updates(session: Session, *, older_than: datetime) -> int:
    """Forget processed update ids older than a time (Telegram keeps updates for 24 hours)."""
    result = session.exec(delete(ProcessedUpdate).where(
        col(ProcessedUpdate.processed_at) < older_than))
    return int(result.rowcount or 0)


def track_message(
    session: Session,
    *,
    conversation_id: int,
    chat_id: int,
    message_id: int,
    question_id: str | None = None,
    from_bot: bool = True,
) -> None:
    """Remember a chat message that belongs to a conversation (its id, not its text)."""
    session.add(ChatMessage(conversation_id=conversation_id, chat_id=chat_id,
                            message_id=message_id, question_id=question_id, from_bot=from_bot))
    session.flush()


def last_question_message(
    session: Session, *, conversation_id: int, question_id: str
) -> ChatMessage | None:
    """The message last sent for a question of a conversation, to edit it in place."""
    statement = select(ChatMessage).where(
        ChatMessage.conversation_id == conversation_id, ChatMessage.question_id == question_id,
        col(ChatMessage.from_bot).is_(True))
    return session.exec(statement.order_by(col(ChatMessage.id).desc())).first()


def conversation_messages(session: Session, *, conversation_id: int) -> list[ChatMessage]:
    """Every tracked message of a conversation, oldest first."""
    statement = select(ChatMessage).where(ChatMessage.conversation_id == conversation_id)
    return list(session.exec(statement.order_by(col(ChatMessage.id))))


def forget_messages(session: Session, *, conversation_id: int) -> None:
    """Drop a conversation's tracked message ids (after the messages are deleted or kept)."""
    session.exec(delete(ChatMessage).where(
        col(ChatMessage.conversation_id) == conversation_id))


def finished_conversations_with_messages(session: Session) -> list[int]:
    """Conversations not in progress (submitted, cancelled or paused: the caller tells them apart)
    whose chat messages are still tracked (a crash came between a submit and its clean-up)."""
    statement = (
        select(ChatMessage.conversation_id)
        .join(Conversation, col(Conversation.id) == col(ChatMessage.conversation_id))
        .where(col(Conversation.active).is_(False))
        .distinct()
    )
    return list(session.exec(statement))
