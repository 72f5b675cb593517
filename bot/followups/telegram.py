"""Follow-ups in the Telegram bot: the scheduler's start and stop, the nudge buttons, `/pending` lines.

Listed in `bot/telegram/extensions.py` as `FOLLOWUPS`. A button press acts at once: "Remind me in
2 hours" plans the nudge again, "Someone else is doing this" takes the task off my list, "Done"
closes it, and "Review now" / "Start my debrief" / ... opens the work (other features register an
opener for their task with `register_opener`). A press also proves the message arrived, so a nudge
left in doubt by a crash is confirmed by it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlmodel import Session
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler

from bot.followups import messages, planner
from bot.followups.messages import DONE, ELSE, GO, SNOOZE, local
from bot.followups.schedule import Kind
from bot.followups.scheduler import FollowUpScheduler
from bot.telegram.extension import App, Context, Extension, services
from bot.telegram.transport import acknowledge
from storage import crud
from storage import followups as store
from storage.models import FollowUp
from storage.types import utcnow

log = logging.getLogger(__name__)

SCHEDULER_KEY = "flourish_followups"
Opener = Callable[[Update, Context, FollowUp], Awaitable[None]]
_OPENERS: dict[str, Opener] = {}
_HINTS = {
    "review": "Send /review to open the review.",
    "childview": "Send /childview to record the child's view (on your own or with the child).",
    "reflection": "Just write a few lines here, or talk it through at supervision. Thank you.",
    "debrief": "Send /debrief to start or carry on.",
}


def register_opener(task: str, opener: Opener) -> None:
    """Let a feature open its own work from a nudge's first button (task: review, childview, ...)."""
    _OPENERS[task] = opener


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
        opener = _OPENERS.get(task)
        if opener is not None:
            await opener(update, context, to_open)
            return
        if task == "debrief":
            from bot.telegram.debrief import debrief_command

            await debrief_command(update, context)
            return
        note = _HINTS.get(task, "Send /pending to see what is waiting for you.")
    if message is not None and note:
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                                        reply_markup=None)
    if note:
        from bot.telegram.transport import send_text

        await send_text(context.bot, chat_id, note)


def pending_lines(session: Session, person: object) -> list[str]:
    """`/pending` lines for follow-ups other features do not list (the child's view, reflections,
    colleagues' overdue debriefs), oldest first, each with its deadline."""
    from storage.models import Person

    assert isinstance(person, Person)
    now = utcnow()
    items = [item for item in messages.pending_items(session, person=person)
             if item.task in ("childview", "reflection", "debrief_colleague")]
    zone = messages.zone_of_person(session, person)
    lines = []
    for item in items:
        when = messages.deadline_phrase(item.deadline_at, zone=zone, now=now)
        lines.append(f"• {item.label}{f', {when}' if when else ''}")
    return lines


async def post_init(app: App) -> None:
    """Start the follow-up scheduler in this bot process."""
    svc = services(app)
    config = svc.config
    if not config.followups_enabled:
        log.info("follow-ups are switched off (FOLLOWUPS_ENABLED=false)")
        return
    scheduler = FollowUpScheduler(
        engine=svc.engine, bot=app.bot, sweep_seconds=config.followups_sweep_seconds,
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
                      post_shutdown=post_shutdown, pending=pending_lines)
