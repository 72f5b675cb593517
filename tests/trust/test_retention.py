"""Retention per setting, erasing a person and subject access, on SQLite and PostgreSQL.

Working copies past their period go; the statutory record stays; a setting's own periods apply to
that setting only; an erased person's name, account, invites and conversation copies are gone
while what they recorded about a child is kept; subject access gathers what is held, readable.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from dialogues.engine import State
from storage import crud
from storage.db import session_scope
from storage.models import (
    Answer,
    AuditEvent,
    ChildCreate,
    Conversation,
    Debrief,
    Invite,
    Person,
    PersonCreate,
    Role,
    SettingCreate,
    SettingKind,
)
from storage.retention import (
    RetentionError,
    apply_retention,
    erase_person,
    retention_days,
    set_retention,
    subject_access,
)

NOW = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the night the clocks go back


def _conversation(person_id: int, status: str, age_days: float, *, active: bool = False) -> int:
    with session_scope() as session:
        state = State(flow_id="staff_debrief", flow_version=1, status=status)  # type: ignore[arg-type]
        conversation = Conversation(person_id=person_id, flow_id="staff_debrief",
                                    state=state.model_dump_json(), active=active,
                                    updated_at=NOW - timedelta(days=age_days))
        session.add(conversation)
        session.flush()
        crud.track_message(session, conversation_id=conversation.id or 0, chat_id=-1, message_id=7)
        assert conversation.id is not None
        return conversation.id


def _home(name: str) -> tuple[int, int, int]:
    """A setting with one member of staff and one child; returns their ids."""
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name=name, kind=SettingKind.children_home))
        assert setting.id is not None
        person = crud.create_person(session, data=PersonCreate(
            setting_id=setting.id, display_name="Aoife O'Connell", role=Role.staff))
        child = crud.create_child(session, data=ChildCreate(
            setting_id=setting.id, display_name="Reece D'Angelo"))
        assert person.id is not None
        assert child.id is not None
        return setting.id, person.id, child.id


def _conversation_ids() -> set[int]:
    with session_scope() as session:
        return {c for c in session.exec(select(Conversation.id)) if c is not None}


def test_working_copies_past_their_period_go_and_each_setting_keeps_its_own_periods(
    db_engine: Engine,
) -> None:
    setting_a, staff_a, _ = _home("Hawthorn House")
    setting_b, staff_b, _ = _home("St Brigid's School")
    with session_scope() as session:
        set_retention(session, setting_id=setting_b, kind="finished_conversation", days=7)
        set_retention(session, setting_id=setting_b, kind="invite", days=None)
    keep = {
        _conversation(staff_a, "submitted", 29.9),
        _conversation(staff_a, "paused", 400),  # paused is stored inactive: never a working copy
        _conversation(staff_a, "active", 400, active=True),
        _conversation(staff_b, "submitted", 6.9),
    }
    for person_id, status, age in [(staff_a, "submitted", 30.1), (staff_a, "cancelled", 31),
                                   (staff_b, "submitted", 7.1)]:
        _conversation(person_id, status, age)
    with session_scope() as session:
        for person_id in (staff_a, staff_b):
            crud.create_invite(session, person_id=person_id, ttl=timedelta(hours=72),
                               now=NOW - timedelta(days=120))
            crud.create_invite(session, person_id=person_id, ttl=timedelta(hours=72), now=NOW)
        counts = apply_retention(session, now=NOW)
    assert counts == {"finished_conversation": 2, "cancelled_conversation": 1, "invite": 1,
                      "audit": 0}
    assert _conversation_ids() == keep
    with session_scope() as session:
        invites = list(session.exec(select(Invite.person_id)))
        assert sorted(invites) == sorted([staff_a, staff_b, staff_b])
        assert retention_days(session, setting_id=setting_b)["finished_conversation"] == 7
        assert retention_days(session, setting_id=setting_a)["finished_conversation"] == 30
        assert apply_retention(session, now=NOW) == dict.fromkeys(counts, 0)  # idempotent
    with session_scope() as session, pytest.raises(RetentionError, match="Unknown kind"):
        set_retention(session, setting_id=setting_a, kind="debriefs", days=1)
    with session_scope() as session, pytest.raises(RetentionError, match="at least one day"):
        set_retention(session, setting_id=setting_a, kind="invite", days=0)


def test_erasing_a_person_keeps_the_record_and_subject_access_shows_what_is_held(
    db_engine: Engine,
) -> None:
    setting_id, staff_id, child_id = _home("Hawthorn House")
    with session_scope() as session:
        code = crud.create_invite(session, person_id=staff_id, ttl=timedelta(hours=72))
        crud.redeem_invite(session, code=code, telegram_user_id=8_123_456_789)
        incident = crud.create_incident(session, setting_id=setting_id, child_id=child_id,
                                        occurred_at=NOW, reported_by_id=staff_id, staff_ids=[])
        crud.save_debrief(session, incident=incident, person_id=staff_id, flow_id="staff_debrief",
                          flags=["injury"], answers=[{"question_id": "describe",
                                                      "status": "answered",
                                                      "text": "Reece said 'my wrist hurts'"}])
    paused = _conversation(staff_id, "paused", 2)
    with session_scope() as session:
        held = subject_access(session, person_id=staff_id)
    text = json.dumps(held, default=str)
    assert held["person"]["display_name"] == "Aoife O'Connell"
    assert held["debriefs"][0]["answers"][0]["text"] == "Reece said 'my wrist hurts'"
    assert [c["id"] for c in held["conversations_in_progress"]] == [paused]
    assert "enrolled" in [e["action"] for e in held["audit"]]
    assert "8123456789" not in text  # the account id itself is not needed to answer a request

    with session_scope() as session:
        erase_person(session, person_id=staff_id, actor_id=None)
    with session_scope() as session:
        person = session.get(Person, staff_id)
        assert person is not None
        assert person.display_name == f"Erased person {staff_id}"
        assert person.telegram_user_id is None
        assert not person.active
        assert list(session.exec(select(Conversation))) == []
        assert list(session.exec(select(Invite))) == []
        assert len(list(session.exec(select(Debrief)))) == 1  # the child's record stays
        assert [a.text for a in session.exec(select(Answer))] == ["Reece said 'my wrist hurts'"]
        erased = session.exec(select(AuditEvent).where(AuditEvent.action == "person_erased")).one()
        assert erased.object_id == staff_id
        assert "Aoife" not in json.dumps(subject_access(session, person_id=staff_id), default=str)
    with session_scope() as session, pytest.raises(RetentionError, match="No person 999999"):
        erase_person(session, person_id=999_999, actor_id=None)


class _NoSender:
    """Nothing is due in this test; a send would be a mistake."""

    async def send(self, *, chat_id: int, text: str, buttons: object = None) -> int:
        raise AssertionError("nothing should be sent")


async def test_the_follow_up_leader_applies_retention_once_a_day(db_engine: Engine) -> None:
    from bot.followups.scheduler import FollowUpScheduler

    _, staff, _ = _home("Hawthorn House")
    clock_now = [NOW]
    scheduler = FollowUpScheduler(engine=db_engine, sender=_NoSender(),  # type: ignore[arg-type]
                                  clock=lambda: clock_now[0])
    try:
        first = _conversation(staff, "submitted", 31)
        await scheduler.tick()
        assert first not in _conversation_ids()
        second = _conversation(staff, "submitted", 31)
        clock_now[0] = NOW + timedelta(hours=1)
        await scheduler.tick()
        assert second in _conversation_ids()  # not again within the day
        clock_now[0] = NOW + timedelta(hours=25)
        await scheduler.tick()
        assert second not in _conversation_ids()
    finally:
        scheduler.leadership.release()
