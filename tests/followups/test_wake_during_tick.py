"""A wake-up is never lost: a safeguarding alert committed (by another worker or thread) while the
scheduler is finishing a look goes out at once, not at the next sweep. Real APScheduler (whose
wake-up job would be skipped as "maximum number of running instances reached" while its previous
run is still going), python-telegram-bot's HTTP stack and the Bot API stand-in."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from followup_helpers import MANAGER_1, MANAGER_2, STAFF_1, make_house, sends
from sqlmodel import Session
from support.botapi_standin import TOKEN, BotApiStandIn
from telegram import Bot

from bot.followups import planner
from bot.followups import scheduler as scheduler_module
from bot.followups.scheduler import FollowUpScheduler
from bot.telegram.followups import TelegramSender
from storage import followups as store
from storage.db import get_engine, session_scope
from storage.types import utcnow


async def test_an_alert_raised_while_a_tick_runs_goes_out_at_once_not_at_the_next_sweep(
    telegram_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    house = make_house(quiet=("00:00", "00:00"))
    real_next_due = store.next_due_at
    raised: list[bool] = []

    def next_due_with_an_alert_arriving(session: Session) -> datetime | None:
        """The tick's last query; a child says something hurt just as it runs (once)."""
        if not raised:
            raised.append(True)
            with session_scope() as other:
                planner.raise_alert(other, setting_id=house.setting_id, incident_id=None,
                                    reasons=["something_hurt"], key="wake:alert")
        return real_next_due(session)

    with BotApiStandIn() as api:
        async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
            scheduler = FollowUpScheduler(engine=get_engine(), sender=TelegramSender(bot),
                                          sweep_seconds=300)
            await scheduler.start()
            try:
                await asyncio.sleep(0.5)  # the first look: nothing due
                monkeypatch.setattr(scheduler_module.store, "next_due_at",
                                    next_due_with_an_alert_arriving)
                with session_scope() as session:  # a routine nudge due now wakes the scheduler
                    store.add_followup(session, kind="reflection", person_id=house.staff[0],
                                       setting_id=house.setting_id, due_at=utcnow(),
                                       key="wake:routine")
                    planner._wake_after_commit(session)
                await api.await_for(lambda c: c.method == "sendMessage"
                                    and "Safeguarding alert" in c.params.get("text", ""),
                                    within=15, count=2)
            finally:
                await scheduler.stop()
        assert raised
        chats = sorted(int(c.params["chat_id"]) for c in sends(api)
                       if "Safeguarding alert" in c.params["text"])
        assert chats == [MANAGER_1, MANAGER_2]
        assert [int(c.params["chat_id"]) for c in sends(api)].count(STAFF_1) == 1
