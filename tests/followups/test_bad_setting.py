"""One bad setting never stops the others: a home whose stored time zone is nonsense and whose
managers have all gone, with nudges of its own due, while another home's safeguarding alert is
due. The alert goes out in the same look; the bad rows are set aside, logged without names, and an
admin is told. Real SQLite and PostgreSQL, python-telegram-bot and the Bot API stand-in."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from followup_helpers import MANAGER_1, MANAGER_2, FakeClock, House, sends
from sqlmodel import select
from support.botapi_standin import BotApiStandIn

from bot.followups import planner
from storage import crud
from storage import followups as store
from storage.db import session_scope
from storage.models import FollowUp, PersonCreate, Role, Setting, SettingCreate, SettingKind
from storage.types import utcnow

ADMIN_CHAT = 7007


async def test_a_bad_setting_never_delays_another_settings_safeguarding_alert(
    house: House, standin: BotApiStandIn, make_scheduler: object, caplog: pytest.LogCaptureFixture,
) -> None:
    now = utcnow().replace(microsecond=0)
    with session_scope() as s:
        bad = crud.create_setting(s, data=SettingCreate(name="Mars House",
                                                        kind=SettingKind.children_home))
        assert bad.id is not None
        staff = crud.create_person(s, data=PersonCreate(setting_id=bad.id,
                                                        display_name="Kai O'Test", role=Role.staff))
        staff.telegram_user_id = 7001
        admin = crud.create_person(s, data=PersonCreate(setting_id=house.setting_id,
                                                        display_name="Ari Admin", role=Role.admin))
        admin.telegram_user_id = ADMIN_CHAT
        s.flush()
        assert staff.id is not None
        for number in range(3):  # routine nudges of the bad home, due now
            store.add_followup(s, kind="reflection", person_id=staff.id, setting_id=bad.id,
                               due_at=now - timedelta(minutes=number), key=f"bad:{number}")
        s.flush()
        stored = s.get(Setting, bad.id)
        assert stored is not None
        stored.timezone = "Mars/Olympus"  # made bad behind the CLI's back
        bad_id = bad.id
    with session_scope() as s:  # the good home: a child said something hurt
        planner.raise_alert(s, setting_id=house.setting_id, incident_id=None,
                            reasons=["something_hurt"], key="good:alert", now=now)
    with session_scope() as s:  # the bad home, with no manager, has an alert too
        planner.raise_alert(s, setting_id=bad_id, incident_id=None,
                            reasons=["child_asked_to_talk"], key="bad:alert", now=now)
    scheduler = make_scheduler(FakeClock(now))  # type: ignore[operator]
    with caplog.at_level(logging.WARNING):
        await scheduler.tick()
    alerts = sorted(int(c.params["chat_id"]) for c in sends(standin)
                    if "Safeguarding alert" in c.params["text"])
    assert alerts == [MANAGER_1, MANAGER_2, ADMIN_CHAT]
    to_admin = [c.params["text"] for c in sends(standin) if int(c.params["chat_id"]) == ADMIN_CHAT]
    (alert,) = [t for t in to_admin if t.startswith("Safeguarding alert")]
    assert "the child asked to talk to someone" in alert  # no manager there: an admin hears it
    (told,) = [t for t in to_admin if t.startswith("Admin:")]
    assert told.startswith(f"Admin: setting {bad_id} has a setting that stops its follow-ups")
    assert "time zone" in told
    assert "flourish admin edit-setting" in told
    with session_scope() as s:
        rows = list(s.exec(select(FollowUp).where(FollowUp.setting_id == bad_id)))
    routine = [r for r in rows if not r.urgent]
    assert {r.state for r in routine} == {"pending"}  # kept, to go once the setting is mended
    assert all(r.due_at > now for r in routine)
    assert "Mars House" not in caplog.text
    assert "Kai" not in caplog.text
    assert f"setting {bad_id}" in caplog.text

    # A second look does not tell the admin again.
    await scheduler.tick()
    assert len([c for c in sends(standin) if int(c.params["chat_id"]) == ADMIN_CHAT]) == 2
