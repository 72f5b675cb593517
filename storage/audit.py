"""The audit table: who read or tried to open what, and when."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from storage.models import (
    AuditEvent,
)


def record_audit(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    object_type: str | None = None,
    object_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Note who did or read what (never the content itself)."""
    event = AuditEvent(actor_id=actor_id, action=action, object_type=object_type,
                       object_id=object_id, detail=detail or {})
    session.add(event)
    return event
