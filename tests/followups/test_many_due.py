"""A small version of the benchmark: 200 nudges due in the same second, woken by the real
APScheduler alarm clock, all delivered exactly once within Telegram's limits (no timing asserted
beyond the limits themselves; figures live in BENCHMARKS.md)."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, defaultdict
from datetime import timedelta

from followup_helpers import followup_id_of, sends
from support.botapi_standin import BotApiStandIn
from telegram import Bot

from bot.followups.scheduler import FollowUpScheduler
from bot.telegram.followups import TelegramSender
from storage import crud
from storage import followups as store
from storage.db import get_engine, session_scope
from storage.models import PersonCreate, Role, SettingCreate, SettingKind
from storage.types import utcnow


async def test_two_hundred_due_at_once_arrive_exactly_once_within_the_limits(
    telegram_env: dict[str, str], standin: BotApiStandIn, standin_bot: Bot
) -> None:
    due = utcnow() + timedelta(seconds=2)
    ids = []
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name="Busy House", kind=SettingKind.children_home, quiet_start="00:00",
            quiet_end="00:00"))
        assert setting.id is not None
        people = []
        for number in range(50):
            person = crud.create_person(session, data=PersonCreate(
                setting_id=setting.id, display_name=f"Staff {number} Test", role=Role.staff))
            person.telegram_user_id = 9000 + number
            people.append(person)
        session.flush()
        for number in range(200):
            person_id = people[number % 50].id
            assert person_id is not None
            row = store.add_followup(session, kind="reflection", person_id=person_id,
                                     setting_id=setting.id, due_at=due, key=f"many:{number}")
            assert row is not None
            session.flush()
            ids.append(row.id)
    scheduler = FollowUpScheduler(engine=get_engine(), sender=TelegramSender(standin_bot), sweep_seconds=60)
    await scheduler.start()  # first look now (nothing due), then the alarm at the due time
    try:
        await standin.await_for(lambda c: c.method == "sendMessage", within=60, count=200)
        await asyncio.sleep(1.0)  # nothing more may arrive
    finally:
        await scheduler.stop()
    calls = sends(standin)
    counts = Counter(followup_id_of(c) for c in calls)
    assert set(counts) == set(ids)
    assert max(counts.values()) == 1
    times = sorted(c.at for c in calls)
    assert all(b - a >= 1.0 for a, b in zip(times, times[30:], strict=False))  # <= 30 a second
    per_chat: dict[int, list[float]] = defaultdict(list)
    for call in calls:
        per_chat[int(call.params["chat_id"])].append(call.at)
    assert all(b - a >= 0.99 for ts in per_chat.values() for a, b in itertools.pairwise(ts))
    with session_scope() as session:
        assert store.counts_by_state(session) == {"sent": 200}
