"""The application factory and runner: all of the bot's wiring in one place, no network at import.

`build_application` makes a python-telegram-bot `Application` with the rate limiter, connections
that skip an update PTB cannot read (bot/telegram/updates.py), the guards
that run before every feature (each update once; private chats only; enrolled people only), the
commands, each `Extension` in `EXTENSIONS`, then the catch-alls for buttons and words and an error
handler that logs no content. `run_bot` runs it by long polling; a webhook worker (one of several,
on PostgreSQL) is `bot.telegram.web.run_webhook`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from telegram import Bot, BotCommand, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    TypeHandler,
    filters,
)

from bot.followups.limiter import RateLimiter
from bot.log_hygiene import error_text
from bot.services.conversations import Conversations
from bot.telegram import handlers
from bot.telegram.context import (
    SERVICES_KEY,
    UPDATE_CHAT,
    App,
    Context,
    Extension,
    Services,
    services,
)
from bot.telegram.dashboard import DASHBOARD
from bot.telegram.followups import FOLLOWUPS
from bot.telegram.insights import INSIGHTS
from bot.telegram.ratelimit import BudgetRateLimiter
from bot.telegram.transport import acknowledge, send_text, with_retry
from bot.telegram.updates import QuietRequest, UpdatesRequest
from nlu.result import Interpreter
from storage import crud
from storage.accounts import record_stranger
from storage.config import Config
from storage.db import get_engine, is_disconnect, is_timeout
from storage.presence import Presence
from storage.types import utcnow

log = logging.getLogger(__name__)

GUARD_GROUP = -10
FORGET_UPDATES_AFTER = timedelta(days=3)
RATE_LIMIT_RETRIES = 3
CONCURRENT_UPDATES = 256  # a slot is held while waiting for the chat's turn
CONNECTIONS = 256  # to the Bot API, for sending (PTB's default); getUpdates has its own one
DEFAULT_API = "https://api.telegram.org"
# How long after start to wait before reminding people left at a summary (see post_init).
REMIND_AFTER_START = timedelta(seconds=3)
DIDNT_SAVE = ("Sorry, that didn't save: the system was busy for a moment. Please send it again. "
              "Everything before it is saved.")
# Updates from chats that are not the person's own chat with the bot: a Telegram Business
# account's customers, a guest call from someone else's chat. Never answered, never audited.
NOT_OUR_CHATS = ("business_connection", "business_message", "edited_business_message",
                 "deleted_business_messages", "guest_message")
# The features plugged in, in order; each one's handlers come after the commands and before the
# catch-alls for buttons and words.
EXTENSIONS: list[Extension] = [FOLLOWUPS, INSIGHTS, DASHBOARD]


class FlourishApplication(Application[Any, Any, Any, Any, Any, Any]):
    """An Application that processes each update id once, even across restarts and across several
    workers on one database: the record of processed ids is in the database, and every transaction
    made for an update holds its chat's lock (`Services.db`), so two workers handed the same update
    (a proxy retrying, Telegram redelivering) take turns and the second finds it recorded."""

    async def process_update(self, update: object) -> None:
        """Skip an update already processed; afterwards, record it as processed."""
        if not isinstance(update, Update) or SERVICES_KEY not in self.bot_data:
            await super().process_update(update)
            return
        svc = services(self)
        update_id = update.update_id
        chat = update.effective_chat
        token = UPDATE_CHAT.set(chat.id if chat is not None else None)
        try:
            if await svc.db(lambda s: crud.update_seen(s, update_id=update_id)):
                log.info("update %s was already processed; ignored", update_id)
                return
            await super().process_update(update)
            if update_id in svc.redeliver:  # the database failed it for a passing reason
                svc.redeliver.discard(update_id)
                svc.claimed.discard(update_id)
                raise Redeliver(update_id)
            if update_id in svc.claimed:  # recorded with the handler's own work, in one transaction
                svc.claimed.discard(update_id)
                return
            try:
                await svc.db(lambda s: crud.claim_update(s, update_id=update_id))
            except OperationalError as exc:  # the database still busy: the person was already told
                if not is_timeout(exc):
                    raise
                log.warning("could not record update %s as processed: the database was busy",
                            update_id)
        finally:
            UPDATE_CHAT.reset(token)


class Redeliver(RuntimeError):
    """An update lost its database connection or timed out mid-step and was not recorded: the
    webhook answers 503, so Telegram (or the reverse proxy) delivers it again, to any worker."""


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates from one chat one at a time and in order; different chats at the same time."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int | None, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for this chat's earlier updates, then process this one."""
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat is not None else None
        lock, waiting = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, waiting + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, waiting = self._locks[key]
            if waiting <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, waiting - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def bot_api_urls(base: str) -> tuple[str, str]:
    """PTB's base_url and base_file_url for TELEGRAM_BASE_URL (a server root, or one ending /bot)."""
    root = base.rstrip("/").removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


def webhook_secret(config: Config) -> str:
    """The secret Telegram sends in X-Telegram-Bot-Api-Secret-Token, derived from the bot token."""
    assert config.telegram_bot_token is not None
    key = config.telegram_bot_token.get_secret_value().encode()
    return hmac.new(key, b"flourish-webhook", hashlib.sha256).hexdigest()


# --- guards -------------------------------------------------------------------------------------


async def private_only(update: Update, context: Context) -> None:
    """Work only in a person's own private chat with the bot: in a group or channel, say so once
    and leave; ignore what is not someone talking to the bot (no chat, a service message such as
    a pin, a business account's chats, a guest call from another chat)."""
    chat = update.effective_chat
    if chat is None or any(getattr(update, kind) is not None for kind in NOT_OUR_CHATS):
        raise ApplicationHandlerStop
    if chat.type == "private":
        if filters.StatusUpdate.ALL.check_update(update):
            raise ApplicationHandlerStop
        return
    member = update.my_chat_member
    if member is not None and member.new_chat_member.status in ("left", "kicked"):
        raise ApplicationHandlerStop
    user = update.effective_user
    if user is not None:
        await services(context).db(lambda s: record_stranger(
            s, telegram_user_id=user.id, attempted=_attempted(update), chat_type=chat.type))
    try:
        if chat.type != "channel":
            await send_text(context.bot, chat.id, handlers.ONLY_PRIVATE)
        await with_retry(lambda: context.bot.leave_chat(chat.id), idempotent=True)
    except TelegramError as exc:
        log.info("could not leave a non-private chat: %s", type(exc).__name__)
    raise ApplicationHandlerStop


async def enrolled_only(update: Update, context: Context) -> None:
    """Anyone not enrolled gets one polite message and nothing else (except /start with a code)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        raise ApplicationHandlerStop
    message = update.message
    if message is not None and (message.text or "").split(" ", 1)[0].split("@")[0] == "/start":
        return
    svc = services(context)
    # Asked on every update, never cached: a revocation takes effect at the very next press.
    if await svc.db(lambda s: crud.person_by_telegram_id(s, telegram_user_id=user.id)) is not None:
        return
    await svc.db(lambda s: record_stranger(s, telegram_user_id=user.id,
                                           attempted=_attempted(update)))
    if update.callback_query is not None:
        await acknowledge(update.callback_query)
    if update.effective_message is not None or update.callback_query is not None:
        await send_text(context.bot, chat.id, handlers.NOT_ENROLLED)
    raise ApplicationHandlerStop


def _attempted(update: Update) -> str:
    """What kind of thing was sent (a command's name, a button, a message), never its content."""
    if update.callback_query is not None:
        return "button"
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    if text.startswith("/"):
        return "command " + text.split()[0].split("@")[0][:32]
    return "message" if message is not None else "other update"


async def on_error(update: object, context: Context) -> None:
    """Log the failure without any content, and tell the person nothing they gave is lost."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    svc = services(context)
    if update_id is not None and error is not None and svc.webhook \
            and (is_disconnect(error) or is_timeout(error)):
        # A passing reason (the connection dropped; a lock held too long, say by this chat's step
        # on another worker): nothing was stored, so the update is answered 503 and comes again.
        log.warning("update %s not stored (%s); it will be redelivered", update_id,
                    "connection lost" if is_disconnect(error) else "timed out")
        svc.redeliver.add(update_id)
        return
    frames = "".join(traceback.format_tb(error.__traceback__)) if error else ""
    log.error("error handling update %s: %s\n%s", update_id, error_text(error), frames)
    if isinstance(update, Update) and update.effective_chat is not None \
            and update.effective_chat.type == "private":
        text = DIDNT_SAVE if error is not None and is_timeout(error) else (
            "Sorry, something went wrong on my side. Everything you've answered "
            "is saved: please try again in a moment, or send /debrief.")
        try:
            await send_text(context.bot, update.effective_chat.id, text)
        except TelegramError:
            log.warning("could not tell the person about the error")


# --- lifecycle ----------------------------------------------------------------------------------


async def post_init(app: App) -> None:
    """At start: the default command menu, each enrolled person's menu, old update ids pruned,
    recovery from a crash (only if no other worker is running), then each extension's start-up."""
    svc = services(app)
    # Every database step runs in a worker thread: as many as the database pool has connections
    # (the default, cores + 4, would queue people behind one slow step on a small server).
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(
        max_workers=svc.config.db_pool_size, thread_name_prefix="flourish-db"))
    try:
        await app.bot.set_my_commands([BotCommand(c, d) for c, d in handlers.DEFAULT_COMMANDS])

        def enrolled(session: Session) -> list[tuple[int, str]]:
            return [(p.telegram_user_id, str(p.role))
                    for setting in crud.list_settings(session)
                    for p in crud.list_people(session, setting_id=setting.id or 0)
                    if p.telegram_user_id is not None]

        for chat_id, role in await svc.db(enrolled):
            await handlers.set_commands_for(app.bot, chat_id=chat_id, role=role)
    except TelegramError as exc:
        log.warning("could not set the command menus: %s", type(exc).__name__)
    await svc.db(lambda s: crud.prune_updates(s, older_than=utcnow() - FORGET_UPDATES_AFTER))
    svc.presence = Presence(svc.engine)
    if await asyncio.to_thread(svc.presence.join):
        await _recover(app)
    else:  # a worker restarting beside others must not tell everyone "I restarted"
        log.info("other workers are running on this database: no start-up recovery")
    for extension in svc.extensions:
        if extension.post_init is not None:
            await extension.post_init(app)
    if svc.on_ready is not None:  # runs as polling (or the webhook) begins
        asyncio.get_running_loop().call_soon(svc.on_ready)


async def _recover(app: App) -> None:
    """The first worker up finishes what a crash interrupted: chat clean-ups now, and (a moment
    later) a word to anyone left at a debrief's summary."""
    svc = services(app)
    try:
        cleaned = await handlers.finish_interrupted_cleanups(svc, app.bot)
        if cleaned:
            log.info("finished the chat clean-up of %d debriefs interrupted by a restart", cleaned)
    except TelegramError as exc:
        log.warning("could not finish interrupted clean-ups: %s", type(exc).__name__)
    reminder = asyncio.get_running_loop().create_task(_remind_unsubmitted_soon(app))
    svc.background.add(reminder)
    reminder.add_done_callback(svc.background.discard)


async def _remind_unsubmitted_soon(app: App) -> None:
    """A moment after start, show anyone still at a summary their debrief again. The wait lets
    Telegram redeliver a Submit the crash cut short first: that one is then simply recorded."""
    await asyncio.sleep(REMIND_AFTER_START.total_seconds())
    try:
        reminded = await handlers.remind_unsubmitted(services(app), app.bot)
    except TelegramError as exc:
        log.warning("could not show unsubmitted summaries again: %s", type(exc).__name__)
        return
    if reminded:
        log.info("showed %d people their unsubmitted debrief's summary again", reminded)


async def post_shutdown(app: App) -> None:
    """At stop: the ids of messages just sent written down, background work cancelled, then each
    extension's own shutdown, in reverse order."""
    svc = services(app)
    await handlers.flush_untracked(svc)
    for task in svc.background:
        task.cancel()
    if svc.presence is not None:
        svc.presence.leave()
    for extension in reversed(services(app).extensions):
        if extension.post_shutdown is not None:
            await extension.post_shutdown(app)


def build_application(
    *,
    config: Config,
    interpreter: Interpreter | None = None,
    engine: Engine | None = None,
    extensions: Sequence[Extension] | None = None,
    rate_limiter: bool = True,
) -> App:
    """The bot, wired: guards, the commands, each extension's handlers, then the catch-alls.

    `extensions` defaults to `EXTENSIONS`. `rate_limiter=False` sets Telegram's rate limiter
    aside (for measuring the bot's own cost). Nothing touches the network until the application
    is initialised.
    """
    if config.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    if extensions is None:
        extensions = EXTENSIONS
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (ApplicationBuilder()
               .application_class(FlourishApplication)
               .token(config.telegram_bot_token.get_secret_value())
               .concurrent_updates(PerChatUpdateProcessor(CONCURRENT_UPDATES))
               .request(QuietRequest(connection_pool_size=CONNECTIONS))
               .get_updates_request(UpdatesRequest(connection_pool_size=1))
               .post_init(post_init)
               .post_shutdown(post_shutdown))
    if rate_limiter:
        builder = builder.rate_limiter(BudgetRateLimiter(
            RateLimiter.share_of(config.telegram_workers), max_retries=RATE_LIMIT_RETRIES))
    if config.telegram_base_url:
        base_url, base_file_url = bot_api_urls(config.telegram_base_url)
        builder = builder.base_url(base_url).base_file_url(base_file_url)
    app: App = builder.build()
    app.bot_data[SERVICES_KEY] = Services(
        config=config, engine=engine or get_engine(),
        conversations=Conversations(interpreter=interpreter), interpreter=interpreter,
        extensions=list(extensions))
    app.add_handler(TypeHandler(Update, private_only), group=GUARD_GROUP)
    app.add_handler(TypeHandler(Update, enrolled_only), group=GUARD_GROUP + 1)
    handlers.register(app)
    for extension in extensions:
        if extension.register is not None:
            extension.register(app)
    handlers.register_fallbacks(app)
    app.add_error_handler(on_error)
    return app


def quiet_loggers() -> None:
    """Keep tokens and message content out of the logs, whatever LOG_LEVEL says: httpx logs
    request URLs (they contain the bot token) and PTB's debug lines contain whole updates."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(logging.INFO)


def run_bot(
    *,
    config: Config,
    interpreter: Interpreter | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run by long polling until stopped (a webhook: `bot.telegram.web.run_webhook`)."""
    quiet_loggers()
    app = build_application(config=config, interpreter=interpreter)
    services(app).on_ready = on_ready
    try:
        log.info("Flourish bot: polling for updates")
        app.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:  # its message quotes the token: say it plainly instead
        raise TokenRejected("Telegram rejected TELEGRAM_BOT_TOKEN: check it with @BotFather.") \
            from None


class TokenRejected(RuntimeError):
    """Telegram does not accept the bot token; the message is one line and does not contain it."""


def fetch_bot_username(config: Config) -> str:
    """The bot's @username, from Telegram's getMe."""
    assert config.telegram_bot_token is not None
    token = config.telegram_bot_token.get_secret_value()

    async def get_me() -> str:
        base_url, base_file_url = bot_api_urls(config.telegram_base_url or DEFAULT_API)
        async with Bot(token, base_url=base_url, base_file_url=base_file_url) as bot:
            return str(bot.username)

    return asyncio.run(get_me())
