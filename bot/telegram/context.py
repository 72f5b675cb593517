"""The seam between the bot's core and the features that plug into it (follow-ups, review, child).

An `Extension` says what a feature adds: handlers, commands per role, startup and shutdown hooks,
the flows it runs when a person's conversation is one of its own, and lines for `/pending`.
`Services` is what every handler reaches through `services(context)`: configuration, the database
and the debrief service, so no handler builds its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.conversations import DebriefService
from dialogues.engine import Inbound
from nlu.result import Interpreter
from storage.config import Config
from storage.db import session_scope
from storage.models import Person

T = TypeVar("T")
SERVICES_KEY = "flourish"

App = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE
# Handles one input for a person whose active conversation belongs to the extension's flow.
FlowHandler = Callable[[Update, Context, Person, Inbound], Awaitable[None]]
Hook = Callable[[App], Awaitable[None]]


@dataclass(frozen=True)
class Extension:
    """What a feature adds to the bot; list it in `bot/telegram/extensions.py`.

    - `register(app)`: add your handlers in group 0 with specific filters or callback-data
      patterns (prefix your payloads, e.g. `fu:` or `rv:`); the debrief's catch-all handlers for
      buttons and messages are added after every extension's, so yours are tried first.
    - `commands`: per role (`staff`, `manager`, `admin`, `child`), `(command, description)` pairs
      added to that role's `setMyCommands` menu and `/help`.
    - `post_init` / `post_shutdown`: start and stop your own machinery (a scheduler, say).
    - `flows`: flow id -> handler, for text, button presses and unsupported messages from a person
      whose active `Conversation` has that flow id.
    - `pending(session, person)`: lines for `/pending` ("what is waiting for me").
    """

    name: str
    register: Callable[[App], None] | None = None
    commands: Mapping[str, Sequence[tuple[str, str]]] = field(default_factory=dict)
    post_init: Hook | None = None
    post_shutdown: Hook | None = None
    flows: Mapping[str, FlowHandler] = field(default_factory=dict)
    pending: Callable[[Session, Person], list[str]] | None = None


@dataclass
class Services:
    """Shared by every handler: configuration, the database and the staff debrief."""

    config: Config
    engine: Engine
    debriefs: DebriefService
    interpreter: Interpreter | None
    extensions: list[Extension]

    async def db(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one transaction on a worker thread, so the event loop keeps moving."""

        def run() -> T:
            with session_scope(self.engine) as session:
                return work(session)

        return await asyncio.to_thread(run)

    def flow_handler(self, flow_id: str) -> FlowHandler | None:
        """The extension handler for a flow id, if an extension runs that flow."""
        for extension in self.extensions:
            if flow_id in extension.flows:
                return extension.flows[flow_id]
        return None


def services(context: Context | App) -> Services:
    """The `Services` of the running application."""
    found = context.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
