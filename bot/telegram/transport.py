"""Turns the engine's `Outbound` messages into Telegram calls, safely.

Anyone sending to a chat uses this (the debrief, nudges, reviews): inline keyboards from the
engine's buttons, edits for `replace_previous`, a button press's answer folded into the pressed
message (one call a step), messages joined where that reads well, deletions 100 at a time, texts
over Telegram's 4,096 characters split into parts, and retries that never send a message twice.
RetryAfter is also retried by the rate limiter (`bot.telegram.ratelimit`); here a network error
is retried only when the request cannot have reached Telegram, or when repeating it is harmless
(edits, deletions, answering a button).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import httpx
from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.telegram.ratelimit import retry_seconds
from dialogues import wording
from dialogues.buttons import Kind, parse
from dialogues.engine import Button, Outbound

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_TEXT = int(MessageLimit.MAX_TEXT_LENGTH)
ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
DELETE_AT_ONCE = 100  # deleteMessages takes up to 100 ids
DIVIDER = "\n\n· · ·\n\n"  # between a pressed question (with its answer) and what came next


@dataclass(frozen=True)
class Sent:
    """A message now in the chat for an `Outbound`: its id, its question, whether it was edited."""

    message_id: int
    question_id: str | None
    edited: bool = False


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    """An inline keyboard for the engine's rows of buttons (None for no buttons)."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.payload) for b in row] for row in rows])


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Text in parts Telegram accepts, split at line breaks (or spaces) where possible."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n ")
    parts.append(text)
    return [p for p in parts if p.strip()] or ["…"]


def _not_sent(error: NetworkError) -> bool:
    return isinstance(error.__cause__, NOT_SENT_ERRORS)


async def with_retry(call: Callable[[], Awaitable[T]], *, idempotent: bool) -> T:
    """Make a Bot API call, retrying RetryAfter and those network errors that are safe to repeat."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await call()
        except RetryAfter as exc:
            if attempt == ATTEMPTS:
                raise
            seconds = retry_seconds(exc)
            log.warning("Telegram asked us to wait %.0f s (attempt %d)", seconds, attempt)
            await asyncio.sleep(seconds + 0.1)
        except (BadRequest, Forbidden):
            raise
        except NetworkError as exc:
            if attempt == ATTEMPTS or not (idempotent or _not_sent(exc)):
                raise
            log.warning("network error %s, retrying (attempt %d)", type(exc).__name__, attempt)
            await asyncio.sleep(BACKOFF_SECONDS * attempt)
    raise AssertionError("unreachable")


async def send_text(bot: Bot, chat_id: int, text: str,
                    markup: InlineKeyboardMarkup | None = None) -> list[int]:
    """Send text in Telegram's words (split if long; the keyboard goes on the last part); return
    the message ids."""
    parts = split_text(wording.for_telegram(text))
    ids: list[int] = []
    for number, part in enumerate(parts, start=1):
        last = number == len(parts)
        message = await with_retry(
            lambda part=part, last=last: bot.send_message(  # type: ignore[misc]
                chat_id=chat_id, text=part, reply_markup=markup if last else None),
            idempotent=False)
        ids.append(message.message_id)
    return ids


async def edit_text(bot: Bot, chat_id: int, message_id: int, text: str,
                    markup: InlineKeyboardMarkup | None = None) -> bool:
    """Edit a message in place; False if Telegram will not (too old, deleted, too long)."""
    text = wording.for_telegram(text)
    if len(text) > MAX_TEXT:
        return False
    try:
        await with_retry(lambda: bot.edit_message_text(
            chat_id=chat_id, message_id=message_id, text=text, reply_markup=markup),
            idempotent=True)
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return True
        log.info("could not edit message: %s", type(exc).__name__)
        return False
    return True


def merged(messages: Sequence[Outbound]) -> list[Outbound]:
    """The same messages in as few Telegram messages as reads well: a message without buttons is
    joined to the one after it (a blank line between), when that one is new and the two fit."""
    out: list[Outbound] = []
    for outbound in messages:
        before = out[-1] if out else None
        if (before is not None and not before.buttons and not before.replace_previous
                and not outbound.replace_previous
                and len(before.text) + 2 + len(outbound.text) <= MAX_TEXT):
            out[-1] = outbound.model_copy(update={"text": f"{before.text}\n\n{outbound.text}"})
        else:
            out.append(outbound)
    return out


def split_record(text: str) -> tuple[str, str]:
    """A message's questions answered so far (with their choices) and the question it asks now."""
    record, _, question = text.rpartition(DIVIDER)
    return record, question


def folded(record: str, question: str, choice: str,
           messages: Sequence[Outbound]) -> Outbound | None:
    """One message for a button press: the questions answered in it so far, the pressed question
    with the choice shown, then the reply (edited into the pressed message, so a step is one
    call); the record starts again when it grows too long. None when it does not fit that way
    (an edit in place of a question, buttons on more than the last message, too long)."""
    if not messages or any(o.replace_previous for o in messages) \
            or any(o.buttons for o in messages[:-1]):
        return None
    answered = f"{question}\n\n➡️ {choice}"
    reply = "\n\n".join(o.text for o in messages)
    text = f"{record}\n\n{answered}{DIVIDER}{reply}" if record else f"{answered}{DIVIDER}{reply}"
    if len(text) > MAX_TEXT:
        text = f"{answered}{DIVIDER}{reply}"
    if len(text) > MAX_TEXT:
        return None
    return messages[-1].model_copy(update={"text": text})


async def send_outbound(
    bot: Bot,
    chat_id: int,
    messages: Sequence[Outbound],
    *,
    replace_ids: Mapping[str, int] | None = None,
) -> list[Sent]:
    """Send the engine's messages to a chat, in order (joined where that reads well, see `merged`);
    return what is now in the chat.

    An `Outbound` with `replace_previous` edits the message `replace_ids[question_id]` (the one
    last sent for that question) instead of sending a new one, falling back to a new message.
    """
    sent: list[Sent] = []
    for outbound in merged(messages):
        markup = keyboard(outbound.buttons)
        target = (replace_ids or {}).get(outbound.question_id or "")
        if outbound.replace_previous and target is not None and await edit_text(
                bot, chat_id, target, outbound.text, markup):
            sent.append(Sent(target, outbound.question_id, edited=True))
            continue
        ids = await send_text(bot, chat_id, outbound.text, markup)
        sent.extend(Sent(i, outbound.question_id if i == ids[-1] else None) for i in ids)
    return sent


async def show_choice(bot: Bot, message: Message, choice: str) -> None:
    """Edit a pressed button's message to show what was chosen, and remove its buttons."""
    text = message.text or ""
    await edit_text(bot, message.chat.id, message.message_id, f"{text}\n\n➡️ {choice}")


def pressed_label(message: Message, payload: str) -> str | None:
    """The label of the button with this payload on a message, with a multi-choice's ticks."""
    markup = message.reply_markup
    if markup is None:
        return None
    buttons = [b for row in markup.inline_keyboard for b in row]
    pressed = parse(payload)
    if pressed is not None and pressed.kind is Kind.done:
        ticked = [b.text.removeprefix("✅ ") for b in buttons if b.text.startswith("✅ ")]
        return ", ".join(ticked) or None
    for button in buttons:
        if button.callback_data == payload:
            return button.text
    return None


async def delete_messages(bot: Bot, chat_id: int, message_ids: Sequence[int]) -> int:
    """Delete messages from a chat, up to 100 in one call (those Telegram cannot delete, older
    than 48 hours say, are skipped by it); return how many were asked to go."""
    ids = sorted(set(message_ids))
    deleted = 0
    for start in range(0, len(ids), DELETE_AT_ONCE):
        chunk = ids[start:start + DELETE_AT_ONCE]
        try:
            await with_retry(lambda chunk=chunk: bot.delete_messages(  # type: ignore[misc]
                chat_id=chat_id, message_ids=chunk), idempotent=True)
            deleted += len(chunk)
        except BadRequest as exc:
            log.info("could not delete messages: %s", type(exc).__name__)
    return deleted


async def acknowledge(query: CallbackQuery) -> None:
    """Answer a button press so its spinner stops; a failure here never stops the step itself."""
    try:
        await with_retry(query.answer, idempotent=True)
    except TelegramError as exc:
        log.info("could not answer a button press: %s", type(exc).__name__)
