"""Conversations: where each person is in a flow, the Telegram updates already processed, and
the chat messages that belong to a conversation (ids, never text)."""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from storage.models import (
    ChatMessage,
    Conversation,
    ProcessedUpdate,
)
from storage.types import utcnow


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


def lock_chat(session: Session, *, chat_id: int) -> None:
    """Hold this chat's lock until the transaction ends, so its steps run one at a time across
    every worker (PostgreSQL; SQLite has one writer at a time anyway). The key names the database
    and schema, so other databases on the same server never wait for it."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(sa.text(
        "SELECT pg_advisory_xact_lock(hashtextextended('flourish-chat:' || current_database() "
        "|| ':' || current_schema() || ':' || CAST(:chat AS text), 0))"), {"chat": chat_id})


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


def get_conversation(session: Session, *, conversation_id: int | None) -> Conversation | None:
    """A conversation by id."""
    return session.get(Conversation, conversation_id) if conversation_id is not None else None


def conversations_at_summary(
    session: Session, *, flow_id: str, since: datetime
) -> list[tuple[Conversation, str]]:
    """Conversations of a flow still in progress, touched since a time, waiting at the summary
    (with their state), so a restart can show them again."""
    statement = select(Conversation).where(
        Conversation.flow_id == flow_id, col(Conversation.active).is_(True),
        col(Conversation.updated_at) >= since)
    return [(c, c.state) for c in session.exec(statement.order_by(col(Conversation.id)))
            if json.loads(c.state).get("status") == "summary"]
