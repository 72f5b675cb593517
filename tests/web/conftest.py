"""Fixtures for the dashboard: a home with incidents in known regulation 35 states, the real
ASGI app served by uvicorn on 127.0.0.1, signed initData, and one headless Chromium per session."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from services.conftest import DEBRIEF_ANSWERS
from sqlalchemy.engine import Engine
from support.botapi_standin import TOKEN
from support.ci import skip_or_fail
from support.debriefs import walk_debrief
from support.telegram_fixtures import standin, telegram_config, telegram_env  # noqa: F401

from bot.web.app import WebConfig, create_app
from bot.web.initdata import sign
from storage import crud
from storage.db import session_scope
from storage.models import ChildCreate, Incident, Person, PersonCreate, Role, SettingCreate, SettingKind
from storage.types import utcnow

T = TypeVar("T")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".screenshots"


@dataclass
class Ward:
    """A children's home with three incidents whose clocks are in known states, and a neighbour."""

    setting_id: int
    manager: Person
    staff: list[Person]
    other_manager: Person
    child_user: Person
    admin: Person
    late: int       # 29.5 h ago: one of two debriefs in (record overdue), review due in 18.5 h
    fresh: int      # 2.5 h ago: every debrief in (record done), review due in 45.5 h
    old: int        # nearly 6 days ago: record done, review and child overdue
    alex_debrief: int


def _person(setting_id: int, name: str, role: Role, **extra: Any) -> Person:
    with session_scope() as s:
        return crud.create_person(s, data=PersonCreate(setting_id=setting_id, display_name=name,
                                                       role=role, **extra))


def move(incident_id: int, *, at: datetime, flags: list[str] | None = None) -> None:
    """Put an incident at a given time (and its debriefs just after it), with these flags."""
    with session_scope() as s:
        incident = s.get(Incident, incident_id)
        assert incident is not None
        incident.occurred_at = at
        if flags is not None:
            incident.flags = flags
        s.add(incident)
        for debrief in crud.debriefs_of(s, incident_id=incident_id):
            debrief.submitted_at = at + timedelta(hours=1)
            s.add(debrief)


@pytest.fixture
def ward(db_engine: Engine) -> Ward:
    with session_scope() as s:
        # a setting that is not the first, so ids are not 1..n
        crud.create_setting(s, data=SettingCreate(name="Unused Lodge", kind=SettingKind.school))
        setting = crud.create_setting(s, data=SettingCreate(name="Hazel O'Neill House",
                                                            kind=SettingKind.children_home))
        other = crud.create_setting(s, data=SettingCreate(name="Rowan Court",
                                                          kind=SettingKind.children_home))
        assert setting.id is not None
        assert other.id is not None
        child = crud.create_child(s, data=ChildCreate(setting_id=setting.id,
                                                      display_name="Robin (test)"))
        crud.create_child(s, data=ChildCreate(setting_id=other.id, display_name="Ash (test)"))
        setting_id, other_id, child_id = setting.id, other.id, child.id
    staff = [_person(setting_id, name, Role.staff) for name in ("Alex D'Souza", "Jordan Test", "Sam Okafor")]
    manager = _person(setting_id, "Morgan O'Brien", Role.manager)
    other_manager = _person(other_id, "Casey Test", Role.manager)
    child_user = _person(setting_id, "Robin (test)", Role.child, child_id=child_id)
    admin = _person(setting_id, "Dee Admin", Role.admin)
    with session_scope() as s:
        for number, person in enumerate((manager, *staff, other_manager, child_user, admin)):
            row = s.get(Person, person.id)
            assert row is not None
            row.telegram_user_id = 7_000_000_000 + 31 * number
            s.add(row)
            person.telegram_user_id = row.telegram_user_id
    now = utcnow()
    late_reply = walk_debrief(staff[0], DEBRIEF_ANSWERS, colleagues="Jordan Test")
    assert late_reply.incident_id is not None
    assert late_reply.submitted_debrief_id is not None
    move(late_reply.incident_id, at=now - timedelta(hours=29, minutes=30))
    fresh = walk_debrief(staff[2], DEBRIEF_ANSWERS)
    assert fresh.incident_id is not None
    move(fresh.incident_id, at=now - timedelta(hours=2, minutes=30))
    old = walk_debrief(staff[2], DEBRIEF_ANSWERS)
    assert old.incident_id is not None
    assert len({late_reply.incident_id, fresh.incident_id, old.incident_id}) == 3
    move(old.incident_id, at=now - timedelta(days=6, minutes=-30),
         flags=["injury", "prone_or_ground_hold"])
    return Ward(setting_id=setting_id, manager=manager, staff=staff, other_manager=other_manager,
                child_user=child_user, admin=admin, late=late_reply.incident_id, fresh=fresh.incident_id,
                old=old.incident_id, alex_debrief=late_reply.submitted_debrief_id)


def init_data(telegram_user_id: int, *, age: timedelta = timedelta(seconds=5),
              token: str = TOKEN) -> str:
    """initData as Telegram would sign it for this user (with the test bot's token)."""
    fields = {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
              "user": json.dumps({"id": telegram_user_id, "first_name": "Morgan",
                                  "language_code": "en"}, separators=(",", ":")),
              "auth_date": str(int((utcnow() - age).timestamp()))}
    return sign(fields=fields, bot_token=token)


def run_async(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to the end on its own thread: Playwright's sync API holds the main thread's
    event loop for the whole session, so async work in these tests runs beside it."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result(timeout=120)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    url: str
    server: uvicorn.Server


@pytest.fixture
def served(db_engine: Engine) -> Iterator[Served]:
    """The dashboard app, served by uvicorn on 127.0.0.1 (plain HTTP, so cookies are not Secure)."""
    app = create_app(config=WebConfig(bot_token=TOKEN, secure_cookies=False))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield Served(url=f"http://127.0.0.1:{port}", server=server)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, trust_env=False, follow_redirects=False) as c:
        yield c


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium per module, driven by Playwright. Not per session: Playwright's
    sync API keeps an event loop marked running in this thread, and every asyncio test after it in
    the same process (another file, on the same xdist worker) would fail to start its own."""
    if not os.path.exists(CHROMIUM) or shutil.which("chromium") is None:
        skip_or_fail(f"{CHROMIUM} is missing: run scripts/setup-browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def screenshots() -> Path:
    """Where the browser tests save their screenshots (a gitignored folder in the worktree)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
