"""Telegram, the thin channel: a platform event in, an `Inbound` or a command for a person id, the
`Reply`'s messages out.

Each update is one database transaction: it records the update id as processed (so a crash just
after the commit cannot replay it after a restart; `FlourishApplication` skips updates already
recorded), finds the person by their Telegram id, runs the turn in `bot.services.conversations`,
and looks up which chat messages to edit; then the replies go out and notices go to other people's
private chats. The ids (never the text) of the messages that belong to a conversation are kept, so
a submitted debrief's questions and answers can be deleted when the setting asks for that.

Telegram allows about 30 messages a second in all, so a step spends as few calls as reads well: a
button press's answer is edited into the pressed message, its choice shown above the next
question, and that message's id is known beforehand, so it is written in the step's transaction.
A new message's id is known only once it is sent: it is written with the chat's next step, or by a
flush half a second later (`TRACK_WITHIN`) that writes every chat's new ids in one transaction.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlmodel import Session
from telegram import Bot, BotCommand, BotCommandScopeChat, CallbackQuery, Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.kill_points import kill_point
from bot.services.runner import STAFF_DEBRIEF, Reply
from bot.telegram.context import App, Context, Services, Tracked, services
from bot.telegram.transport import (
    Sent,
    acknowledge,
    delete_messages,
    edit_text,
    folded,
    keyboard,
    pressed_label,
    send_outbound,
    send_text,
    show_choice,
    split_record,
    with_retry,
)
from dialogues import values
from dialogues.buttons import parse
from dialogues.engine import Inbound, Outbound, State
from storage import crud
from storage.crud import InviteError
from storage.models import Person, Role
from storage.types import utcnow

log = logging.getLogger(__name__)

_STAFF_COMMANDS = [("debrief", "Start a debrief, or carry on with yours"),
                   ("pending", "What is waiting for me"),
                   ("pause", "Pause; carry on later from the same place"),
                   ("cancel", "Cancel the debrief in progress"),
                   ("help", "How this works"),
                   ("privacy", "What is stored and who can see it")]
COMMANDS: dict[str, list[tuple[str, str]]] = {
    "staff": [*_STAFF_COMMANDS, ("childview", "Record a child's view with them"),
              ("dashboard", "See your debriefs in a browser")],
    "manager": [*_STAFF_COMMANDS, ("review", "Review an incident, or carry on with a review"),
                ("childview", "Record a child's view with them"),
                ("insights", "Patterns, numbers and charts for your setting"),
                ("report", "The inspection report (PDF)"),
                ("dashboard", "Open the dashboard: incidents, deadlines, patterns")],
    "admin": list(_STAFF_COMMANDS),
    "child": [("help", "How this works"), ("privacy", "What is kept and who sees it"),
              ("tell", "Tell us how it was for you")],
}
DEFAULT_COMMANDS = [("start", "Start, with your invite code"), ("help", "What this bot is")]
# Commands that run a turn in the conversations service (the rest are answered here).
SERVICE_COMMANDS = ("debrief", "pause", "cancel", "review", "childview", "tell")

NOT_ENROLLED = (
    "Hello. This is Flourish, a private service for the staff of a care home or school. "
    "I can only talk with people who have been invited. If you work here, please ask your "
    "manager for an invite link.")
ONLY_PRIVATE = ("I only work in private chats, so that nothing about a child is shared in a "
                "group. I'll leave this group now. Please message me directly instead.")
PRIVACY = (
    "What Flourish keeps, and who can see it\n\n"
    "• Your answers to each debrief, on your organisation's own server. Anything you type in your "
    "own words, and children's names, are encrypted there.\n"
    "• Your Telegram user id (so I know it's you), and the ids (not the text) of this chat's "
    "messages until a debrief is submitted.\n"
    "• Who can see your debriefs: you, the managers who review them for your setting, and "
    "inspectors when the setting exports its records. Every time someone opens a record it is "
    "logged.\n"
    "• After you submit, I delete the questions and answers from this chat (unless your setting "
    "has turned that off) and leave a short receipt.\n"
    "• Nothing is used for anything else, or shared outside your organisation.\n\n"
    "To see, correct or erase what is held about you, ask your registered manager or the "
    "setting's data protection lead: they can export or remove it.")
CHILD_PRIVACY = (
    "What I keep 💛\n\n"
    "• What you tell me. It is kept safe and locked.\n"
    "• Who sees it: the grown-ups who look after you here. Sometimes an inspector, whose job is "
    "to check you are cared for well.\n"
    "• I do not share it with anyone else.\n\n"
    "You can ask a grown-up you trust to show you what is kept, or to change it.")


@dataclass
class Step:
    """The outcome of one database transaction for one update."""

    reply: Reply | None = None
    notes: list[str] = field(default_factory=list)
    duplicate: bool = False
    claimed: bool = False  # the update id was recorded in this transaction
    replace_ids: dict[str, int] = field(default_factory=dict)
    delete_after: bool = True
    notices: list[tuple[int, Outbound]] = field(default_factory=list)  # (chat id, message)
    fold: Outbound | None = None  # the whole reply, edited into the pressed message...
    pressed_id: int | None = None  # ...this one
    tracked_ids: list[int] = field(default_factory=list)  # a finished conversation's messages


@dataclass(frozen=True)
class Pressed:
    """The message whose button was pressed: its id, the questions answered in it before, the
    question it shows, the choice's label, and the question id pressed."""

    message_id: int
    record: str
    question: str
    label: str
    scope: str


Work = Callable[[Session, int], Reply]  # (session, person id) -> the turn's reply
TRACK_WITHIN = timedelta(seconds=0.5)


# --- the database side (runs in a worker thread) -------------------------------------------------


def _track(session: Session, items: list[Tracked]) -> None:
    for item in items:
        crud.track_message(session, conversation_id=item.conversation_id, chat_id=item.chat_id,
                           message_id=item.message_id, question_id=item.question_id)


def _step(session: Session, *, update_id: int, user_id: int, chat_id: int, work: Work,
          incoming_message_id: int | None = None, pressed: Pressed | None = None,
          carried: list[Tracked] | None = None) -> Step:
    _track(session, carried or [])  # the ids of the messages this chat's last step sent
    if not crud.claim_update(session, update_id=update_id):
        return Step(duplicate=True)
    person = crud.person_by_telegram_id(session, telegram_user_id=user_id)
    if person is None or person.id is None:
        return Step(notes=[NOT_ENROLLED], claimed=True)
    reply = work(session, person.id)
    if reply.submitted_debrief_id is not None:
        kill_point("before_commit")
    step = Step(reply=reply, claimed=True)
    for notice in reply.notices:
        target = crud.get_person(session, person_id=notice.person_id)
        if target is not None and target.telegram_user_id is not None:
            step.notices.append((target.telegram_user_id,
                                 Outbound(text=notice.text, buttons=notice.buttons)))
    if reply.conversation_id is None:
        return step
    if incoming_message_id is not None:
        crud.track_message(session, conversation_id=reply.conversation_id, chat_id=chat_id,
                           message_id=incoming_message_id, from_bot=False)
    for outbound in reply.messages:
        if outbound.replace_previous and outbound.question_id:
            previous = crud.last_question_message(session, conversation_id=reply.conversation_id,
                                                  question_id=outbound.question_id)
            if previous is not None:
                step.replace_ids[outbound.question_id] = previous.message_id
    setting = crud.get_setting(session, setting_id=person.setting_id)
    step.delete_after = setting.delete_chat_after_submit if setting is not None else True
    if _cleans_up(reply):
        step.tracked_ids = [m.message_id for m in crud.conversation_messages(
            session, conversation_id=reply.conversation_id)]
    elif pressed is not None and reply.accepted:
        step.fold = _fold(session, reply, pressed, chat_id)
        step.pressed_id = pressed.message_id
    return step


def _fold(session: Session, reply: Reply, pressed: Pressed, chat_id: int) -> Outbound | None:
    """The reply as one edit of the pressed message, when that message is this conversation's
    question (not a notice, not an old message) and the reply fits; its id is written here."""
    assert reply.conversation_id is not None
    shown = crud.last_question_message(session, conversation_id=reply.conversation_id,
                                       question_id=pressed.scope)
    if shown is None or shown.message_id != pressed.message_id:
        return None
    fold = folded(pressed.record, pressed.question, pressed.label, reply.messages)
    if fold is not None:
        crud.track_message(session, conversation_id=reply.conversation_id, chat_id=chat_id,
                           message_id=pressed.message_id, question_id=fold.question_id)
    return fold


# --- the Telegram side ----------------------------------------------------------------------------


def _cleans_up(reply: Reply) -> bool:
    """A finished debrief: its questions and answers leave the chat, a receipt stays."""
    return reply.flow_id == STAFF_DEBRIEF and reply.finished and reply.conversation_id is not None


async def _deliver(context: Context, chat_id: int, step: Step) -> None:
    """Send a step's messages, remember their ids, and clean up after a submit or cancel."""
    svc = services(context)
    for note in step.notes:
        await send_text(context.bot, chat_id, note)
    for target, notice in step.notices:
        try:
            await send_outbound(context.bot, target, [notice])
        except TelegramError as exc:
            log.warning("could not deliver a notice: %s", type(exc).__name__)
    if step.reply is None:
        return
    if _cleans_up(step.reply):
        if step.reply.submitted_debrief_id is not None:
            kill_point("after_commit")
        await _finish(context, chat_id, step)
        return
    if step.fold is not None and step.pressed_id is not None and await edit_text(
            context.bot, chat_id, step.pressed_id, step.fold.text, keyboard(step.fold.buttons)):
        return  # its id was written with the step
    sent = await send_outbound(context.bot, chat_id, step.reply.messages,
                               replace_ids=step.replace_ids)
    if step.reply.conversation_id is not None:
        _remember(svc, chat_id, step.reply.conversation_id, sent)


def _remember(svc: Services, chat_id: int, conversation_id: int, sent: list[Sent]) -> None:
    """Keep the new messages' ids for the chat's next step, and plan a flush in case none comes."""
    svc.untracked.setdefault(chat_id, []).extend(
        Tracked(conversation_id, chat_id, item.message_id, item.question_id)
        for item in sent if not item.edited)
    if svc.flush_due or not svc.untracked.get(chat_id):
        return
    svc.flush_due = True
    task = asyncio.get_running_loop().create_task(_flush_soon(svc))
    svc.background.add(task)
    task.add_done_callback(svc.background.discard)


async def _flush_soon(svc: Services) -> None:
    """Write every chat's untracked ids, in one transaction, `TRACK_WITHIN` from now."""
    await asyncio.sleep(TRACK_WITHIN.total_seconds())
    await flush_untracked(svc)


async def flush_untracked(svc: Services) -> None:
    """Write the ids of every message sent and not yet written down (also at shutdown)."""
    async with svc.flushing:
        svc.flush_due = False
        items = [item for chat in svc.untracked.values() for item in chat]
        svc.untracked.clear()
        if not items:
            return
        try:
            await svc.db(lambda session: _track(session, items))
        except Exception as exc:  # kept for the next try: a busy database loses nothing here
            log.warning("could not write message ids yet: %s", type(exc).__name__)
            for item in items:
                svc.untracked.setdefault(item.chat_id, []).append(item)


async def _finish(context: Context, chat_id: int, step: Step) -> None:
    """After a submit or cancel: delete the tracked Q&A (if the setting wants), leave a receipt."""
    assert step.reply is not None
    assert step.reply.conversation_id is not None
    svc = services(context)
    conversation_id = step.reply.conversation_id
    removed = 0
    submitted = step.reply.submitted_debrief_id is not None
    if step.delete_after:  # every id was written before the step read them (see `run`)
        removed = await delete_messages(context.bot, chat_id, step.tracked_ids)
    if submitted:
        kill_point("after_delete")
    lines = [m.text for m in step.reply.messages]
    if submitted:
        lines.append(f"Receipt: debrief #{step.reply.submitted_debrief_id} received.")
    if removed:
        lines.append("For privacy, the questions and answers have been removed from this chat.")
    # The receipt goes before the tracked messages are forgotten: a crash in between means a
    # restart sends it again (twice is better than never).
    await send_outbound(context.bot, chat_id, [Outbound(text="\n\n".join(lines), kind="done")])
    if submitted:
        kill_point("after_receipt")
    await svc.db(lambda s: crud.forget_messages(s, conversation_id=conversation_id))
    log.info("conversation %s finished (%s), %d messages removed", conversation_id,
             "submitted" if step.reply.submitted_debrief_id else "cancelled", removed)


async def finish_interrupted_cleanups(svc: Services, bot: Bot) -> int:
    """Delete the tracked Q&A of debriefs that were finished just before a crash; return how many
    conversations were cleaned up. Run at start, so a restart completes what a kill cut short."""

    def pending(session: Session) -> list[tuple[int, int, list[int], bool, int | None]]:
        found = []
        for conversation_id in crud.finished_conversations_with_messages(session):
            conversation = crud.get_conversation(session, conversation_id=conversation_id)
            if conversation is None or json.loads(conversation.state or "{}").get("status") == "paused":
                continue  # paused, not finished: its messages stay
            rows = crud.conversation_messages(session, conversation_id=conversation_id)
            person = crud.get_person(session, person_id=conversation.person_id)
            setting = crud.get_setting(session, setting_id=person.setting_id) if person else None
            delete = setting.delete_chat_after_submit if setting is not None else True
            found.append((conversation_id, rows[0].chat_id, [r.message_id for r in rows], delete,
                          conversation.debrief_id))
        return found

    def forget(conversation_id: int) -> Callable[[Session], None]:
        return lambda session: crud.forget_messages(session, conversation_id=conversation_id)

    work = await svc.db(pending)
    for conversation_id, chat_id, message_ids, delete, debrief_id in work:
        if delete:
            await delete_messages(bot, chat_id, message_ids)
        if debrief_id is not None:  # the receipt may not have gone before the crash
            await send_text(bot, chat_id, f"Receipt: debrief #{debrief_id} received. (I restarted "
                            "just after you submitted it, so here it is again in case it was lost.)")
        await svc.db(forget(conversation_id))
    return len(work)


UNSUBMITTED = ("I restarted just now, and your debrief is not submitted yet: nothing is lost. "
               "If you pressed Submit, please check it below and press Submit again.")


async def remind_unsubmitted(svc: Services, bot: Bot, *, within: timedelta = timedelta(days=1),
                             ) -> int:
    """At start: everyone left at a debrief's summary recently is shown it again with a word, once
    per version of it (a press lost in a crash must not look like a record made)."""
    engine = svc.conversations.debriefs.engine

    def waiting(session: Session) -> list[tuple[int, int, list[Outbound]]]:
        found = []
        for conversation, state in crud.conversations_at_summary(
                session, flow_id=STAFF_DEBRIEF, since=utcnow() - within):
            person = crud.get_person(session, person_id=conversation.person_id)
            if person is None or not person.active or person.telegram_user_id is None:
                continue
            assert conversation.id is not None
            key = {"version": conversation.version}
            if crud.audited(session, action="summary_reminded", object_id=conversation.id,
                            detail=key):
                continue
            crud.record_audit(session, actor_id=person.id, action="summary_reminded",
                              object_type="conversation", object_id=conversation.id, detail=key)
            _, messages = engine.resume(State.model_validate_json(state))
            found.append((conversation.id, person.telegram_user_id, messages[1:]))
        return found

    reminders = await svc.db(waiting)
    for conversation_id, chat_id, messages in reminders:
        try:
            sent = await send_outbound(bot, chat_id, [Outbound(text=UNSUBMITTED), *messages])
        except TelegramError as exc:  # blocked the bot, say: the others still hear
            log.warning("could not show an unsubmitted summary again: %s", type(exc).__name__)
            continue

        def track(session: Session, conversation_id: int = conversation_id,
                  chat_id: int = chat_id, sent: list[Any] = sent) -> None:
            for item in sent:
                crud.track_message(session, conversation_id=conversation_id, chat_id=chat_id,
                                   message_id=item.message_id, question_id=item.question_id)

        await svc.db(track)
    return len(reminders)


async def run(update: Update, context: Context, work: Work, *, incoming: Message | None = None,
              pressed: CallbackQuery | None = None) -> None:
    """One turn for the person behind this update: the work in one transaction, then the replies."""
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None
    assert chat is not None
    if pressed is not None and pressed.data == "summary|submit":
        kill_point("before_step")
    shown = _pressed(pressed)
    async with svc.flushing:  # no yield after this: a flush now either wrote them or never will
        carried = svc.untracked.pop(chat.id, [])
    try:
        step = await svc.db(lambda s: _step(
            s, update_id=update.update_id, user_id=user.id, chat_id=chat.id, work=work,
            incoming_message_id=incoming.message_id if incoming else None, pressed=shown,
            carried=carried))
    except BaseException:
        svc.untracked.setdefault(chat.id, [])[:0] = carried
        raise
    if step.claimed:
        svc.claimed.add(update.update_id)
    if step.duplicate:
        return
    await _deliver(context, chat.id, step)
    if pressed is not None and step.fold is None:  # after the next question: it is awaited
        await _show_pressed(context, pressed, step)


def _pressed(query: CallbackQuery | None) -> Pressed | None:
    """What was pressed, on which message, for folding the answer into that message."""
    if query is None or not isinstance(query.message, Message):
        return None
    payload = query.data or ""
    label, press = pressed_label(query.message, payload), parse(payload)
    if label is None or press is None:
        return None
    record, question = split_record(query.message.text or "")
    return Pressed(query.message.message_id, record, question, label, press.scope)


async def _show_pressed(context: Context, query: CallbackQuery, step: Step) -> None:
    """Edit the pressed question to show the choice (unless the reply edits it itself)."""
    message, payload = query.message, query.data or ""
    if step.reply is None or not step.reply.accepted or not isinstance(message, Message) \
            or _cleans_up(step.reply):
        return
    pressed = parse(payload)
    scope = pressed.scope if pressed is not None else ""
    edits_it = any(o.replace_previous and o.question_id == scope for o in step.reply.messages)
    label = pressed_label(message, payload)
    if not edits_it and label:
        await show_choice(context.bot, message, label)


# --- command handlers -----------------------------------------------------------------------------


async def start_command(update: Update, context: Context) -> None:
    """/start [code]: enrol with an invite code, or say hello to someone already enrolled."""
    svc = services(context)
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    assert user is not None
    assert chat is not None
    assert message is not None
    code = context.args[0] if context.args else None

    def enrol(session: Session) -> tuple[str, str | None]:
        crud.claim_update(session, update_id=update.update_id)
        known = crud.person_by_telegram_id(session, telegram_user_id=user.id)
        if code is None:
            if known is None:
                return NOT_ENROLLED, None
            return "Welcome back. " + help_text(str(known.role)), str(known.role)
        try:
            person = crud.redeem_invite(session, code=code, telegram_user_id=user.id)
        except InviteError as exc:
            return str(exc), None
        setting = crud.get_setting(session, setting_id=person.setting_id)
        where = f" for {setting.name}" if setting is not None else ""
        role = str(person.role)
        if role == "child":
            return "Hi. 💛 Welcome. " + help_text(role), role
        text = f"Welcome to Flourish. You're set up as {role}{where}.\n\n" + help_text(role)
        return text, role

    text, role = await svc.db(enrol)
    await send_text(context.bot, chat.id, text)
    if role is not None:
        await set_commands_for(context.bot, chat_id=chat.id, role=role)


def _number(context: Context) -> int | None:
    args = context.args or []
    return int(args[0]) if args and args[0].isdigit() and len(args[0]) <= 9 else None


async def service_command(update: Update, context: Context) -> None:
    """/debrief, /pause, /cancel, /review [incident], /childview [incident], /tell."""
    message = update.effective_message
    assert message is not None
    name = (message.text or "/").split(maxsplit=1)[0].split("@")[0].removeprefix("/").lower()
    argument = _number(context)
    conversations = services(context).conversations
    await run(update, context, lambda s, person_id: conversations.command(
        s, person_id=person_id, name=name, argument=argument), incoming=message)


async def pending_command(update: Update, context: Context) -> None:
    """/pending: what is waiting for me (debriefs, reviews, actions and follow-ups)."""
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None
    assert chat is not None

    def collect(session: Session) -> list[str]:
        crud.claim_update(session, update_id=update.update_id)
        person = crud.person_by_telegram_id(session, telegram_user_id=user.id)
        if person is None or person.id is None:
            return [NOT_ENROLLED]
        return svc.conversations.pending(session, person_id=person.id)

    lines = await svc.db(collect)
    await send_text(context.bot, chat.id, "\n".join(lines))


async def _reply_for_person(update: Update, context: Context,
                            text_for: Callable[[Person | None], str]) -> None:
    """Send the text that fits whoever sent this command (None: not enrolled)."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None
    assert chat is not None

    def lookup(session: Session) -> str:
        crud.claim_update(session, update_id=update.update_id)
        return text_for(crud.person_by_telegram_id(session, telegram_user_id=user.id))

    await send_text(context.bot, chat.id, await services(context).db(lookup))


async def help_command(update: Update, context: Context) -> None:
    """/help: how this works, and the commands for my role."""
    await _reply_for_person(update, context, lambda person: NOT_ENROLLED if person is None
                            else help_text(str(person.role)))


async def privacy_command(update: Update, context: Context) -> None:
    """/privacy: what is stored, where, who can see it, and how to ask for it to be erased."""
    await _reply_for_person(update, context, lambda person: CHILD_PRIVACY
                            if person is not None and person.role == Role.child else PRIVACY)


# --- buttons, words and everything else --------------------------------------------------------


async def on_button(update: Update, context: Context) -> None:
    """A pressed inline button: step the conversation and edit the pressed message to show it."""
    query = update.callback_query
    assert query is not None
    answered = asyncio.create_task(acknowledge(query))  # the spinner stops while the step runs
    inbound = Inbound.pressed(query.data or "")
    conversations = services(context).conversations
    try:
        await run(update, context, lambda s, person_id: conversations.handle(
            s, person_id=person_id, inbound=inbound), pressed=query)
    finally:
        await answered


UNSUPPORTED_ATTRIBUTES = ("sticker", "photo", "voice", "video", "video_note", "audio", "animation",
                          "location", "venue", "contact", "document", "poll", "dice", "game")


def _inbound_for(update: Update) -> Inbound:
    if update.edited_message is not None:
        return Inbound.unsupported("edited")
    message = update.message
    assert message is not None
    if message.text is not None:
        return Inbound.typed(message.text)
    kind = next((a for a in UNSUPPORTED_ATTRIBUTES if getattr(message, a, None)), "other")
    return Inbound.unsupported(kind)


async def on_message(update: Update, context: Context) -> None:
    """Typed words answer the question; anything else (stickers, photos, edits...) is explained."""
    message = update.effective_message
    if message is None:
        return
    inbound = _inbound_for(update)
    words = inbound.text.split(maxsplit=1) if inbound.kind == "text" else []
    command = words[0].split("@")[0] if words else ""  # whitespace only: the engine explains
    if command.startswith("/") and values.control_word(command) is None:
        chat = update.effective_chat
        assert chat is not None
        await send_text(context.bot, chat.id, f"I don't know the command {command[:40]}. "
                        "Send /help to see what I can do.")
        return
    incoming = message if update.message is not None else None
    conversations = services(context).conversations
    await run(update, context, lambda s, person_id: conversations.handle(
        s, person_id=person_id, inbound=inbound), incoming=incoming)


# --- commands menu and help ------------------------------------------------------------------------


def commands_for(role: str) -> list[tuple[str, str]]:
    """The commands a role sees in its menu and in /help."""
    return COMMANDS.get(role, COMMANDS["staff"])


def help_text(role: str) -> str:
    """What the bot does for a role, and its commands."""
    lines = [f"/{c} - {d}" for c, d in commands_for(role)]
    intro = ("I help you reflect after a child has been held or restricted. Most answers are "
             "buttons; you can also type. You can skip, go back or pause at any time.")
    if role == "child":
        intro = "I'm here so you can tell us how things were for you. You can stop at any time."
    return intro + "\n\n" + "\n".join(lines)


async def set_commands_for(bot: Bot, *, chat_id: int, role: str) -> None:
    """Show a role's commands in one private chat's menu (setMyCommands, chat scope)."""
    commands = [BotCommand(c, d) for c, d in commands_for(role)]
    try:
        await with_retry(lambda: bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id)),
                         idempotent=True)
    except TelegramError as exc:
        log.warning("could not set commands for a chat: %s", type(exc).__name__)


def register(app: App) -> None:
    """The commands (group 0)."""
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler("start", start_command, filters=private))
    app.add_handler(CommandHandler(list(SERVICE_COMMANDS), service_command, filters=private))
    app.add_handler(CommandHandler("pending", pending_command, filters=private))
    app.add_handler(CommandHandler("help", help_command, filters=private))
    app.add_handler(CommandHandler("privacy", privacy_command, filters=private))


def register_fallbacks(app: App) -> None:
    """The catch-alls, added after every extension's handlers: buttons and any other message."""
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(
        filters.ChatType.PRIVATE & (filters.UpdateType.MESSAGE | filters.UpdateType.EDITED_MESSAGE),
        on_message))
