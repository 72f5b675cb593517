"""The manager's review and the child's view on Telegram: `/review`, `/childview`, `/tell`.

A thin carrier around `bot.reviews` and `bot.child_views`: each update is one database
transaction (the service step, any refusal's audit record, and the ids of messages to edit),
then the replies go out through the shared transport, and any alert or notice for someone else
goes to their own private chat. Payloads are prefixed `rv:` (reviews), `cv:` (a child's own
view) and `cva:` (a view recorded with a child).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import access
from bot.child_views import (
    CHILD_VIEW,
    CHILD_VIEW_ASSISTED,
    LATER,
    AssistedViewService,
    ChildViewService,
)
from bot.flow_runner import FlowReply
from bot.followups.telegram import register_opener
from bot.reviews import MANAGER_REVIEW, REVIEW_ADDENDUM, ReviewService, pending_reviews
from bot.telegram.debrief import NOT_ENROLLED
from bot.telegram.extension import App, Context, Extension, FlowHandler, services
from bot.telegram.transport import acknowledge, send_outbound
from dialogues.engine import Inbound, Outbound
from storage import crud
from storage.models import FollowUp, Person, Role

log = logging.getLogger(__name__)

REVIEWS = ReviewService()
CHILD_VIEWS = ChildViewService()
ASSISTED = AssistedViewService()
SERVICE_COMMAND = {MANAGER_REVIEW: "/review", REVIEW_ADDENDUM: "/review",
                   CHILD_VIEW_ASSISTED: "/childview", CHILD_VIEW: "/tell"}
# Commands the engine reads as control words; any other command pauses a staff flow first.
CONTROL_COMMANDS = ("/pause", "/cancel", "/skip", "/back", "/help")
Run = Callable[[Session, Person], FlowReply]


@dataclass
class Outcome:
    """One update's database work: what to send, to whom, and which messages to edit."""

    duplicate: bool = False
    messages: list[Outbound] = field(default_factory=list)
    notices: list[tuple[int, Outbound]] = field(default_factory=list)
    conversation_id: int | None = None
    replace_ids: dict[str, int] = field(default_factory=dict)


def _work(session: Session, *, update_id: int, user_id: int, run: Run, claim: bool) -> Outcome:
    if claim and not crud.claim_update(session, update_id=update_id):
        return Outcome(duplicate=True)
    person = crud.person_by_telegram_id(session, telegram_user_id=user_id)
    if person is None or person.id is None:
        return Outcome(messages=[Outbound(text=NOT_ENROLLED)])
    try:
        reply = run(session, person)
    except access.Refused as refused:
        return Outcome(messages=[Outbound(text=refused.message)])
    outcome = Outcome(messages=reply.messages)
    for notice in reply.notices:
        target = session.get(Person, notice.person_id)
        if target is not None and target.telegram_user_id is not None:
            outcome.notices.append((target.telegram_user_id,
                                    Outbound(text=notice.text, buttons=notice.buttons)))
    conversation = crud.active_conversation(session, person_id=person.id)
    if conversation is not None and conversation.id is not None:
        outcome.conversation_id = conversation.id
        for message in reply.messages:
            if message.replace_previous and message.question_id:
                previous = crud.last_question_message(session, conversation_id=conversation.id,
                                                      question_id=message.question_id)
                if previous is not None:
                    outcome.replace_ids[message.question_id] = previous.message_id
    return outcome


async def _carry(update: Update, context: Context, run: Run, *, claim: bool = True) -> None:
    """Run one step in a transaction, then send the replies and any notices."""
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None
    assert chat is not None
    outcome = await svc.db(lambda s: _work(s, update_id=update.update_id, user_id=user.id, run=run,
                                           claim=claim))
    if outcome.duplicate:
        return
    sent = await send_outbound(context.bot, chat.id, outcome.messages,
                               replace_ids=outcome.replace_ids)
    for chat_id, notice in outcome.notices:
        try:
            await send_outbound(context.bot, chat_id, [notice])
        except TelegramError as exc:
            log.warning("could not deliver a notice: %s", type(exc).__name__)
    conversation_id = outcome.conversation_id
    if conversation_id is None:
        return

    def track(session: Session) -> None:
        for item in sent:
            if not item.edited:
                crud.track_message(session, conversation_id=conversation_id, chat_id=chat.id,
                                   message_id=item.message_id, question_id=item.question_id)

    await svc.db(track)


def _number(context: Context) -> int | None:
    args = context.args or []
    return int(args[0]) if args and args[0].isdigit() and len(args[0]) <= 9 else None


# --- commands --------------------------------------------------------------------------------------


async def review_command(update: Update, context: Context) -> None:
    """/review [incident]: carry on with a review, or open the next incident waiting for one."""
    incident_id = _number(context)
    await _carry(update, context, lambda s, p: REVIEWS.open(s, person=p, incident_id=incident_id))


async def childview_command(update: Update, context: Context) -> None:
    """/childview: record a child's view with them (staff), or tell your own (a child)."""
    incident_id = _number(context)

    def run(session: Session, person: Person) -> FlowReply:
        if person.role == Role.child:
            return CHILD_VIEWS.open(session, person=person, incident_id=incident_id)
        return ASSISTED.open(session, person=person, incident_id=incident_id)

    await _carry(update, context, run)


async def tell_command(update: Update, context: Context) -> None:
    """/tell: a child tells us how it was for them."""
    await _carry(update, context, lambda s, p: CHILD_VIEWS.open(s, person=p))


# --- buttons outside a conversation -------------------------------------------------------------


async def on_voice_button(update: Update, context: Context) -> None:
    """`rv:add:<review>`, `cv:start|later:<incident>`, `cva:start:<incident>`."""
    query = update.callback_query
    assert query is not None
    await acknowledge(query)
    prefix, action, number = (query.data or "").split(":", 2)
    target = int(number) if number.isdigit() and len(number) <= 9 else 0

    def run(session: Session, person: Person) -> FlowReply:
        if prefix == "rv":
            return REVIEWS.start_addendum(session, person=person, review_id=target)
        if prefix == "cva" and action == "invite":
            return CHILD_VIEWS.invite(session, person=person, incident_id=target)
        if prefix == "cva":
            return ASSISTED.open(session, person=person, incident_id=target)
        if action == "later":
            return FlowReply(messages=[Outbound(text=LATER)])
        return CHILD_VIEWS.open(session, person=person, incident_id=target)

    await _carry(update, context, run)


# --- input for a conversation in one of these flows -------------------------------------------


def _flow_handler(flow_id: str) -> FlowHandler:
    async def handle(update: Update, context: Context, person: Person, inbound: Inbound) -> None:
        """Text, button presses and anything else, for a conversation in this flow."""
        command = inbound.text.split()[0].lower() if inbound.kind == "text" and inbound.text else ""
        if command.startswith("/") and command not in CONTROL_COMMANDS:
            # Another command while in this flow: pause here (saved) so that one can run.
            again = SERVICE_COMMAND.get(flow_id, "/help")
            pause = Inbound.typed("pause")

            def run(session: Session, p: Person) -> FlowReply:
                reply = _service_handle(flow_id, session, p, pause)
                if flow_id != CHILD_VIEW:
                    reply.messages.append(Outbound(text=f"Send {command} again now to go on with "
                                                        f"that. {again} brings you back here."))
                return reply

            await _carry(update, context, run)
            return
        await _carry(update, context,
                     lambda s, p: _service_handle(flow_id, s, p, inbound))

    return handle


def _service_handle(flow_id: str, session: Session, person: Person, inbound: Inbound) -> FlowReply:
    if flow_id in (MANAGER_REVIEW, REVIEW_ADDENDUM):
        return REVIEWS.handle(session, person=person, inbound=inbound, flow_id=flow_id)
    if flow_id == CHILD_VIEW:
        return CHILD_VIEWS.handle(session, person=person, inbound=inbound)
    return ASSISTED.handle(session, person=person, inbound=inbound)


async def open_from_nudge(update: Update, context: Context, row: FollowUp) -> None:
    """A nudge's first button ("Review now", "Record the child's view"): open that work."""
    incident_id = row.incident_id

    def run(session: Session, person: Person) -> FlowReply:
        if row.kind.startswith("childview") or person.role != Role.manager:
            return ASSISTED.open(session, person=person, incident_id=incident_id)
        return REVIEWS.open(session, person=person, incident_id=incident_id)

    await _carry(update, context, run)


for _task in ("review", "childview", "safeguarding"):
    register_opener(_task, open_from_nudge)


def register(app: App) -> None:
    """The review and child's-view commands and their buttons (group 0)."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("review", review_command, filters=private))
    app.add_handler(CommandHandler("childview", childview_command, filters=private))
    app.add_handler(CommandHandler("tell", tell_command, filters=private))
    app.add_handler(CallbackQueryHandler(on_voice_button, pattern=r"^(rv|cv|cva):\w+:\d+$"))


VOICES = Extension(
    name="voices",
    register=register,
    commands={
        "manager": [("review", "Review an incident, or carry on with a review"),
                    ("childview", "Record a child's view with them")],
        "staff": [("childview", "Record a child's view with them")],
        "child": [("tell", "Tell us how it was for you")],
    },
    flows={flow_id: _flow_handler(flow_id)
           for flow_id in (MANAGER_REVIEW, REVIEW_ADDENDUM, CHILD_VIEW, CHILD_VIEW_ASSISTED)},
    pending=pending_reviews,
)
