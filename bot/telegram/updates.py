"""Reading what Telegram sends, so that one odd update can neither stop the bot nor leak into a log.

python-telegram-bot reads a whole getUpdates batch at once: one update it cannot read (a field
missing, a new shape) makes the batch fail, the same batch is fetched again and fails again, for
ever, and each time PTB logs the whole batch (other people's messages) at CRITICAL. Here each update
is read on its own first; one that cannot be read is passed on as its bare id, so it is skipped
(the guards ignore an update with no chat) and counted as done. A body that is not JSON at all (a
proxy cutting it short) is fetched again, as a network error is, and its text is never logged.
The webhook reads its updates with the same `read_update`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)


def read_update(data: Any, bot: Bot | None = None) -> Update | None:
    """The `Update` in Telegram's JSON, or None (logged by id and error type only) if PTB cannot
    read it."""
    try:
        return Update.de_json(data, bot)
    except Exception as exc:  # any failure inside PTB's reader: skip the update
        update_id = data.get("update_id") if isinstance(data, dict) else None
        log.warning("update %s could not be read (%s); skipped",
                    update_id if isinstance(update_id, int) else "?", type(exc).__name__)
        return None


class QuietRequest(HTTPXRequest):
    """PTB's HTTP client, except that an answer that is not JSON is never written to the log
    (PTB logs it whole, and it can hold people's messages)."""

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        """Telegram's answer as JSON; a TelegramError (retried when polling) if it is not."""
        try:
            data = json.loads(payload.decode("utf-8", "replace"))
        except ValueError:
            log.warning("an answer from the Bot API was not JSON (%d bytes)", len(payload))
            raise TelegramError("Invalid server response") from None
        if not isinstance(data, dict):
            log.warning("an answer from the Bot API was not a JSON object")
            raise TelegramError("Invalid server response")
        return data


class UpdatesRequest(QuietRequest):
    """The getUpdates connection: an update PTB cannot read arrives as its bare id, so polling
    moves past it instead of fetching it for ever."""

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        """The batch, each update readable or reduced to `{"update_id": ...}`."""
        data = super().parse_json_payload(payload)
        result = data.get("result")
        if data.get("ok") and isinstance(result, list):
            data["result"] = [r for r in map(_readable, result) if r is not None]
        return data


def _readable(item: Any) -> dict[str, Any] | None:
    """The update as it came if PTB can read it; else only its id (None without one)."""
    if read_update(item) is not None:
        return dict(item)
    update_id = item.get("update_id") if isinstance(item, dict) else None
    return {"update_id": update_id} if isinstance(update_id, int) else None
