"""`/insights` and `/report` on Telegram: a thin carrier around `bot.services.insights_view`.

The summary and pattern flags go as a message with buttons (a period, a child, a member of staff;
payloads `in:...`), the charts as photos, the inspection report as a PDF document. Managers only;
the service refuses anyone else, and the refusal is what they see.
"""

from __future__ import annotations

import logging

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.services import access
from bot.services.insights_view import (
    InsightsReply,
    ReportFile,
    insights_reply,
    report_for,
)
from bot.telegram.context import App, Context, Extension, services
from bot.telegram.handlers import NOT_ENROLLED
from bot.telegram.transport import acknowledge, with_retry
from storage import crud

log = logging.getLogger(__name__)
MAX_TEXT = 4000


def _insights(session: Session, *, user_id: int, payload: str) -> InsightsReply:
    person = crud.person_by_telegram_id(session, telegram_user_id=user_id)
    if person is None:
        return InsightsReply(text=NOT_ENROLLED)
    try:
        return insights_reply(session, person=person, payload=payload)
    except access.Refused as refused:
        return InsightsReply(text=refused.message)


def _report(session: Session, *, user_id: int) -> ReportFile | str:
    person = crud.person_by_telegram_id(session, telegram_user_id=user_id)
    if person is None:
        return NOT_ENROLLED
    try:
        return report_for(session, person=person)
    except access.Refused as refused:
        return refused.message


async def _send(context: Context, chat_id: int, reply: InsightsReply) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)
                                    for label, data in row] for row in reply.buttons]) \
        if reply.buttons else None
    text = reply.text if len(reply.text) <= MAX_TEXT else reply.text[:MAX_TEXT - 1] + "…"
    for photo in reply.photos:
        await with_retry(lambda p=photo: context.bot.send_photo(  # type: ignore[misc]
            chat_id=chat_id, photo=InputFile(p.png, filename="chart.png"), caption=p.caption),
            idempotent=False)
    await with_retry(lambda: context.bot.send_message(chat_id=chat_id, text=text,
                                                      reply_markup=markup), idempotent=False)


async def insights_command(update: Update, context: Context) -> None:
    """/insights: the last 12 weeks' summary, the pattern flags and charts (managers)."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    assert user is not None
    await _typing(context, chat.id)
    reply = await services(context).db(lambda s: _insights(s, user_id=user.id, payload=""))
    await _send(context, chat.id, reply)


async def on_insights_button(update: Update, context: Context) -> None:
    """`in:p|c|s:<id>`: another period, one child or one member of staff."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    assert query is not None
    assert chat is not None
    assert user is not None
    await acknowledge(query)
    payload = query.data or ""
    reply = await services(context).db(lambda s: _insights(s, user_id=user.id, payload=payload))
    await _send(context, chat.id, reply)


async def report_command(update: Update, context: Context) -> None:
    """/report: the inspection PDF for the last year, as a document (managers)."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    assert user is not None
    await _typing(context, chat.id, action=ChatAction.UPLOAD_DOCUMENT)
    found = await services(context).db(lambda s: _report(s, user_id=user.id))
    if isinstance(found, str):
        await with_retry(lambda: context.bot.send_message(chat_id=chat.id, text=found),
                         idempotent=False)
        return
    await with_retry(lambda: context.bot.send_document(
        chat_id=chat.id, document=InputFile(found.data, filename=found.filename),
        caption=found.caption), idempotent=False)


async def _typing(context: Context, chat_id: int, action: str = ChatAction.UPLOAD_PHOTO) -> None:
    try:
        await context.bot.send_chat_action(chat_id=chat_id, action=action)
    except TelegramError as exc:
        log.info("could not show a chat action: %s", type(exc).__name__)


def register(app: App) -> None:
    """The /insights and /report commands and the insights buttons (group 0)."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("insights", insights_command, filters=private))
    app.add_handler(CommandHandler("report", report_command, filters=private))
    app.add_handler(CallbackQueryHandler(on_insights_button, pattern=r"^in:[pcsa]:\d+$"))


INSIGHTS = Extension(name="insights", register=register)
