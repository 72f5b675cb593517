"""Settings, people, children and invite codes: who is who, and where."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from storage.audit import record_audit
from storage.models import (
    Child,
    ChildCreate,
    Invite,
    Person,
    PersonCreate,
    Role,
    Setting,
    SettingCreate,
)
from storage.types import utcnow

DEFAULT_ZONE = "Europe/London"


INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class InviteError(ValueError):
    """An invite code that is unknown, used or expired; the message is safe to show."""


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


def get_setting(session: Session, *, setting_id: int | None) -> Setting | None:
    """A setting by id (None for no id)."""
    return session.get(Setting, setting_id) if setting_id is not None else None


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


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def create_invite(
    session: Session, *, person_id: int, ttl: timedelta, now: datetime | None = None
) -> str:
    """A new single-use code for a person; only its hash is kept."""
    now = now or utcnow()
    code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(10))
    session.add(Invite(code_hash=_hash_code(code), person_id=person_id, expires_at=now + ttl))
    session.flush()
    return code


def redeem_invite(
    session: Session, *, code: str, telegram_user_id: int, now: datetime | None = None
) -> Person:
    """Bind a Telegram user to the invited person, once."""
    now = now or utcnow()
    invite = session.exec(select(Invite).where(Invite.code_hash == _hash_code(code))).first()
    if invite is None:
        raise InviteError("That invite code isn't one I know. Please check it with your manager.")
    if invite.used_at is not None:
        raise InviteError("That invite code has already been used. Please ask for a new one.")
    if invite.expires_at <= now:
        raise InviteError("That invite code has expired. Please ask your manager for a new one.")
    existing = person_by_telegram_id(session, telegram_user_id=telegram_user_id)
    if existing is not None and existing.id != invite.person_id:
        raise InviteError("This Telegram account is already enrolled. Please ask your manager.")
    person = session.get(Person, invite.person_id)
    if person is None or not person.active:
        raise InviteError("That invite is no longer valid. Please ask your manager.")
    invite.used_at = now
    person.telegram_user_id = telegram_user_id
    session.add_all([invite, person])
    record_audit(session, actor_id=person.id, action="enrolled", object_type="person",
                 object_id=person.id)
    session.flush()
    return person


def get_person(session: Session, *, person_id: int | None) -> Person | None:
    """A person by id."""
    return session.get(Person, person_id) if person_id is not None else None


def get_child(session: Session, *, child_id: int | None) -> Child | None:
    """A child by id."""
    return session.get(Child, child_id) if child_id is not None else None


def setting_zone(session: Session, *, setting_id: int | None) -> ZoneInfo:
    """A setting's time zone (Europe/London when the setting is unknown)."""
    setting = session.get(Setting, setting_id) if setting_id is not None else None
    return ZoneInfo(setting.timezone if setting else DEFAULT_ZONE)


def managers(session: Session, *, setting_id: int) -> list[Person]:
    """The managers of a setting, oldest first."""
    return list_people(session, setting_id=setting_id, roles=(Role.manager,))
