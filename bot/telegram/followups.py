"""Follow-ups on Telegram: the `Sender` the reg-35 clock delivers through, the scheduler's start and
stop, and the nudge buttons.

A button press acts at once: "Remind me in 2 hours" plans the nudge again, "Someone else is doing
this" takes the task off my list, "Done" closes it, and "Review now" / "Start my debrief" / ...
opens the work through the conversations service. A press also proves the message arrived, so a
nudge left in doubt by a crash is confirmed by it.
"""

from __future__ import annotations

import contextlib
import logging

import httpx
from sqlmodel import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import CallbackQueryHandler, ExtBot

from bot.followups import messages, planner
from bot.followups.delivery import Buttons, InDoubt, NotSent, RetryLater, Undeliverable
from bot.followups.messages import DONE, ELSE, GO, SNOOZE, local
from bot.followups.schedule import Kind
from bot.followups.scheduler import FollowUpScheduler
from bot.services.conversations import OPENED_TASKS, TASK_HINTS
from bot.services.insights_view import nudge_patterns
from bot.telegram import handlers
from bot.telegram.context import App, Context, Extension, services
from bot.telegram.ratelimit import PACED, BudgetRateLimiter, retry_seconds
from bot.telegram.transport import acknowledge, send_text
from dialogues import wording
from storage import crud
from storage import followups as store
from storage.models import FollowUp
from storage.types import utcnow

log = logging.getLogger(__name__)

SCHEDULER_KEY = "flourish_followups"
# Errors that mean the request never reached Telegram (no connection was made).
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class TelegramSender:
    """Delivers nudges with python-telegram-bot, translating its errors for the deliverer."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, *, chat_id: int, text: str, buttons: Buttons,
                   photo: bytes | None = None) -> int | None:
        """sendMessage with an inline keyboard, then the chart if any; return the message's id.

        The message is the record; its chart follows on a best-effort basis (a chart that fails
        to go is logged, never a reason to send the message again)."""
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)
                                        for label, data in line] for line in buttons]) \
            if buttons else None
        try:
            if isinstance(self.bot, ExtBot):  # the deliverer has waited for this slot already
                message = await self.bot.send_message(chat_id=chat_id,
                                                      text=wording.for_telegram(text),
                                                      reply_markup=markup, rate_limit_args=PACED)
            else:
                message = await self.bot.send_message(chat_id=chat_id,
                                                      text=wording.for_telegram(text),
                                                      reply_markup=markup)
        except RetryAfter as exc:
            raise RetryLater(retry_seconds(exc)) from exc
        except Forbidden as exc:
            raise Undeliverable("blocked") from exc
        except BadRequest as exc:
            raise Undeliverable("bad_request") from exc
        except NetworkError as exc:
            if isinstance(exc.__cause__, NOT_SENT) and not isinstance(exc, TimedOut):
                raise NotSent from exc
            raise InDoubt from exc
        if photo is not None:
            try:
                await self.bot.send_photo(chat_id=chat_id, photo=photo)
            except TelegramError as exc:
                log.warning("a nudge's chart was not sent (%s)", type(exc).__name__)
        return getattr(message, "message_id", None)


def kind_of(row: FollowUp) -> Kind | None:
    return Kind(row.kind) if row.kind in Kind.__members__ else None


async def on_button(update: Update, context: Context) -> None:
    """A nudge button: act at once and say what happened."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None or query.data is None:
        return
    # A malformed or forged one is refused like any unknown reminder (answered and audited).
    action, followup_id, token = messages.parse_callback(query.data) or ("", 0, "")
    message = query.message
    message_id = message.message_id if message is not None else 0
    svc = services(context)

    def act(session: Session) -> tuple[str, FollowUp | None]:
        person = crud.person_by_telegram_id(session, telegram_user_id=user.id)
        row = store.get_followup(session, followup_id=followup_id)
        if person is None or row is None or row.person_id != person.id or row.claim_token != token:
            reason = ("unknown" if row is None else "not_theirs"
                      if person is None or row.person_id != person.id else "stale")
            crud.record_audit(session, actor_id=person.id if person else None,
                              action="followup_button_refused", object_type="followup",
                              object_id=followup_id, detail={"reason": reason})
            return "This reminder is no longer current. Send /pending to see what is waiting.", None
        now = utcnow()
        store.confirm_by_button(session, followup_id=followup_id, token=token,
                                message_id=message_id, now=now)
        if row.state not in store.OPEN_STATES:
            return "This one is already dealt with. Thank you.", None
        if action == SNOOZE:
            again = planner.snooze(session, row=row, now=now)
            zone = messages._zone(session, row)
            when = local(again.due_at, zone) if again else "later"
            return f"I'll remind you again at {when}.", None
        if action == ELSE:
            planner.hand_off(session, row=row, now=now)
            return "Thanks for letting me know. I've taken this off your list.", None
        if action == DONE:
            planner.mark_done(session, row=row, now=now)
            return "Marked as done. Thank you.", None
        if action == GO:
            return "", row
        return "That button isn't one I know.", None

    note, to_open = await svc.db(act)
    await acknowledge(query)
    chat_id = update.effective_chat.id if update.effective_chat else user.id
    if to_open is not None:
        kind = kind_of(to_open)
        task = kind.task if kind else ""
        incident_id = to_open.incident_id
        if task in OPENED_TASKS:
            await handlers.run(update, context, lambda s, person_id: svc.conversations.open_task(
                s, person_id=person_id, task=task, incident_id=incident_id))
            return
        note = TASK_HINTS.get(task, "Send /pending to see what is waiting for you.")
    if message is not None and note:
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                                        reply_markup=None)
    if note:
        await send_text(context.bot, chat_id, note)


async def post_init(app: App) -> None:
    """Start the follow-up scheduler in this bot process."""
    svc = services(app)
    config = svc.config
    if not config.followups_enabled:
        log.info("follow-ups are switched off (FOLLOWUPS_ENABLED=false)")
        return
    shared = app.bot.rate_limiter if isinstance(app.bot, ExtBot) else None
    scheduler = FollowUpScheduler(
        engine=svc.engine, sender=TelegramSender(app.bot), patterns=nudge_patterns,
        limiter=shared.budget if isinstance(shared, BudgetRateLimiter) else None,
        sweep_seconds=config.followups_sweep_seconds,
        leader_poll_seconds=config.followups_leader_poll_seconds)
    app.bot_data[SCHEDULER_KEY] = scheduler
    await scheduler.start()


async def post_shutdown(app: App) -> None:
    """Stop the follow-up scheduler."""
    scheduler = app.bot_data.pop(SCHEDULER_KEY, None)
    if isinstance(scheduler, FollowUpScheduler):
        await scheduler.stop()


def register(app: App) -> None:
    """Add the nudge buttons' handler."""
    app.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{messages.CALLBACK_PREFIX}:"))


FOLLOWUPS = Extension(name="followups", register=register, post_init=post_init,
                      post_shutdown=post_shutdown)
