"""One budget for everything the bot sends to Telegram: replies and follow-ups wait here for a slot.

Telegram allows a bot about 30 messages a second in all and one a second in a chat, and answers
429 (retry after N seconds) beyond that. One `RateLimiter` per process keeps under both: the
Telegram channel's rate limiter (`bot.telegram.ratelimit`) asks it before every reply, edit or
deletion, and the follow-up deliverer asks it before every nudge. Replies to someone in the middle
of a conversation come first (`REPLY`); nudges (`NUDGE`) take what is left, and always leave a few
slots of every second free, so a burst of due nudges never makes a person wait for the overall
limit. Nothing here knows python-telegram-bot; times are `time.monotonic()` seconds.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

REPLY = 0  # someone is waiting for it in a conversation
NUDGE = 1  # a follow-up: waits behind replies
MESSAGE_PREFIXES = ("send", "copy", "forward", "edit")


def limits_of(method: str) -> tuple[bool, bool]:
    """(counts towards the overall limit, counts towards the per-chat limit) for a Bot API method:
    messages (sends, copies, forwards, edits) count towards both, deletions towards the overall
    limit only, and the rest (answering a button, getUpdates, menus, chat actions) not at all."""
    if method.lower() == "sendchataction":
        return False, False
    if method.startswith(MESSAGE_PREFIXES):
        return True, True
    return method in ("deleteMessage", "deleteMessages"), False


@dataclass(order=True)
class _Waiter:
    priority: int
    order: int
    chat_id: int | None = field(compare=False)
    future: asyncio.Future[float] = field(compare=False)


TELEGRAM_MESSAGES_PER_SECOND = 30  # a bot's overall limit, shared by all of its processes


class RateLimiter:
    """Telegram's limits: at most `overall` messages in any `window` seconds (30 a second), and
    one message per chat per `per_chat` seconds; a small margin on both keeps us under the limits
    as Telegram's servers measure them. Nudges leave `kept_for_replies` of each window free."""

    def __init__(self, *, overall: int = TELEGRAM_MESSAGES_PER_SECOND, window: float = 1.05,
                 per_chat: float = 1.05, kept_for_replies: int = 3,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.overall = overall
        self.window = window
        self.per_chat = per_chat
        self.kept_for_replies = min(kept_for_replies, overall - 1)
        self.monotonic = monotonic
        self._recent: deque[float] = deque(maxlen=overall)
        self._chat_free: dict[int, float] = {}
        self._paused_until = 0.0
        self._queue: list[_Waiter] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def share_of(cls, workers: int) -> RateLimiter:
        """The budget of one of `workers` processes sending for the same bot: each keeps to its
        share of the overall limit, so together they stay under it. With several, two messages a
        second are left over: the processes' windows are not in step, and requests spaced out on
        leaving can still arrive bunched."""
        if workers <= 1:
            return cls()
        return cls(overall=max(1, (TELEGRAM_MESSAGES_PER_SECOND - 2) // workers))

    # --- what the follow-up deliverer asks before choosing a row -------------------------------

    def chat_ready_in(self, chat_id: int) -> float:
        """Seconds until this chat may get another message."""
        return max(0.0, self._chat_free.get(chat_id, 0.0) - self.monotonic())

    def reserve(self, chat_id: int | None, priority: int = REPLY) -> float:
        """Seconds before a message to this chat (None: no chat limit) may leave, as things stand."""
        now = self.monotonic()
        slot = max(now, self._paused_until)
        if chat_id is not None:
            slot = max(slot, self._chat_free.get(chat_id, 0.0))
        full = self.overall - (self.kept_for_replies if priority > REPLY else 0)
        recent = [t for t in self._recent if t > now - self.window]
        if len(recent) >= full:
            slot = max(slot, recent[len(recent) - full] + self.window)
        return slot - now

    def waiting(self) -> int:
        """Messages waiting for a slot now."""
        return len(self._queue)

    def pause(self, seconds: float, *, chat_id: int | None = None) -> None:
        """Telegram asked us to wait (RetryAfter): for one chat's messages, or for everything."""
        until = self.monotonic() + seconds
        if chat_id is None:
            self._paused_until = max(self._paused_until, until)
        else:
            self._chat_free[chat_id] = max(self._chat_free.get(chat_id, 0.0), until)
        self._grant()

    def started(self, chat_id: int | None) -> float:
        """A message to this chat (None: counted overall only) leaves now; return the time."""
        now = self.monotonic()
        self._recent.append(now)
        if chat_id is not None:
            self._chat_free[chat_id] = now + self.per_chat
        if len(self._chat_free) > 50_000:
            self._chat_free = {c: t for c, t in self._chat_free.items() if t > now}
        return now

    def finished(self, chat_id: int | None, started_at: float) -> None:
        """Telegram has answered the message that started at `started_at`: it counts from now
        (it reached Telegram at some moment in between, so the next one keeps its distance
        however long the request took on the way)."""
        now = self.monotonic()
        with contextlib.suppress(ValueError):
            self._recent.remove(started_at)
            bisect.insort(self._recent, now)
        if chat_id is not None:
            self._chat_free[chat_id] = max(self._chat_free.get(chat_id, 0.0), now + self.per_chat)
        self._grant()

    @contextlib.asynccontextmanager
    async def slot(self, chat_id: int | None, *, priority: int = REPLY) -> AsyncIterator[None]:
        """`acquire` the message's turn, send it inside the block; `finished` when it ends."""
        started_at = await self.acquire(chat_id, priority=priority)
        try:
            yield
        finally:
            self.finished(chat_id, started_at)

    # --- waiting for a slot ---------------------------------------------------------------------

    async def acquire(self, chat_id: int | None, *, priority: int = REPLY) -> float:
        """Wait for this message's turn, then count it as leaving now (the time is returned, for
        `finished`). `chat_id` None: a request that counts towards the overall limit only.
        Waiters with a lower `priority` number go first; within a priority, first come, first
        served (per chat, and overall)."""
        waiter = _Waiter(priority, next(self._order), chat_id,
                         asyncio.get_running_loop().create_future())
        bisect.insort(self._queue, waiter)
        self._grant()
        try:
            return await waiter.future
        except asyncio.CancelledError:
            if any(w is waiter for w in self._queue):
                self._queue.remove(waiter)
                self._grant()
            raise

    def _grant(self) -> None:
        """Let every waiter whose slot has come go, best first; wake up again when the next can."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._queue:
            soonest = math.inf
            chosen = None
            for waiter in self._queue:
                if waiter.future.done():
                    continue
                ready_in = self.reserve(waiter.chat_id, waiter.priority)
                if ready_in <= 0:
                    chosen = waiter
                    break
                soonest = min(soonest, ready_in)
            self._queue = [w for w in self._queue if w is not chosen and not w.future.done()]
            if chosen is None:
                if self._queue and soonest < math.inf:
                    self._timer = asyncio.get_running_loop().call_later(soonest, self._grant)
                return
            chosen.future.set_result(self.started(chosen.chat_id))
