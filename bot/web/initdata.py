"""Checks the `initData` a Telegram Mini App is opened with, as the Bot API documents it.

The data-check-string is every field but `hash`, sorted by key, as `key=value` lines; the secret key
is HMAC-SHA-256 of the bot token keyed with "WebAppData"; `hash` must be the hex HMAC-SHA-256 of the
data-check-string under that key. `auth_date` says when Telegram signed it, so old data is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

MAX_AGE = timedelta(hours=1)
FUTURE_SKEW = timedelta(minutes=5)


class InitDataError(ValueError):
    """initData that is malformed, forged or too old; the message is safe to log and show."""


@dataclass(frozen=True)
class WebAppUser:
    """The Telegram user a valid initData was signed for."""

    telegram_user_id: int
    auth_date: datetime


def _secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields))


def sign(*, fields: dict[str, str], bot_token: str) -> str:
    """initData for these fields, signed as Telegram signs it (for tests and the benchmark)."""
    digest = hmac.new(_secret_key(bot_token), _check_string(fields).encode(), hashlib.sha256)
    return urlencode({**fields, "hash": digest.hexdigest()})


def validate(init_data: str, *, bot_token: str, now: datetime,
             max_age: timedelta = MAX_AGE) -> WebAppUser:
    """The user of a genuine, fresh initData; raises InitDataError otherwise."""
    pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=False)
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataError("a field is repeated")
    given = fields.pop("hash", "")
    if not given:
        raise InitDataError("no hash")
    expected = hmac.new(_secret_key(bot_token), _check_string(fields).encode(), hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest(), given.lower()):
        raise InitDataError("the signature does not match")
    try:
        signed_at = datetime.fromtimestamp(int(fields["auth_date"]), tz=UTC)
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError) as exc:
        raise InitDataError("auth_date or user is missing or malformed") from exc
    if signed_at < now - max_age or signed_at > now + FUTURE_SKEW:
        raise InitDataError("the sign-in data is too old")
    return WebAppUser(telegram_user_id=user_id, auth_date=signed_at)
