"""Helpers for the follow-up tests: a controllable clock, a home enrolled on Telegram, stand-in counts."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from support.botapi_standin import BotApiStandIn, Call

from storage import crud
from storage.db import session_scope
from storage.models import ChildCreate, FollowUp, PersonCreate, Role, SettingCreate, SettingKind

STAFF_1, STAFF_2, MANAGER_1, MANAGER_2 = 1001, 1002, 2001, 2002


@dataclass
class FakeClock:
    """A clock the test moves by hand."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class House:
    """A home whose people are enrolled on Telegram (chat id == Telegram user id)."""

    setting_id: int
    child_id: int
    staff: list[int]
    managers: list[int]
    chat_of: dict[int, int] = field(default_factory=dict)
    person_of: dict[int, int] = field(default_factory=dict)


def make_house(*, quiet: tuple[str, str] = ("21:00", "07:00"), key_worker: bool = True) -> House:
    """Two staff (the second the child's key worker), two managers, one child; synthetic names."""
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name="Test House", kind=SettingKind.children_home, quiet_start=quiet[0],
            quiet_end=quiet[1]))
        assert setting.id is not None
        people = {}
        for chat, name, role in ((STAFF_1, "Sam Test", Role.staff), (STAFF_2, "Lee Test", Role.staff),
                                 (MANAGER_1, "Pat Test", Role.manager),
                                 (MANAGER_2, "Alex Test", Role.manager)):
            person = crud.create_person(session, data=PersonCreate(
                setting_id=setting.id, display_name=name, role=role))
            person.telegram_user_id = chat
            people[chat] = person.id
        child = crud.create_child(session, data=ChildCreate(
            setting_id=setting.id, display_name="Robin T",
            key_worker_id=people[STAFF_2] if key_worker else None))
        assert child.id is not None
        house = House(setting.id, child.id, [people[STAFF_1], people[STAFF_2]],
                      [people[MANAGER_1], people[MANAGER_2]])
    house.chat_of = {pid: chat for chat, pid in people.items() if pid is not None}
    house.person_of = {chat: pid for pid, chat in house.chat_of.items()}
    return house


def sends(api: BotApiStandIn, since: int = 0) -> list[Any]:
    """The sendMessage calls the stand-in has counted (since a mark)."""
    return [c for c in api.since(since) if c.method == "sendMessage"]


def followup_id_of(call: Any) -> int | None:
    """The follow-up id in a nudge's buttons (fu:<action>:<id>:<token>)."""
    for data in call.button_data():
        parts = data.split(":")
        if len(parts) == 4 and parts[0] == "fu":
            return int(parts[2])
    return None


def kind_of(engine: Engine, followup_id: int) -> str:
    with session_scope(engine) as session:
        row = session.get(FollowUp, followup_id)
        assert row is not None
        return row.kind


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


class KillingStandIn(BotApiStandIn):
    """The stand-in, plus: SIGKILL `victim` right after counting its `kill_at`-th sendMessage and
    before answering it, so the bot dies after Telegram accepted a nudge and before it could
    record the message id (the hardest moment for exactly-once)."""

    def __init__(self) -> None:
        super().__init__()
        self.kill_at: int | None = None
        self.victim: subprocess.Popen[bytes] | None = None
        self.killed_after: int | None = None

    def dispatch(self, call: Call) -> tuple[int, dict[str, Any]] | None:
        result = super().dispatch(call)
        if call.method == "sendMessage" and self.kill_at is not None and self.victim is not None:
            count = len(self.calls_of("sendMessage"))
            if count >= self.kill_at and self.victim.poll() is None:
                os.kill(self.victim.pid, signal.SIGKILL)
                self.killed_after = count
                self.kill_at = None
        return result
