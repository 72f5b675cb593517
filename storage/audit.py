"""The audit trail: `record_audit` writes who did or read what (never the content),
`record_repeated` counts a flood of the same thing from one account in one row, and
`audit_trail` reads it back, filtered by person, record and period — the one query behind
`flourish admin audit`, so an inspector's or a DPO's question has one answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, or_, select

from storage.models import AuditEvent
from storage.types import utcnow

# Repeats of one thing from one account (a flood) are counted in one row per window, listing at
# most this many distinct values (say, the kinds of thing tried).
REPEAT_WINDOW = timedelta(minutes=10)
MAX_LISTED = 12


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


def record_repeated(
    session: Session,
    *,
    action: str,
    match: dict[str, Any],
    now: datetime,
    actor_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Audit something that can come in a flood (a stranger's messages, guesses while throttled):
    within `REPEAT_WINDOW` of a row of this action whose detail has `match`, count it in that row
    (`count`, `last_at`, new values of `detail`'s lists added, at most `MAX_LISTED`); otherwise
    start a row with a count of 1. A flood from one account is one row per window."""
    extra = detail or {}
    recent = session.exec(select(AuditEvent).where(
        AuditEvent.action == action, col(AuditEvent.at) > now - REPEAT_WINDOW)
        .order_by(col(AuditEvent.id).desc()))
    for event in recent:
        if all(event.detail.get(key) == value for key, value in match.items()):
            merged = dict(event.detail)
            for key, values in extra.items():
                if isinstance(values, list):
                    known = list(merged.get(key) or [])
                    merged[key] = (known + [v for v in values if v not in known])[:MAX_LISTED]
            merged["count"] = int(merged.get("count", 1)) + 1
            merged["last_at"] = now.isoformat()
            event.detail = merged  # a new dict, so the change is saved
            session.add(event)
            return event
    return record_audit(session, actor_id=actor_id, action=action, object_type=object_type,
                        object_id=object_id, at=now, detail={**match, **extra, "count": 1})


def audit_trail(
    session: Session,
    *,
    person_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    limit: int = 1000,
) -> list[AuditEvent]:
    """Audit events, oldest first: by or about a person, about a record, within a period."""
    statement = select(AuditEvent)
    if person_id is not None:
        statement = statement.where(or_(
            AuditEvent.actor_id == person_id,
            (col(AuditEvent.object_type) == "person") & (col(AuditEvent.object_id) == person_id)))
    if object_type is not None:
        statement = statement.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        statement = statement.where(AuditEvent.object_id == object_id)
    if since is not None:
        statement = statement.where(col(AuditEvent.at) >= since)
    if until is not None:
        statement = statement.where(col(AuditEvent.at) < until)
    if action is not None:
        statement = statement.where(col(AuditEvent.action).startswith(action))
    return list(session.exec(statement.order_by(col(AuditEvent.at), col(AuditEvent.id))
                             .limit(limit)))


def audited(session: Session, *, action: str, object_id: int, detail: dict[str, Any]) -> bool:
    """Whether this exact event is already in the audit trail (to do something once)."""
    details = session.exec(select(AuditEvent.detail).where(
        AuditEvent.action == action, AuditEvent.object_id == object_id))
    return any(found == detail for found in details)
