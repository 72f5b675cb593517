"""Data functions for follow-ups: the rows that are the truth about every reminder and nudge.

States: `pending` (waiting for its due time) -> `sending` (claimed by the scheduler leader just
before the Telegram call) -> `sent` (message id recorded). A row leaves the open states as
`cancelled` (the work was done before it was due), `done` (done after it was sent), `superseded`
(a later reminder of the same chain replaces it), `undeliverable` (no Telegram account, or the
person blocked the bot) or `unconfirmed` (the sender died after claiming it, so whether Telegram
got it is unknown; see `reconcile_claimed`).

Every function takes a session and keyword-only arguments and leaves committing to the caller,
except where a docstring says the caller must commit before doing anything slow.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import FollowUp, FollowUpPolicy, Person
from storage.types import utcnow

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
CANCELLED = "cancelled"
DONE = "done"
SUPERSEDED = "superseded"
UNCONFIRMED = "unconfirmed"
UNDELIVERABLE = "undeliverable"

CLOSE_AFTER_SEND = "close:"  # outcome prefix: the work was done while the nudge was being sent

OPEN_STATES = (PENDING, SENDING, SENT, UNCONFIRMED, UNDELIVERABLE)


def add_followup(
    session: Session,
    *,
    kind: str,
    person_id: int,
    due_at: datetime,
    key: str,
    setting_id: int | None = None,
    incident_id: int | None = None,
    deadline_at: datetime | None = None,
    urgent: bool = False,
    detail: dict[str, Any] | None = None,
) -> FollowUp | None:
    """Create a follow-up unless one with this key exists (planning twice changes nothing)."""
    if session.exec(select(FollowUp.id).where(FollowUp.key == key)).first() is not None:
        return None
    row = FollowUp(kind=kind, person_id=person_id, due_at=due_at, key=key, setting_id=setting_id,
                   incident_id=incident_id, deadline_at=deadline_at, urgent=urgent,
                   detail=detail or {})
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # planned at the same moment by another process
        return None
    return row


def get_followup(session: Session, *, followup_id: int) -> FollowUp | None:
    return session.get(FollowUp, followup_id)


def open_followups(
    session: Session,
    *,
    incident_id: int | None = None,
    kinds: Iterable[str] | None = None,
    person_id: int | None = None,
) -> list[FollowUp]:
    """Follow-ups not yet closed, oldest due first."""
    statement = select(FollowUp).where(col(FollowUp.state).in_(OPEN_STATES))
    if incident_id is not None:
        statement = statement.where(FollowUp.incident_id == incident_id)
    if kinds is not None:
        statement = statement.where(col(FollowUp.kind).in_(list(kinds)))
    if person_id is not None:
        statement = statement.where(FollowUp.person_id == person_id)
    return list(session.exec(statement.order_by(col(FollowUp.due_at), col(FollowUp.id))))


def close_open(
    session: Session,
    *,
    incident_id: int | None,
    kinds: Iterable[str],
    person_id: int | None = None,
    outcome: str,
    now: datetime | None = None,
    detail_match: dict[str, Any] | None = None,
) -> int:
    """Close the open follow-ups of some kinds (the work is done): unsent ones are cancelled, sent
    ones done. A row being sent at this moment is left to finish and closed as done afterwards."""
    now = now or utcnow()
    closed = 0
    for row in open_followups(session, incident_id=incident_id, kinds=kinds, person_id=person_id):
        if detail_match and any(row.detail.get(k) != v for k, v in detail_match.items()):
            continue
        if row.state == SENDING:
            row.outcome = f"{CLOSE_AFTER_SEND}{outcome}"
        else:
            row.state = CANCELLED if row.state == PENDING else DONE
            row.closed_at = now
            row.outcome = outcome
        session.add(row)
        closed += 1
    session.flush()
    return closed


def due_candidates(session: Session, *, now: datetime, limit: int = 500) -> list[tuple[FollowUp, int | None]]:
    """Pending follow-ups due by `now` with the recipient's Telegram id; urgent first, then oldest."""
    statement = (
        select(FollowUp, Person.telegram_user_id)
        .join(Person, col(Person.id) == col(FollowUp.person_id))
        .where(FollowUp.state == PENDING, col(FollowUp.due_at) <= now)
        .order_by(col(FollowUp.urgent).desc(), col(FollowUp.due_at), col(FollowUp.id))
        .limit(limit)
    )
    return [(row, chat) for row, chat in session.exec(statement)]


def next_due_at(session: Session) -> datetime | None:
    """When the next pending follow-up falls due."""
    statement = (select(FollowUp.due_at).where(FollowUp.state == PENDING)
                 .order_by(col(FollowUp.due_at)).limit(1))
    return session.exec(statement).first()


def claim(
    session: Session, *, followup_id: int, token: str, claimed_by: str, now: datetime
) -> FollowUp | None:
    """Take a due pending follow-up for sending; None if someone else has it or it is not due.

    On PostgreSQL the row is locked with FOR UPDATE SKIP LOCKED, so two senders never wait on or
    take the same row. The caller must commit before sending: the claim is the write-ahead record.
    """
    statement = (
        select(FollowUp)
        .where(FollowUp.id == followup_id, FollowUp.state == PENDING, col(FollowUp.due_at) <= now)
        .with_for_update(skip_locked=True)
    )
    row = session.exec(statement).first()
    if row is None:
        return None
    row.state = SENDING
    row.claim_token = token
    row.claimed_by = claimed_by
    row.claimed_at = now
    row.attempts += 1
    session.add(row)
    session.flush()
    return row


def _claimed(
    session: Session, followup_id: int, token: str, states: tuple[str, ...] = (SENDING,)
) -> FollowUp | None:
    return session.exec(select(FollowUp).where(
        FollowUp.id == followup_id, FollowUp.claim_token == token, col(FollowUp.state).in_(states))
        .with_for_update()).first()


def mark_sent(
    session: Session, *, followup_id: int, token: str, message_id: int | None, now: datetime
) -> bool:
    """Record that Telegram accepted the message (and its id), even if a new leader meanwhile
    marked the row in doubt. One UPDATE: this runs once per nudge sent."""
    closing = col(FollowUp.outcome).like(f"{CLOSE_AFTER_SEND}%")
    statement = (
        sa.update(FollowUp)
        .where(col(FollowUp.id) == followup_id, col(FollowUp.claim_token) == token,
               col(FollowUp.state).in_([SENDING, UNCONFIRMED]))
        .values(telegram_message_id=message_id, sent_at=now,
                state=sa.case((closing, DONE), else_=SENT),
                closed_at=sa.case((closing, now), else_=None))
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def release(
    session: Session, *, followup_id: int, token: str, due_at: datetime, outcome: str
) -> FollowUp | None:
    """Put a claimed follow-up back to pending (Telegram said it was not sent; try again later)."""
    row = _claimed(session, followup_id, token)
    if row is None:
        return None
    row.state = PENDING
    row.due_at = due_at
    row.claim_token = None
    row.claimed_by = None
    row.outcome = outcome
    session.add(row)
    session.flush()
    return row


def finish(
    session: Session, *, followup_id: int, token: str | None, state: str, outcome: str, now: datetime
) -> FollowUp | None:
    """Close a claimed (or, with token None, a pending) follow-up without sending it."""
    if token is None:
        row = session.get(FollowUp, followup_id)
        if row is None or row.state != PENDING:
            return None
    else:
        row = _claimed(session, followup_id, token)
        if row is None:
            return None
    row.state = state
    row.outcome = outcome
    row.closed_at = now
    session.add(row)
    session.flush()
    return row


def reconcile_claimed(session: Session, *, claimed_by: str, now: datetime) -> list[FollowUp]:
    """Settle rows left in `sending` by a sender that died (any claimer but `claimed_by`).

    Telegram's Bot API has no idempotency key, so for such a row we cannot know whether the message
    arrived. The rule: a routine nudge is assumed sent (state `unconfirmed`: never sent twice; it
    stays in /pending and the next reminder of its chain still comes), while a safeguarding alert is
    sent again (never lost; a repeated alert is better than a missing one).
    """
    statement = select(FollowUp).where(
        FollowUp.state == SENDING, col(FollowUp.claimed_by) != claimed_by).with_for_update()
    settled = []
    for row in session.exec(statement):
        if row.urgent:
            row.state = PENDING
            row.detail = {**row.detail, "resent_after_restart": True}
            row.claim_token = None
            row.outcome = "resend_after_restart"
        else:
            row.state = UNCONFIRMED
            row.outcome = "sender_died"
        session.add(row)
        settled.append(row)
    session.flush()
    return settled


def confirm_by_button(
    session: Session, *, followup_id: int, token: str, message_id: int, now: datetime
) -> FollowUp | None:
    """A button of this follow-up was pressed: it certainly arrived, so record its message id."""
    row = session.get(FollowUp, followup_id)
    if row is None or row.claim_token != token:
        return None
    if row.state in (UNCONFIRMED, SENDING):
        row.state = SENT
        row.sent_at = row.sent_at or now
    if row.telegram_message_id is None:
        row.telegram_message_id = message_id
    session.add(row)
    session.flush()
    return row


def counts_by_state(session: Session) -> dict[str, int]:
    statement = select(FollowUp.state, sa.func.count()).group_by(FollowUp.state)
    return {state: int(count) for state, count in session.exec(statement)}


# --- per-setting policy -------------------------------------------------------------------------


def policy_overrides(session: Session, *, setting_id: int) -> dict[str, Any]:
    row = session.get(FollowUpPolicy, setting_id)
    return dict(row.overrides) if row else {}


def set_policy_overrides(session: Session, *, setting_id: int, overrides: dict[str, Any]) -> None:
    """Replace a setting's schedule overrides (validate them first with `Policy.with_overrides`)."""
    row = session.get(FollowUpPolicy, setting_id) or FollowUpPolicy(setting_id=setting_id)
    row.overrides = dict(overrides)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()


def waiting(session: Session, *, kind: str, person_id: int) -> bool:
    """Whether a follow-up of this kind is waiting to be sent to this person."""
    statement = select(FollowUp.id).where(FollowUp.kind == kind, FollowUp.person_id == person_id,
                                          col(FollowUp.state).in_([PENDING, SENDING]))
    return session.exec(statement).first() is not None
