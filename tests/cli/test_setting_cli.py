"""`flourish admin` checks a setting at the door, and `edit-setting` mends one: a time zone the
follow-ups could not use, impossible quiet hours, a key worker or a child invite from another
setting are refused with one clear line and nothing written; a setting made bad is mended."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from storage import crud
from storage.db import session_scope
from storage.models import (
    AuditEvent,
    ChildCreate,
    PersonCreate,
    Role,
    Setting,
    SettingCreate,
    SettingKind,
)

FLOURISH = str(Path(sys.executable).parent / "flourish")


def flourish(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FLOURISH, *args], capture_output=True, text=True, env=env, timeout=120,
                          check=False)


def refused(done: subprocess.CompletedProcess[str], expected: str) -> None:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert expected in done.stderr, done.stderr


def settings() -> list[Setting]:
    with session_scope() as s:
        return crud.list_settings(s)


def test_a_bad_time_zone_or_quiet_hours_are_refused_at_the_door(flourish_env: dict[str, str]) -> None:
    add = ["admin", "add-setting", "--name", "Rowan House", "--kind", "children_home"]
    refused(flourish(flourish_env, *add, "--timezone", "Mars/Olympus"),
            "'Mars/Olympus' is not a time zone name, like Europe/London. Nothing was changed.")
    refused(flourish(flourish_env, *add, "--quiet-start", "25:00"), "Nothing was changed.")
    assert settings() == []
    done = flourish(flourish_env, *add, "--timezone", "Europe/Dublin", "--quiet-start", "22:30")
    assert done.returncode == 0, done.stderr
    (setting,) = settings()
    assert (setting.timezone, setting.quiet_start, setting.quiet_end) == ("Europe/Dublin", "22:30",
                                                                          "07:00")


def test_a_key_worker_and_a_child_invite_must_belong_to_the_setting(
        flourish_env: dict[str, str]) -> None:
    with session_scope() as s:
        here = crud.create_setting(s, data=SettingCreate(name="Hazel House",
                                                         kind=SettingKind.children_home))
        there = crud.create_setting(s, data=SettingCreate(name="Alder School",
                                                          kind=SettingKind.school))
        assert here.id is not None
        assert there.id is not None
        stranger = crud.create_person(s, data=PersonCreate(setting_id=there.id,
                                                           display_name="Noor O'Test",
                                                           role=Role.staff))
        their_child = crud.create_child(s, data=ChildCreate(setting_id=there.id,
                                                            display_name="Jo (test)"))
        here_id, stranger_id, child_id = here.id, stranger.id, their_child.id
    refused(flourish(flourish_env, "admin", "add-child", "--setting", str(here_id), "--name",
                     "Bo (test)", "--key-worker", str(stranger_id)),
            f"No staff member {stranger_id} in setting {here_id} to be the key worker.")
    refused(flourish(flourish_env, "admin", "invite", "--setting", str(here_id), "--role", "child",
                     "--child", str(child_id), "--bot-username", "flourish_test_bot"),
            f"No child {child_id} in setting {here_id}.")
    with session_scope() as s:
        assert crud.list_children(s, setting_id=here_id) == []
        assert crud.list_people(s, setting_id=here_id) == []


def test_edit_setting_mends_a_setting_made_bad_and_refuses_a_bad_change(
        flourish_env: dict[str, str]) -> None:
    with session_scope() as s:
        setting = crud.create_setting(s, data=SettingCreate(name="Elder House",
                                                            kind=SettingKind.children_home))
        setting.timezone = "Mars/Olympus"  # made bad behind the command line's back
        assert setting.id is not None
        setting_id = setting.id
    refused(flourish(flourish_env, "admin", "edit-setting", "--setting", str(setting_id),
                     "--name", "Elder House North"),
            "'Mars/Olympus' is not a time zone name")  # a bad setting must be mended, not kept
    done = flourish(flourish_env, "admin", "edit-setting", "--setting", str(setting_id),
                    "--timezone", "Europe/London", "--name", "Elder House North",
                    "--quiet-start", "22:00", "--keep-chat")
    assert done.returncode == 0, done.stderr
    assert "Changed setting" in done.stdout
    refused(flourish(flourish_env, "admin", "edit-setting", "--setting", str(setting_id),
                     "--timezone", "Europe/Atlantis"), "Nothing was changed.")
    refused(flourish(flourish_env, "admin", "edit-setting", "--setting", "987"), "No setting 987.")
    with session_scope() as s:
        mended = s.get(Setting, setting_id)
        assert mended is not None
        assert (mended.name, mended.timezone, mended.quiet_start, mended.delete_chat_after_submit) \
            == ("Elder House North", "Europe/London", "22:00", False)
        (audit,) = [e for e in s.exec(select(AuditEvent))
                    if e.action == "setting_edited"]
        assert sorted(audit.detail["fields"]) == ["delete_chat_after_submit", "name",
                                                  "quiet_start", "timezone"]
