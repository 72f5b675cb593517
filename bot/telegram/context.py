"""What every Telegram handler reaches through `services(context)`, and how a feature plugs in.

`Services` holds the configuration, the database and the conversations service, so no handler
builds its own. An `Extension` adds handlers and start-up / shutdown hooks (the follow-ups'
scheduler, say); the list of extensions is in `bot.telegram.app`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram.ext import Application, ContextTypes

from bot.services.conversations import Conversations
from nlu.result import Interpreter
from storage import crud
from storage.config import Config
from storage.db import session_scope
from storage.presence import Presence

T = TypeVar("T")
SERVICES_KEY = "flourish"

App = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE
Hook = Callable[[App], Awaitable[None]]
# The chat of the update being processed (set by `FlourishApplication.process_update`).
UPDATE_CHAT: ContextVar[int | None] = ContextVar("flourish_update_chat", default=None)


@dataclass(frozen=True)
class Extension:
    """What a feature adds to the bot; list it in `bot.telegram.app.EXTENSIONS`.

    - `register(app)`: add your handlers in group 0 with specific filters or callback-data
      patterns (prefix your payloads, e.g. `fu:`); the catch-all handlers for buttons and
      messages are added after every extension's, so yours are tried first.
    - `post_init` / `post_shutdown`: start and stop your own machinery (a scheduler, say).
    """

    name: str
    register: Callable[[App], None] | None = None
    post_init: Hook | None = None
    post_shutdown: Hook | None = None


@dataclass(frozen=True)
class Tracked:
    """A message sent for a conversation whose id is not written down yet (see `handlers`)."""

    conversation_id: int
    chat_id: int
    message_id: int
    question_id: str | None


@dataclass
class Services:
    """Shared by every handler: configuration, the database and the conversations service."""

    config: Config
    engine: Engine
    conversations: Conversations
    interpreter: Interpreter | None
    extensions: list[Extension]
    on_ready: Callable[[], None] | None = None  # called once the bot is up (the NLU starts loading)
    claimed: set[int] = field(default_factory=set)  # update ids a handler recorded in its transaction
    webhook: bool = False  # updates come by webhook: one that fails for a passing reason is resent
    redeliver: set[int] = field(default_factory=set)  # update ids to answer 503 for (see on_error)
    background: set[asyncio.Task[None]] = field(default_factory=set)  # cancelled at shutdown
    # Ids of messages just sent, by chat: written with that chat's next step, or by a flush soon.
    untracked: dict[int, list[Tracked]] = field(default_factory=dict)
    flushing: asyncio.Lock = field(default_factory=asyncio.Lock)  # held while a flush writes
    flush_due: bool = False  # a flush is planned
    presence: Presence | None = None  # this worker's mark on the database (see storage.presence)

    async def db(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one transaction on a worker thread, so the event loop keeps moving.

        While an update is processed, the transaction first takes its chat's lock (on PostgreSQL),
        so one chat's steps never interleave, whichever worker runs them.
        """
        chat_id = UPDATE_CHAT.get()

        def run() -> T:
            with session_scope(self.engine) as session:
                if chat_id is not None:
                    crud.lock_chat(session, chat_id=chat_id)
                return work(session)

        return await asyncio.to_thread(run)


def services(context: Context | App) -> Services:
    """The `Services` of the running application."""
    found = context.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
