"""Production on one port: the bot's webhook at `/telegram` and the dashboard at `/`, one ASGI app.

python-telegram-bot's "custom webhook" pattern: the Application runs without its own web server
(no updater); Starlette receives Telegram's POSTs, checks the secret header and puts each update
on the Application's queue; uvicorn serves everything.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.error import TelegramError

from bot.telegram.app import build_application, quiet_loggers, webhook_secret
from bot.telegram.context import App
from bot.telegram.transport import send_outbound
from bot.web.app import WebConfig, create_app
from dialogues.engine import Outbound
from nlu.result import Interpreter
from storage.config import Config

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  (a header name)


def webhook_route(app: App, *, secret: str, path: str = "/telegram") -> Route:
    """POST `path`: an update from Telegram (with the secret header) onto the bot's queue."""

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given, secret):
            return Response(status_code=403)
        try:
            update = Update.de_json(await request.json(), app.bot)
        except ValueError:
            return Response(status_code=400)
        await app.update_queue.put(update)
        return Response(status_code=200)

    return Route(path, receive, methods=["POST"])


def combined_app(app: App, *, config: Config, secret: str, path: str = "/telegram") -> Starlette:
    """One ASGI app: the bot's webhook at `path`, the dashboard at `/`, and `/healthz`."""
    assert config.telegram_bot_token is not None

    async def notify(notices: list[tuple[int, Outbound]]) -> None:
        for chat_id, notice in notices:
            try:
                await send_outbound(app.bot, chat_id, [notice])
            except TelegramError as exc:
                log.warning("could not deliver a notice: %s", type(exc).__name__)

    return create_app(config=WebConfig(bot_token=config.telegram_bot_token.get_secret_value(),
                                       secure_cookies=True, notify=notify),
                      extra_routes=[webhook_route(app, secret=secret, path=path)])


async def serve(*, config: Config, interpreter: Interpreter | None, webhook_url: str,
                host: str, port: int, secret_token: str | None = None,
                path: str = "/telegram") -> None:
    """Register the webhook, then serve the webhook and the dashboard until stopped."""
    quiet_loggers()
    app = build_application(config=config, interpreter=interpreter)
    secret = secret_token or webhook_secret(config)
    server = uvicorn.Server(uvicorn.Config(combined_app(app, config=config, secret=secret, path=path),
                                           host=host, port=port, access_log=False,
                                           log_level="warning"))
    async with app:
        if app.post_init is not None:
            await app.post_init(app)
        await app.bot.set_webhook(url=webhook_url, secret_token=secret,
                                  allowed_updates=Update.ALL_TYPES)
        await app.start()
        log.info("Flourish: webhook and dashboard on %s:%s", host, port)
        try:
            await server.serve()
        finally:
            await app.stop()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)


def run_with_dashboard(**kwargs: Any) -> None:
    """`serve` in a fresh event loop (for the CLI)."""
    asyncio.run(serve(**kwargs))
