"""Several bot processes send for one bot, and Telegram counts them together: with
`TELEGRAM_WORKERS=2` each keeps to its share of the 30 messages a second, so two workers sending
flat out through the stand-in (enforcing Telegram's limits) stay under it; each on the whole
budget, they are refused again and again (and retry, so nothing is lost either way)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from support.botapi_standin import BotApiStandIn, Limits

from bot.telegram import build_application
from storage.config import Config, get_config
from storage.db import get_engine

MESSAGES_EACH = 45


@pytest.fixture
def standin() -> Iterator[BotApiStandIn]:
    """The Bot API stand-in, enforcing Telegram's flood limits."""
    with BotApiStandIn(limits=Limits()) as api:
        yield api


async def _two_workers_send(config: Config, *, first_chat: int) -> None:
    """Two applications (as two worker processes would build them) each send flat out, one
    message to each of their own chats."""
    apps = [build_application(config=config, interpreter=None, engine=get_engine())
            for _ in range(2)]

    async def send_all(number: int) -> None:
        app = apps[number]
        async with app:
            await asyncio.gather(*(
                app.bot.send_message(first_chat + 1000 * number + chat, "A reminder, synthetic.")
                for chat in range(MESSAGES_EACH)))

    await asyncio.gather(send_all(0), send_all(1))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_two_workers_on_their_shares_are_refused_far_less_than_on_the_whole_budget(
    standin: BotApiStandIn, telegram_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEGRAM_WORKERS", "2")
    get_config.cache_clear()
    await _two_workers_send(get_config(), first_chat=9_300_000)  # each on its share: 14 a second
    shared = [c for c in standin.since(0, "sendMessage") if c.status == 200]
    refused_on_shares, mark = standin.limited, standin.mark()

    await asyncio.sleep(1.1)  # Telegram's window moves on
    monkeypatch.setenv("TELEGRAM_WORKERS", "1")
    get_config.cache_clear()
    await _two_workers_send(get_config(), first_chat=9_500_000)  # each on the whole budget
    whole = [c for c in standin.since(mark, "sendMessage") if c.status == 200]
    refused_on_whole = standin.limited - refused_on_shares

    assert len(whole) == len(shared) == 2 * MESSAGES_EACH  # every message went, both times
    assert refused_on_whole >= 10  # together they went well over Telegram's limit
    # on their shares, at most a stray refusal when requests arrive bunched on a busy machine
    assert refused_on_shares * 5 <= refused_on_whole, (refused_on_shares, refused_on_whole)
