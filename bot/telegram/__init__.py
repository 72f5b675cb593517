"""The Telegram transport: python-telegram-bot around the pure dialogue engine.

- `build_application(config=..., interpreter=..., engine=...)` wires the bot (see `app`).
- `run_bot(...)` runs it by polling or webhook; `fetch_bot_username(config)` asks getMe.
- `send_outbound(bot, chat_id, messages)` sends the engine's messages (see `transport`).
- Features plug in as an `Extension` listed in `bot/telegram/extensions.py`.
"""

from bot.telegram.app import build_application, fetch_bot_username, run_bot
from bot.telegram.extension import Extension, Services, services
from bot.telegram.transport import send_outbound

__all__ = ["Extension", "Services", "build_application", "fetch_bot_username", "run_bot",
           "send_outbound", "services"]
