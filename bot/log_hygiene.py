"""Secrets never reach a log line: the bot token (and any other secret given) is replaced
wherever it appears, in the message, its arguments or an exception's traceback.

Libraries put the token in places we do not control: httpx logs request URLs, and
python-telegram-bot's `InvalidToken` message quotes the token it was given. A filter on every
handler of the root logger catches all of them, whatever LOG_LEVEL says.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

MASK = "<redacted>"


class Redact(logging.Filter):
    """Replace each secret in a record's final text with a mask."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record with its secrets masked; never drop it."""
        record.msg, record.args = self._clean(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


def token_secrets(token: str) -> list[str]:
    """The token, and its secret half on its own (after the bot id), to mask."""
    return [token, token.partition(":")[2]]


def redact_logs(secrets: Iterable[str]) -> Redact:
    """Install the filter on every handler of the root logger (add handlers before calling)."""
    redact = Redact(secrets)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for handler in root.handlers:
        handler.addFilter(redact)
    return redact


def error_text(error: BaseException | None) -> str:
    """What an error says, when that cannot hold anyone's words: the operating system's reason
    ("No space left on device"), the database's first line without its parameters, Telegram's
    answer. For anything else only its type, since a message may quote what someone typed."""
    if error is None:
        return "unknown error"
    name = type(error).__name__
    if isinstance(error, OSError):
        return f"{name}: {error.strerror or ''}".rstrip(": ")
    orig = getattr(error, "orig", None)
    if orig is not None and type(error).__module__.startswith("sqlalchemy"):
        first = (str(orig).strip().splitlines() or [""])[0]
        return f"{name}: {type(orig).__name__}: {first[:300]}"
    if type(error).__module__.startswith("telegram"):
        return f"{name}: {str(error)[:300]}"
    return name
