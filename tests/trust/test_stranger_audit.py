"""A flood of messages from people who are not enrolled cannot fill the audit trail: one row per
Telegram account (and kind of refusal) per ten minutes, counting every message, keeping the
distinct kinds of thing tried (bounded); another account, a group chat, or the next window each
get their own row. On SQLite and PostgreSQL, one transaction per message as the bot does it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from storage import crud
from storage.accounts import record_stranger, revoke_person
from storage.audit import MAX_LISTED, REPEAT_WINDOW, audit_trail
from storage.db import session_scope
from storage.models import AuditEvent, PersonCreate, Role, SettingCreate, SettingKind

FLOODER = 8_100_000_457
OTHER = 8_100_000_981
NEAR_MIDNIGHT = datetime.fromisoformat("2026-10-25T00:55:00+00:00")  # the night the clocks go back


def _refuse(telegram_user_id: int, attempted: str, at: datetime, chat_type: str = "private") -> None:
    with session_scope() as session:
        record_stranger(session, telegram_user_id=telegram_user_id, attempted=attempted,
                        chat_type=chat_type, now=at)


def _rows() -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))  # type: ignore[arg-type]


def test_a_flood_from_one_account_is_one_counted_row_per_window(db_engine: Engine) -> None:
    kinds = ["message", "button", "command /debrief", "command /review", "other update",
             *[f"command /guess{n}" for n in range(30)]]
    for n in range(120):
        _refuse(FLOODER, kinds[n % len(kinds)], NEAR_MIDNIGHT + timedelta(seconds=n))
    _refuse(OTHER, "message", NEAR_MIDNIGHT + timedelta(seconds=5))
    _refuse(FLOODER, "message", NEAR_MIDNIGHT + timedelta(seconds=6), chat_type="group")

    rows = _rows()
    assert [(r.action, r.detail["telegram_user_id"], r.detail["count"]) for r in rows] == [
        ("stranger_refused", FLOODER, 120), ("stranger_refused", OTHER, 1),
        ("group_refused", FLOODER, 1)]
    flood = rows[0].detail
    assert flood["attempted"] == "message"  # the first, as it was
    assert flood["attempts"] == kinds[:MAX_LISTED]  # the distinct kinds, bounded
    assert flood["last_at"] == (NEAR_MIDNIGHT + timedelta(seconds=119)).isoformat()
    assert rows[0].at.replace(tzinfo=None) == NEAR_MIDNIGHT.replace(tzinfo=None)

    # once the window from the first row has passed, the flood starts a new row
    later = NEAR_MIDNIGHT + REPEAT_WINDOW + timedelta(seconds=1)
    for n in range(20):
        _refuse(FLOODER, "message", later + timedelta(seconds=n))
    rows = _rows()
    assert [r.detail["count"] for r in rows if r.detail["telegram_user_id"] == FLOODER
            and r.action == "stranger_refused"] == [120, 20]
    with session_scope() as session:  # and `flourish admin audit` shows them as they are
        shown = audit_trail(session, action="stranger_refused")
    assert len(shown) == 3


def test_a_revoked_persons_refusals_are_counted_apart_from_before(db_engine: Engine) -> None:
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name="St Brigid's School", kind=SettingKind.residential_special_school))
        person = crud.create_person(session, data=PersonCreate(
            setting_id=setting.id or 0, display_name="Declan O'Connor", role=Role.manager))
        person.telegram_user_id = FLOODER
        session.add(person)
        session.flush()
        person_id = person.id
        assert person_id is not None
        revoke_person(session, person_id=person_id, reason="left")
    _refuse(FLOODER, "command /review", NEAR_MIDNIGHT)
    _refuse(FLOODER, "button", NEAR_MIDNIGHT + timedelta(minutes=9, seconds=59))
    refusals = [r for r in _rows() if r.action == "stranger_refused"]
    assert [(r.object_id, r.detail["revoked"], r.detail["count"], r.detail["attempts"])
            for r in refusals] == [(person_id, True, 2, ["command /review", "button"])]
