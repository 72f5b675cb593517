"""Pytest fixtures for testing the bot through python-telegram-bot against the Bot API stand-in.

Use them from any test directory's conftest.py:

    from support.telegram_fixtures import *  # noqa: F403  (standin, telegram_env, running_app...)

- `standin`: a started `BotApiStandIn` on 127.0.0.1 (a free port).
- `telegram_env`: `flourish_env` (a fresh migrated database, SQLite and PostgreSQL) plus
  TELEGRAM_BOT_TOKEN / TELEGRAM_BASE_URL pointing at the stand-in; the dict is a subprocess env.
- `home`: a setting with two staff, a manager and two children (synthetic names).
- `running_app`: the real `build_application(...)` (interpreter=None), polling the stand-in.
- `run_application(app)`: the same, as an async context manager, for your own app or extensions.
- `enrol(standin, person_id, user_id)`: an enrolled `FakeUser` (through a real /start <code>).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from telegram import Update

from storage import crud
from storage.config import Config, get_config
from storage.db import get_engine, session_scope
from storage.models import ChildCreate, PersonCreate, Role, SettingCreate, SettingKind
from support.botapi_standin import TOKEN, BotApiStandIn, Call, FakeUser

__all__ = ["Home", "enrol", "home", "invite", "run_application", "running_app", "settle",
           "standin", "telegram_config", "telegram_env"]


@pytest.fixture
def standin() -> Iterator[BotApiStandIn]:
    """A Bot API stand-in server, started for the test and stopped after it."""
    with BotApiStandIn() as api:
        yield api


@pytest.fixture
def telegram_env(flourish_env: dict[str, str], standin: BotApiStandIn,
                 monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The Flourish environment with the bot token and the stand-in's URL set."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_BASE_URL", standin.url)
    get_config.cache_clear()
    return {**flourish_env, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": standin.url}


@pytest.fixture
def telegram_config(telegram_env: dict[str, str]) -> Config:
    return get_config()


@dataclass
class Home:
    """A synthetic setting: ids of its staff, manager and children."""

    setting_id: int
    staff: list[int]
    manager: int
    children: list[int]


@pytest.fixture
def home(telegram_env: dict[str, str]) -> Home:
    """A children's home with two staff, a manager and two children, all synthetic."""
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name="Test House", kind=SettingKind.children_home))
        assert setting.id is not None
        staff = [crud.create_person(session, data=PersonCreate(
            setting_id=setting.id, display_name=name, role=Role.staff)).id
            for name in ("Sam Test", "Lee Test")]
        manager = crud.create_person(session, data=PersonCreate(
            setting_id=setting.id, display_name="Pat Test", role=Role.manager)).id
        children = [crud.create_child(session, data=ChildCreate(
            setting_id=setting.id, display_name=name)).id for name in ("Robin T", "Kit T")]
    assert manager is not None
    return Home(setting.id, [s for s in staff if s], manager, [c for c in children if c])


def invite(person_id: int, *, ttl: timedelta = timedelta(hours=72)) -> str:
    """A fresh invite code for a person."""
    with session_scope() as session:
        return crud.create_invite(session, person_id=person_id, ttl=ttl)


@asynccontextmanager
async def run_application(app: Any, api: BotApiStandIn | None = None) -> AsyncIterator[Any]:
    """Run a built Application (post_init included) polling its Bot API until the block ends.

    With `api`, the stand-in is told when each update has been fully handled, so `settle` waits
    for exactly that instead of for a quiet spell.
    """
    if api is not None:
        original = app.process_update

        async def process_update(update: object) -> None:
            try:
                await original(update)
            finally:
                if isinstance(update, Update):
                    api.note_processed(update.update_id)

        app.process_update = process_update
        api.watching_processing = True
    async with app:
        if app.post_init is not None:
            await app.post_init(app)
        await app.updater.start_polling(poll_interval=0.0, timeout=1,
                                        allowed_updates=Update.ALL_TYPES)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)


@pytest.fixture
async def running_app(telegram_config: Config, home: Home,
                      standin: BotApiStandIn) -> AsyncIterator[Any]:
    """The real bot application, without NLU, polling the stand-in."""
    from bot.telegram import build_application

    app = build_application(config=telegram_config, interpreter=None, engine=get_engine())
    async with run_application(app, standin) as running:
        yield running


def _is_reply(call: Call) -> bool:
    return call.method not in ("getUpdates", "answerCallbackQuery", "getMe", "deleteWebhook",
                               "getWebhookInfo")


async def settle(api: BotApiStandIn, mark: int, *, quiet: float = 0.1,
                 within: float = 60.0) -> list[Call]:
    """Wait until the bot has finished every update offered since `mark`, then for `quiet`
    seconds of silence; return the calls it made since `mark`.

    An in-process bot started by `run_application(app, api)` reports each finished update. For a
    bot in another process, the update's processed record in the database and a longer quiet
    spell stand in for that; without injected updates, it waits for an answer and quiet.
    """
    ids = api.injected_since(mark)
    deadline = time.monotonic() + within
    if ids and api.watching_processing:
        while not set(ids) <= api.processed:
            if time.monotonic() > deadline:
                raise AssertionError(f"updates {ids} were not processed; calls: "
                                     f"{[c.method for c in api.since(mark)]}")
            await asyncio.sleep(0.01)
    elif ids:
        while not await asyncio.to_thread(_all_processed, ids):
            if time.monotonic() > deadline:
                raise AssertionError(f"updates {ids} were not processed; calls: "
                                     f"{[c.method for c in api.since(mark)]}")
            await asyncio.sleep(0.02)
        await api.await_for(_is_reply, since=mark, within=within)
        quiet = max(quiet, 0.4)
    else:
        await api.await_for(_is_reply, since=mark, within=within)
        quiet = max(quiet, 0.4)
    await api.await_idle(quiet=quiet, within=within)
    return [c for c in api.since(mark) if _is_reply(c)]


def _all_processed(update_ids: list[int]) -> bool:
    with session_scope() as session:
        return all(crud.update_seen(session, update_id=u) for u in update_ids)


async def enrol(api: BotApiStandIn, person_id: int, user_id: int, name: str = "Test") -> FakeUser:
    """A Telegram user enrolled as `person_id` through a real `/start <code>`."""
    user = api.user(user_id, name)
    mark = api.mark()
    user.send(f"/start {invite(person_id)}")
    await settle(api, mark)
    return user
