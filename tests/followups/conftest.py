"""Fixtures for follow-up tests: a home with Telegram ids, and the scheduler on the stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from followup_helpers import FakeClock, House, KillingStandIn, make_house
from support.botapi_standin import TOKEN, BotApiStandIn
from support.telegram_fixtures import *  # noqa: F403
from telegram import Bot

from bot.followups.scheduler import FollowUpScheduler
from bot.telegram.followups import TelegramSender
from storage.db import get_engine


@pytest.fixture
def standin() -> Iterator[KillingStandIn]:
    """The Bot API stand-in, able to SIGKILL a bot process the moment it has counted a message."""
    with KillingStandIn() as api:
        yield api


@pytest.fixture
def house(telegram_env: dict[str, str]) -> House:
    return make_house()


@pytest.fixture
async def standin_bot(standin: BotApiStandIn) -> AsyncIterator[Bot]:
    """python-telegram-bot's real Bot (HTTP stack included) talking to the stand-in."""
    async with Bot(TOKEN, base_url=standin.base_url, base_file_url=standin.base_file_url) as bot:
        yield bot


@pytest.fixture
def make_scheduler(standin_bot: Bot) -> Iterator[Any]:
    """Build a scheduler on the test database with a given clock (not started: tests call tick)."""
    made: list[FollowUpScheduler] = []

    def build(clock: FakeClock) -> FollowUpScheduler:
        scheduler = FollowUpScheduler(engine=get_engine(), sender=TelegramSender(standin_bot), clock=clock)
        made.append(scheduler)
        return scheduler

    yield build
    for scheduler in made:
        scheduler.leadership.release()
