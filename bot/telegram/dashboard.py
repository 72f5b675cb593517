"""`/dashboard` on Telegram: a single-use sign-in link for a desktop browser, and a button that
opens the dashboard inside Telegram as a Mini App (signed in by its initData)."""

from __future__ import annotations

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update, WebAppInfo
from telegram.ext import CommandHandler, filters

from bot.telegram.context import App, Context, Extension, services
from bot.telegram.transport import with_retry
from bot.web.links import CHILDREN_REFUSED, login_link
from storage import crud

NOT_SET_UP = "The dashboard isn't set up yet. Please ask your administrator."


async def dashboard_command(update: Update, context: Context) -> None:
    """Send a one-time sign-in link (expires in minutes) and, on HTTPS, a Mini App button."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    svc = services(context)
    base = svc.config.flourish_web_url
    if not base:
        await with_retry(lambda: context.bot.send_message(chat.id, NOT_SET_UP), idempotent=False)
        return

    def make(session: Session) -> str | None:
        person = crud.person_by_telegram_id(session, telegram_user_id=user.id)
        return None if person is None else login_link(session, person=person, base_url=base)

    link = await svc.db(make)
    if link is None:
        await with_retry(lambda: context.bot.send_message(chat.id, CHILDREN_REFUSED),
                         idempotent=False)
        return
    markup = None
    if base.startswith("https://"):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(
            "Open the dashboard here", web_app=WebAppInfo(url=base.rstrip("/") + "/"))]])
    text = ("Your sign-in link for the dashboard on a computer. It works once, for 10 minutes; "
            f"please don't forward it:\n{link}")
    await with_retry(lambda: context.bot.send_message(
        chat.id, text, reply_markup=markup,
        link_preview_options=LinkPreviewOptions(is_disabled=True)), idempotent=False)


def register(app: App) -> None:
    """The /dashboard command (group 0)."""
    app.add_handler(CommandHandler("dashboard", dashboard_command, filters=filters.ChatType.PRIVATE))


DASHBOARD = Extension(name="dashboard", register=register)  # its menu entries: handlers.COMMANDS
