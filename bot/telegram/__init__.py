"""The Telegram channel: python-telegram-bot around the conversations service.

- `build_application(config=..., interpreter=..., engine=...)` wires the bot (see `app`).
- `run_bot(...)` runs it by polling (a webhook worker: `web.serve`); `fetch_bot_username(config)`
  asks getMe.
- `send_outbound(bot, chat_id, messages)` sends the engine's messages (see `transport`).
- Features plug in as an `Extension` (see `context`), listed in `app.EXTENSIONS`.
Nothing outside this folder imports python-telegram-bot.
"""

from bot.telegram.app import build_application, fetch_bot_username, run_bot
from bot.telegram.context import Extension, Services, services
from bot.telegram.transport import send_outbound

__all__ = ["Extension", "Services", "build_application", "fetch_bot_username", "run_bot",
           "send_outbound", "services"]
