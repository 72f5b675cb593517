"""python-telegram-bot's rate-limiter hook, on the process's one Telegram budget.

PTB's own `AIORateLimiter` cannot put one request before another and knows no per-chat limit for
private chats, so replies and nudges would queue together. `BudgetRateLimiter` sends every request
the bot makes through `bot.followups.limiter.RateLimiter`, the same object the follow-up deliverer
waits on: replies at `REPLY` priority; a nudge, which the deliverer has already waited for, passes
`rate_limit_args=PACED` so it is not counted twice. When Telegram still answers 429 (requests
granted apart can arrive bunched on a busy machine), that chat (or, for a request without one, the
whole budget) pauses for `retry_after` and the request is tried again (up to `max_retries` times).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.followups.limiter import REPLY, RateLimiter, limits_of

log = logging.getLogger(__name__)

PACED: dict[str, Any] = {"paced": True}  # already waited for its slot (the follow-up deliverer)


def retry_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds (PTB gives an int, or in time a timedelta)."""
    with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class BudgetRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """Every Bot API request waits for its slot in the shared `RateLimiter` (see the module)."""

    def __init__(self, budget: RateLimiter | None = None, *, max_retries: int = 3) -> None:
        self.budget = budget or RateLimiter()
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for the slot (unless already paced), make the request, pause all on a 429."""
        options = rate_limit_args or {}
        overall, per_chat = limits_of(endpoint)
        chat_id: int | None = None
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(data.get("chat_id"))  # type: ignore[arg-type]
        paced = options.get("paced") or not overall
        for attempt in range(self.max_retries + 1):
            try:
                if paced:
                    return await callback(*args, **kwargs)
                async with self.budget.slot(chat_id if per_chat else None,
                                            priority=int(options.get("priority", REPLY))):
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_seconds(exc)  # our budget keeps the overall limit: a refusal
                # of a message to a chat is that chat's flood limit (in-flight requests bunched)
                self.budget.pause(seconds, chat_id=chat_id if per_chat and not paced else None)
                if options.get("paced") or attempt == self.max_retries:
                    raise
                log.warning("Telegram asked us to wait %.0f s (%s, attempt %d)", seconds,
                            endpoint, attempt + 1)
                if not overall:
                    await asyncio.sleep(seconds)
        raise AssertionError("unreachable")
