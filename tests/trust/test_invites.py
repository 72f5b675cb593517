"""Invite codes: HMACs under the key, guesses throttled and audited, re-enrolment after revocation.

On SQLite and PostgreSQL: 200 wrong guesses from one account leave an audit row each and stop
being checked after five; another account is not held up; reused and expired codes are audited;
the audit trail answers by person, record and period; a deactivated person's Telegram account can
be enrolled again through a new invite.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage import crud
from storage.audit import audit_trail
from storage.config import get_config
from storage.crud import InviteError
from storage.crypto import key_ring
from storage.db import session_scope
from storage.models import Invite, Person, PersonCreate, Role, SettingCreate, SettingKind

NOW = datetime(2026, 3, 29, 0, 59, tzinfo=UTC)  # a minute before the clocks go forward
GUESSER = 7_700_000_001
NEIGHBOUR = 7_700_000_002


def _people(count: int) -> list[int]:
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name="Willow's Rest", kind=SettingKind.secure_children_home))
        assert setting.id is not None
        people = [crud.create_person(session, data=PersonCreate(
            setting_id=setting.id, display_name=f"Niamh O'Leary {i}", role=Role.manager))
            for i in range(count)]
        return [p.id for p in people if p.id is not None]


def _invite(person_id: int, *, now: datetime = NOW) -> str:
    with session_scope() as session:
        return crud.create_invite(session, person_id=person_id, ttl=timedelta(hours=72), now=now)


def _redeem(code: str, account: int, *, now: datetime = NOW) -> str:
    """Redeem as the bot does (refusals committed); returns 'ok' or the refusal shown."""
    with session_scope() as session:
        try:
            crud.redeem_invite(session, code=code, telegram_user_id=account, now=now)
        except InviteError as exc:
            return str(exc)
    return "ok"


def _actions(**filters: object) -> list[str]:
    with session_scope() as session:
        return [e.action for e in audit_trail(session, **filters)]  # type: ignore[arg-type]


def test_codes_are_stored_as_an_hmac_under_the_key(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch, flourish_env: dict[str, str]
) -> None:
    (person,) = _people(1)
    code = _invite(person)
    with session_scope() as session:
        stored = session.exec(select(Invite.code_hash)).one()
    assert stored != hashlib.sha256(code.encode()).hexdigest()
    assert code not in stored
    # The same code under another key would be stored differently: the key is part of it.
    from cryptography.fernet import Fernet

    monkeypatch.setenv("FLOURISH_SECRET_KEY", Fernet.generate_key().decode())
    get_config.cache_clear()
    key_ring.cache_clear()
    from storage.invite_codes import code_digest

    assert code_digest(code) != stored
    monkeypatch.setenv("FLOURISH_SECRET_KEY", flourish_env["FLOURISH_SECRET_KEY"])
    get_config.cache_clear()
    assert _redeem(f"  {code.lower()} ", GUESSER) == "ok"


def test_wrong_guesses_are_throttled_per_account_and_every_refusal_is_audited(
    db_engine: Engine,
) -> None:
    first, second = _people(2)
    code = _invite(first)
    replies = [_redeem(f"WRONG{i:05d}", GUESSER, now=NOW + timedelta(seconds=i))
               for i in range(200)]
    assert all("isn't one I know" in r for r in replies[:5])
    assert all("Too many codes" in r for r in replies[5:])
    assert "Too many codes" in _redeem(code, GUESSER, now=NOW + timedelta(minutes=5))
    actions = _actions(object_type="invite")
    assert actions.count("invite_unknown") == 5
    assert actions.count("invite_throttled") == 1  # the flood, counted in one row
    with session_scope() as session:
        throttled = audit_trail(session, action="invite_throttled")[0].detail
    assert (throttled["telegram_user_id"], throttled["count"]) == (GUESSER, 196)
    assert _redeem(_invite(second), NEIGHBOUR, now=NOW + timedelta(minutes=6)) == "ok"
    # An hour after the fifth wrong guess the account may try again, and its right code works.
    assert _redeem(code, GUESSER, now=NOW + timedelta(minutes=61)) == "ok"
    assert "already been used" in _redeem(code, NEIGHBOUR, now=NOW + timedelta(minutes=62))
    late = _invite(second, now=NOW - timedelta(days=4))
    assert "expired" in _redeem(late, NEIGHBOUR, now=NOW + timedelta(minutes=63))
    tail = _actions(since=NOW + timedelta(minutes=60))
    assert tail == ["enrolled", "invite_reused", "invite_expired"]
    assert _actions(person_id=first) == ["enrolled"]
    assert _actions(person_id=second) == ["enrolled"]
    with session_scope() as session:
        for event in audit_trail(session, action="invite_"):
            assert set(event.detail) - {"count", "last_at"} == {"telegram_user_id"}  # no code


def test_a_deactivated_persons_account_can_be_enrolled_again_through_a_new_invite(
    db_engine: Engine,
) -> None:
    leaver, returner = _people(2)
    assert _redeem(_invite(leaver), GUESSER) == "ok"
    with session_scope() as session:
        person = session.get(Person, leaver)
        assert person is not None
        person.active = False
        session.add(person)
    assert _redeem(_invite(returner), GUESSER) == "ok"
    with session_scope() as session:
        assert crud.person_by_telegram_id(session, telegram_user_id=GUESSER) is not None
        found = crud.person_by_telegram_id(session, telegram_user_id=GUESSER)
        assert found is not None
        assert found.id == returner
        old = session.get(Person, leaver)
        assert old is not None
        assert old.telegram_user_id is None
