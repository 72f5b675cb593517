"""People's access, managed by an admin: revoke a leaver, change a role, re-bind an account.

Each takes effect at once, because every update looks the person up again by Telegram account
(only active people are found): a revoked manager's next press is a stranger's. Each is audited,
and so is every message from an account that is not, or no longer, enrolled (counted in one row
per account per ten minutes, so a flood cannot fill the audit trail).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from storage.audit import record_repeated
from storage.crud import create_invite, record_audit
from storage.models import AuditEvent, Person, Role
from storage.types import utcnow


class AccountError(ValueError):
    """An admin request that cannot be done; the message is one line, safe to print."""


def _person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise AccountError(f"No person {person_id}. See `flourish admin list`.")
    return person


def revoke_person(session: Session, *, person_id: int, reason: str = "") -> Person:
    """Switch a person's access off now; their records stay, their account can enrol again."""
    person = _person(session, person_id)
    if not person.active:
        raise AccountError(f"Person {person_id} is already revoked.")
    person.active = False
    session.add(person)
    record_audit(session, actor_id=None, action="person_revoked", object_type="person",
                 object_id=person_id, detail={"by": "admin", "reason": reason[:200]})
    session.flush()
    return person


def change_role(session: Session, *, person_id: int, role: Role) -> Person:
    """Give a person another role (staff, manager, admin); a child stays a child."""
    person = _person(session, person_id)
    if role is Role.child or person.role == Role.child:
        raise AccountError("A child's account cannot change role, and no one can become a child.")
    if not person.active:
        raise AccountError(f"Person {person_id} is revoked: invite them again first.")
    before = str(person.role)
    person.role = role
    session.add(person)
    record_audit(session, actor_id=None, action="role_changed", object_type="person",
                 object_id=person_id, detail={"by": "admin", "from": before, "to": str(role)})
    session.flush()
    return person


def rebind_person(session: Session, *, person_id: int, ttl: timedelta) -> str:
    """Unbind a person's Telegram account (a lost or new phone) and return a new invite code."""
    person = _person(session, person_id)
    if not person.active:
        raise AccountError(f"Person {person_id} is revoked: invite them again first.")
    had_account = person.telegram_user_id is not None
    person.telegram_user_id = None
    session.add(person)
    session.flush()
    record_audit(session, actor_id=None, action="account_unbound", object_type="person",
                 object_id=person_id, detail={"by": "admin", "had_account": had_account})
    assert person.id is not None
    return create_invite(session, person_id=person.id, ttl=ttl)


def record_stranger(session: Session, *, telegram_user_id: int, attempted: str,
                    chat_type: str = "private", now: datetime | None = None) -> AuditEvent:
    """Audit a message or press from an account that is not (or no longer) enrolled, or from
    any account in a group chat (Flourish works in private chats only): one row per account per
    ten minutes, counting each message and listing the kinds of thing tried."""
    person = session.exec(select(Person).where(
        Person.telegram_user_id == telegram_user_id)).first()
    return record_repeated(
        session, action="stranger_refused" if chat_type == "private" else "group_refused",
        match={"telegram_user_id": telegram_user_id, "chat_type": chat_type,
               "revoked": person is not None and not person.active},
        now=now or utcnow(), actor_id=person.id if person and person.active else None,
        object_type="person", object_id=person.id if person else None,
        detail={"attempted": attempted[:64], "attempts": [attempted[:64]]})
