"""A step that meets a real database lock, end to end through the bot: another connection holds a
write lock on the person's conversation past the lock timeout (SQLite's busy timeout, PostgreSQL's
lock_timeout), so the step gives up; the person is told "that didn't save", every earlier answer
is still there, and sending the same thing again once the lock is gone works."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select
from support.botapi_standin import BotApiStandIn, FakeUser, buttons_of
from support.telegram_fixtures import Home, enrol, settle

from bot.telegram.app import DIDNT_SAVE
from storage.config import get_config
from storage.db import get_engine, session_scope
from storage.models import Conversation

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
def quick_lock_timeout(flourish_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Give up on a held lock after one second (the default is five), before the bot starts."""
    monkeypatch.setenv("DB_LOCK_TIMEOUT_SECONDS", "1")
    get_engine().dispose()
    get_config.cache_clear()
    get_engine.cache_clear()


def _question(user: FakeUser) -> str:
    """The scope of the newest question with answer buttons in the chat."""
    message = [m for m in user.visible() if any("|v:" in b for b in buttons_of(m))][-1]
    return next(b for b in buttons_of(message) if "|v:" in b).split("|")[0]


def _texts(calls: list[Any]) -> list[str]:
    return [str(c.params.get("text", "")) for c in calls if c.method == "sendMessage"]


@pytest.fixture
def held_conversation() -> Iterator[Any]:
    """A function that takes a write lock on a conversation row from another connection and keeps
    it until released (or until the test ends, or 30 s at most)."""
    holders: list[tuple[sa.Connection, sa.Transaction, threading.Timer]] = []

    def hold(conversation_id: int) -> None:
        holder = get_engine().connect()
        transaction = holder.begin()
        holder.execute(sa.text("UPDATE conversation SET updated_at = updated_at WHERE id = :id"),
                       {"id": conversation_id})
        safety = threading.Timer(30, transaction.rollback)  # never hang the suite
        safety.start()
        holders.append((holder, transaction, safety))

    def release() -> None:
        while holders:
            holder, transaction, safety = holders.pop()
            safety.cancel()
            if transaction.is_active:
                transaction.rollback()
            holder.close()

    hold.release = release  # type: ignore[attr-defined]
    yield hold
    release()


async def test_a_step_held_up_by_a_lock_is_told_it_did_not_save_and_loses_nothing(
    quick_lock_timeout: None, standin: BotApiStandIn, running_app: Any, home: Home,
    held_conversation: Any,
) -> None:
    staff = await enrol(standin, home.staff[0], 7_340_118, "Aoife O'Neill")
    mark = standin.mark()
    staff.send("/debrief")
    await settle(standin, mark)
    mark = standin.mark()
    staff.press("wellbeing|v:ok")
    await settle(standin, mark)
    assert _question(staff) == "child"
    with session_scope() as session:
        conversation = session.exec(select(Conversation)).one()
        before = conversation.state
        assert conversation.id is not None
        conversation_id = conversation.id

    held_conversation(conversation_id)
    mark = standin.mark()
    staff.press(f"child|v:{home.children[0]}")
    calls = await settle(standin, mark)
    held_conversation.release()

    assert _texts(calls) == [DIDNT_SAVE]  # once
    assert not any("something went wrong" in t for t in _texts(calls))
    assert _question(staff) == "child"  # the question is still there to answer
    with session_scope() as session:
        after = session.exec(select(Conversation)).one()
    assert after.state == before  # the earlier answers, exactly as they were
    assert '"wellbeing"' in after.state

    mark = standin.mark()
    staff.press(f"child|v:{home.children[0]}")  # the same press again, the lock gone
    await settle(standin, mark)
    assert _question(staff) == "incident_day"
    with session_scope() as session:
        state = session.exec(select(Conversation)).one().state
    assert '"wellbeing"' in state
    assert f'"child":{{"value":"{home.children[0]}","status":"answered"' in state
