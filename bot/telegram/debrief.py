"""The staff debrief on Telegram: enrolment, the commands, buttons, typed answers and clean-up.

Each handler does its database work in one transaction, which also records the update id as
processed (so a crash just after the commit cannot replay it after a restart; `FlourishApplication`
skips updates already recorded), then talks to Telegram. The conversation itself is the engine's;
this module only carries it, tracks which chat messages belong to it (ids, never text) and
deletes them after submission when the setting asks for that.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from sqlmodel import Session
from telegram import Bot, BotCommand, BotCommandScopeChat, Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import access
from bot.conversations import STAFF_DEBRIEF, Reply
from bot.telegram.extension import App, Context, Extension, Services, services
from bot.telegram.transport import (
    acknowledge,
    delete_messages,
    pressed_label,
    send_outbound,
    send_text,
    show_choice,
    with_retry,
)
from bot.wellbeing import checkin_requested
from dialogues import values
from dialogues.engine import Inbound, Outbound, State
from storage import crud
from storage.crud import InviteError
from storage.models import Child, Conversation, Person, Role, Setting

log = logging.getLogger(__name__)

DEBRIEF_ROLES = ("staff", "manager", "admin")
CHILD_DEBRIEF_REFUSAL = "Send /tell to tell us how it was for you. 💛"
CORE_COMMANDS: dict[str, list[tuple[str, str]]] = {
    role: [("debrief", "Start a debrief, or carry on with yours"),
           ("pending", "What is waiting for me"),
           ("pause", "Pause; carry on later from the same place"),
           ("cancel", "Cancel the debrief in progress"),
           ("help", "How this works"),
           ("privacy", "What is stored and who can see it")]
    for role in DEBRIEF_ROLES
}
CORE_COMMANDS["child"] = [("help", "How this works"), ("privacy", "What is kept and who sees it")]
DEFAULT_COMMANDS = [("start", "Start, with your invite code"), ("help", "What this bot is")]

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


@dataclass
class Step:
    """The outcome of one database transaction for one update."""

    reply: Reply | None = None
    notes: list[str] = field(default_factory=list)
    person_id: int | None = None
    conversation_id: int | None = None
    other_flow: str | None = None
    accepted: bool = False
    replace_ids: dict[str, int] = field(default_factory=dict)
    delete_after: bool = True
    notices: list[tuple[int, Outbound]] = field(default_factory=list)  # (chat id, message)


Action = Literal["start", "input", "pause", "cancel"]


# --- the database side (runs in a worker thread) -------------------------------------------------


def current_scope(state: State) -> str:
    """The scope a button must carry to count: the current question, or the status."""
    return state.current if state.status == "active" and state.current else state.status


def _step(
    session: Session,
    svc: Services,
    *,
    update_id: int,
    user_id: int,
    chat_id: int,
    action: Action,
    inbound: Inbound | None = None,
    incoming_message_id: int | None = None,
) -> Step:
    person = crud.person_by_telegram_id(session, telegram_user_id=user_id)
    if person is None or person.id is None:
        return Step(notes=[NOT_ENROLLED])
    step = Step(person_id=person.id)
    conversation = crud.active_conversation(session, person_id=person.id)
    if conversation is not None and conversation.flow_id != STAFF_DEBRIEF:
        step.other_flow = conversation.flow_id  # its extension records the update with its step
        return step
    crud.claim_update(session, update_id=update_id)
    if str(person.role) not in DEBRIEF_ROLES:
        message = CHILD_DEBRIEF_REFUSAL if person.role == Role.child else None
        refused = access.refuse(session, person=person, action=f"debrief_{action}",
                                object_type="debrief", object_id=None, message=message)
        step.notes.append(refused.message)
        return step
    state = State.model_validate_json(conversation.state) if conversation is not None else None
    debriefs = svc.debriefs
    if action == "start":
        step.reply = debriefs.start_or_resume(session, person=person)
    elif state is None and action in ("pause", "cancel"):
        step.notes.append(f"There's no debrief in progress, so there's nothing to {action}.")
        return step
    elif action == "pause" and state is not None and state.status != "active":
        step.notes.append("Everything so far is saved. Send /debrief when you're ready to carry on.")
        return step
    elif action == "pause":
        step.reply = debriefs.handle(session, person=person, inbound=Inbound.typed("pause"))
    elif action == "cancel":
        if state is not None and state.status == "paused":
            debriefs.start_or_resume(session, person=person)
        step.reply = debriefs.handle(session, person=person, inbound=Inbound.typed("cancel"))
    else:
        assert inbound is not None
        if inbound.kind == "button" and state is not None:
            step.accepted = inbound.text.partition("|")[0] == current_scope(state)
        step.reply = debriefs.handle(session, person=person, inbound=inbound)
    if step.reply is not None and step.reply.support_requested:
        _ask_managers_to_check_in(session, person, step)
    after = crud.active_conversation(session, person_id=person.id)
    tracked = after or conversation
    if tracked is None or tracked.id is None:
        return step
    step.conversation_id = tracked.id
    if incoming_message_id is not None:
        crud.track_message(session, conversation_id=tracked.id, chat_id=chat_id,
                           message_id=incoming_message_id, from_bot=False)
    for outbound in step.reply.messages if step.reply else []:
        if outbound.replace_previous and outbound.question_id:
            previous = crud.last_question_message(session, conversation_id=tracked.id,
                                                  question_id=outbound.question_id)
            if previous is not None:
                step.replace_ids[outbound.question_id] = previous.message_id
    setting = session.get(Setting, person.setting_id)
    step.delete_after = setting.delete_chat_after_submit if setting is not None else True
    return step


def _ask_managers_to_check_in(session: Session, person: Person, step: Step) -> None:
    """The person asked for support: a nudge to each enrolled manager (with nothing from the
    debrief), and a kind word for them unless the engine has just said it (when it pauses)."""
    assert step.reply is not None
    supportive, notices = checkin_requested(session, person=person)
    for notice in notices:
        manager = session.get(Person, notice.person_id)
        if manager is not None and manager.telegram_user_id is not None:
            step.notices.append((manager.telegram_user_id,
                                 Outbound(text=notice.text, buttons=notice.buttons)))
    if step.reply.status == "active":
        step.reply.messages = [*supportive, *step.reply.messages]


# --- the Telegram side ----------------------------------------------------------------------------


def _finished(reply: Reply) -> bool:
    return reply.submitted_debrief_id is not None or reply.cancelled


async def _deliver(update: Update, context: Context, step: Step) -> None:
    """Send a step's messages, remember their ids, and clean up after a submit or cancel."""
    svc = services(context)
    chat = update.effective_chat
    assert chat is not None
    for note in step.notes:
        await send_text(context.bot, chat.id, note)
    for chat_id, notice in step.notices:
        try:
            await send_outbound(context.bot, chat_id, [notice])
        except TelegramError as exc:
            log.warning("could not deliver a check-in request: %s", type(exc).__name__)
    if step.reply is None:
        return
    if _finished(step.reply):
        await _finish(context, chat.id, step)
        return
    sent = await send_outbound(context.bot, chat.id, step.reply.messages,
                               replace_ids=step.replace_ids)
    if step.conversation_id is None:
        return
    conversation_id = step.conversation_id

    def track(session: Session) -> None:
        for item in sent:
            if not item.edited:
                crud.track_message(session, conversation_id=conversation_id, chat_id=chat.id,
                                   message_id=item.message_id, question_id=item.question_id)

    await svc.db(track)


async def _finish(context: Context, chat_id: int, step: Step) -> None:
    """After a submit or cancel: delete the tracked Q&A (if the setting wants), leave a receipt."""
    assert step.reply is not None
    assert step.conversation_id is not None
    svc = services(context)
    conversation_id = step.conversation_id
    rows = await svc.db(lambda s: [(m.message_id, m.from_bot) for m in
                                   crud.conversation_messages(s, conversation_id=conversation_id)])
    removed = 0
    if step.delete_after:
        removed = await delete_messages(context.bot, chat_id, [m for m, _ in rows])
    await svc.db(lambda s: crud.forget_messages(s, conversation_id=conversation_id))
    lines = [m.text for m in step.reply.messages]
    if step.reply.submitted_debrief_id is not None:
        lines.append(f"Receipt: debrief #{step.reply.submitted_debrief_id} received.")
    if removed:
        lines.append("For privacy, the questions and answers have been removed from this chat.")
    await send_outbound(context.bot, chat_id, [Outbound(text="\n\n".join(lines), kind="done")])
    log.info("conversation %s finished (%s), %d messages removed", conversation_id,
             "submitted" if step.reply.submitted_debrief_id else "cancelled", removed)


async def finish_interrupted_cleanups(svc: Services, bot: Bot) -> int:
    """Delete the tracked Q&A of debriefs that were finished just before a crash; return how many
    conversations were cleaned up. Run at start, so a restart completes what a kill cut short."""

    def pending(session: Session) -> list[tuple[int, int, list[int], bool]]:
        found = []
        for conversation_id in crud.finished_conversations_with_messages(session):
            rows = crud.conversation_messages(session, conversation_id=conversation_id)
            conversation = session.get(Conversation, conversation_id)
            person = session.get(Person, conversation.person_id) if conversation else None
            setting = session.get(Setting, person.setting_id) if person else None
            delete = setting.delete_chat_after_submit if setting is not None else True
            found.append((conversation_id, rows[0].chat_id, [r.message_id for r in rows], delete))
        return found

    def forget(conversation_id: int) -> Callable[[Session], None]:
        return lambda session: crud.forget_messages(session, conversation_id=conversation_id)

    work = await svc.db(pending)
    for conversation_id, chat_id, message_ids, delete in work:
        if delete:
            await delete_messages(bot, chat_id, message_ids)
        await svc.db(forget(conversation_id))
    return len(work)


async def _hand_to_flow(update: Update, context: Context, step: Step, inbound: Inbound) -> None:
    """Pass input to the extension that runs the person's active conversation."""
    svc = services(context)
    assert step.other_flow is not None
    assert step.person_id is not None
    handler = svc.flow_handler(step.other_flow)
    person_id = step.person_id
    person = await svc.db(lambda s: s.get(Person, person_id))
    if handler is None or person is None:
        log.warning("no handler for flow %s", step.other_flow)
        await send_text(context.bot, update.effective_chat.id if update.effective_chat else 0,
                        "Sorry, I can't carry on with that conversation just now.")
        return
    await handler(update, context, person, inbound)


async def _run(update: Update, context: Context, action: Action,
               inbound: Inbound | None = None, incoming: Message | None = None,
               before_send: Callable[[Step], Awaitable[None]] | None = None) -> Step:
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None
    assert chat is not None
    step = await svc.db(lambda s: _step(
        s, svc, update_id=update.update_id, user_id=user.id, chat_id=chat.id, action=action,
        inbound=inbound, incoming_message_id=incoming.message_id if incoming else None))
    if step.other_flow is not None:
        await _hand_to_flow(update, context, step, inbound or Inbound.typed(
            incoming.text or "" if incoming else ""))
        return step
    if before_send is not None:
        await before_send(step)
    await _deliver(update, context, step)
    return step


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
            return "Welcome back. " + help_text(svc, str(known.role)), str(known.role)
        try:
            person = crud.redeem_invite(session, code=code, telegram_user_id=user.id)
        except InviteError as exc:
            return str(exc), None
        setting = session.get(Setting, person.setting_id)
        where = f" for {setting.name}" if setting is not None else ""
        role = str(person.role)
        text = f"Welcome to Flourish. You're set up as {role}{where}.\n\n" + help_text(svc, role)
        return text, role

    text, role = await svc.db(enrol)
    await send_text(context.bot, chat.id, text)
    if role is not None:
        await set_commands_for(svc, context.bot, chat_id=chat.id, role=role)


async def debrief_command(update: Update, context: Context) -> None:
    """/debrief: start a new debrief, or resume the one in progress."""
    await _run(update, context, "start", incoming=update.effective_message)


async def pause_command(update: Update, context: Context) -> None:
    """/pause: pause the debrief in progress; /debrief carries on from the same place."""
    await _run(update, context, "pause", incoming=update.effective_message)


async def cancel_command(update: Update, context: Context) -> None:
    """/cancel: ask to confirm cancelling the debrief in progress."""
    await _run(update, context, "cancel", incoming=update.effective_message)


async def pending_command(update: Update, context: Context) -> None:
    """/pending: what is waiting for me (debriefs to do or finish, and what extensions add)."""
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None
    assert chat is not None

    def collect(session: Session) -> list[str]:
        crud.claim_update(session, update_id=update.update_id)
        person = crud.person_by_telegram_id(session, telegram_user_id=user.id)
        if person is None:
            return [NOT_ENROLLED]
        lines = pending_debriefs(session, person)
        for extension in svc.extensions:
            if extension.pending is not None:
                lines.extend(extension.pending(session, person))
        if not lines:
            return ["Nothing is waiting for you just now. Thank you."]
        return ["Waiting for you:", *lines]

    lines = await svc.db(collect)
    await send_text(context.bot, chat.id, "\n".join(lines))


def pending_debriefs(session: Session, person: Person) -> list[str]:
    """The /pending lines for debriefs: the one in progress and incidents still to debrief."""
    assert person.id is not None
    lines: list[str] = []
    if str(person.role) not in DEBRIEF_ROLES:
        return lines
    conversation = crud.active_conversation(session, person_id=person.id)
    if conversation is not None and conversation.flow_id == STAFF_DEBRIEF:
        lines.append("• Your debrief in progress: send /debrief to carry on.")
    setting = session.get(Setting, person.setting_id)
    zone = ZoneInfo(setting.timezone if setting else "Europe/London")
    for incident in crud.pending_debrief_incidents(session, person_id=person.id):
        child = session.get(Child, incident.child_id)
        name = child.display_name if child else "a child"
        when = incident.occurred_at.astimezone(zone)
        lines.append(f"• A debrief for the incident with {name} on {when:%a %d %b at %H:%M}: "
                     "send /debrief.")
    return lines


async def help_command(update: Update, context: Context) -> None:
    """/help: how this works, and the commands for my role."""
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None
    assert chat is not None

    def lookup(session: Session) -> str:
        crud.claim_update(session, update_id=update.update_id)
        person = crud.person_by_telegram_id(session, telegram_user_id=user.id)
        return NOT_ENROLLED if person is None else help_text(svc, str(person.role))

    text = await svc.db(lookup)
    await send_text(context.bot, chat.id, text)


async def privacy_command(update: Update, context: Context) -> None:
    """/privacy: what is stored, where, who can see it, and how to ask for it to be erased."""
    chat = update.effective_chat
    assert chat is not None
    await send_text(context.bot, chat.id, PRIVACY)


# --- buttons, words and everything else --------------------------------------------------------


async def on_button(update: Update, context: Context) -> None:
    """A pressed inline button: step the conversation and edit the pressed message to show it."""
    query = update.callback_query
    assert query is not None
    await acknowledge(query)
    payload = query.data or ""

    async def record_the_choice(step: Step) -> None:
        message = query.message
        if step.reply is None or not step.accepted or not isinstance(message, Message) \
                or _finished(step.reply):
            return
        scope = payload.partition("|")[0]
        edits_it = any(o.replace_previous and o.question_id == scope for o in step.reply.messages)
        label = pressed_label(message, payload)
        if not edits_it and label:
            await show_choice(context.bot, message, label)

    await _run(update, context, "input", Inbound.pressed(payload), before_send=record_the_choice)


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
    await _run(update, context, "input", inbound, incoming=incoming)


# --- commands menu and help ------------------------------------------------------------------------


def commands_for(svc: Services, role: str) -> list[tuple[str, str]]:
    """The commands a role sees: the core ones, then each extension's."""
    seen: dict[str, str] = dict(CORE_COMMANDS.get(role, CORE_COMMANDS["staff"]))
    for extension in svc.extensions:
        for command, description in extension.commands.get(role, ()):
            seen.setdefault(command, description)
    return list(seen.items())


def help_text(svc: Services, role: str) -> str:
    """What the bot does for a role, and its commands."""
    lines = [f"/{c} - {d}" for c, d in commands_for(svc, role)]
    intro = ("I help you reflect after a child has been held or restricted. Most answers are "
             "buttons; you can also type. You can skip, go back or pause at any time.")
    if role == "child":
        intro = "I'm here so you can tell us how things were for you. You can stop at any time."
    return intro + "\n\n" + "\n".join(lines)


async def set_commands_for(svc: Services, bot: Bot, *, chat_id: int, role: str) -> None:
    """Show a role's commands in one private chat's menu (setMyCommands, chat scope)."""
    commands = [BotCommand(c, d) for c, d in commands_for(svc, role)]
    try:
        await with_retry(lambda: bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id)),
                         idempotent=True)
    except TelegramError as exc:
        log.warning("could not set commands for a chat: %s", type(exc).__name__)


def register(app: App) -> None:
    """The debrief's commands (group 0)."""
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler("start", start_command, filters=private))
    app.add_handler(CommandHandler("debrief", debrief_command, filters=private))
    app.add_handler(CommandHandler("pending", pending_command, filters=private))
    app.add_handler(CommandHandler("pause", pause_command, filters=private))
    app.add_handler(CommandHandler("cancel", cancel_command, filters=private))
    app.add_handler(CommandHandler("help", help_command, filters=private))
    app.add_handler(CommandHandler("privacy", privacy_command, filters=private))


def register_fallbacks(app: App) -> None:
    """The catch-alls, added after every extension's handlers: buttons and any other message."""
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(
        filters.ChatType.PRIVATE & (filters.UpdateType.MESSAGE | filters.UpdateType.EDITED_MESSAGE),
        on_message))


DEBRIEF = Extension(name="debrief", register=register)
