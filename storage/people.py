"""Settings, people, children and invite codes: who is who, and where."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, func, select

from storage.audit import record_audit
from storage.invite_codes import (
    MAX_FAILURES,
    candidate_digests,
    code_digest,
    recent_failures,
    record_invite_failure,
)
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


def get_person(session: Session, *, person_id: int | None) -> Person | None:
    """A person by id."""
    return session.get(Person, person_id) if person_id is not None else None


def get_child(session: Session, *, child_id: int | None) -> Child | None:
    """A child by id."""
    return session.get(Child, child_id) if child_id is not None else None


def setting_zone(session: Session, *, setting_id: int | None) -> ZoneInfo:
    """A setting's time zone (Europe/London when the setting is unknown)."""
    setting = session.get(Setting, setting_id) if setting_id is not None else None
    try:
        return ZoneInfo(setting.timezone if setting else DEFAULT_ZONE)
    except (ValueError, ZoneInfoNotFoundError):  # a setting made bad (the follow-ups tell admins)
        return ZoneInfo(DEFAULT_ZONE)


def managers(session: Session, *, setting_id: int) -> list[Person]:
    """The managers of a setting, oldest first."""
    return list_people(session, setting_id=setting_id, roles=(Role.manager,))


def names_in_setting(session: Session, *, setting_id: int) -> tuple[dict[int, str], dict[int, str]]:
    """The display names of a setting's children and people, by id (including those who left)."""
    children = session.exec(select(Child).where(Child.setting_id == setting_id))
    people = session.exec(select(Person).where(Person.setting_id == setting_id))
    return ({c.id: c.display_name for c in children if c.id is not None},
            {p.id: p.display_name for p in people if p.id is not None})


def child_names(session: Session, *, child_ids: Iterable[int]) -> dict[int, str]:
    """The display names of these children, by id."""
    wanted = set(child_ids)
    if not wanted:
        return {}
    rows = session.exec(select(Child).where(col(Child.id).in_(wanted)))
    return {c.id: c.display_name for c in rows if c.id is not None}


def count_children(session: Session, *, setting_id: int) -> int:
    """How many children a setting has now (active ones)."""
    statement = select(func.count()).select_from(Child).where(
        Child.setting_id == setting_id, col(Child.active).is_(True))
    return int(session.exec(statement).one())
