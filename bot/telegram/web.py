"""A webhook worker: the bot's webhook at `/telegram`, `/healthz`, and (with `--web`) the dashboard
at `/`, one ASGI app on one port.

python-telegram-bot's "custom webhook" pattern: the Application runs without its own web server
(no updater); Starlette receives Telegram's POSTs, checks the secret header, processes the update
and answers 200 only once it is processed and committed, so an update a worker dies on is
redelivered (by Telegram, or by the reverse proxy trying the next worker) instead of lost; uvicorn
serves everything. Several workers, one process each behind a reverse proxy, share one PostgreSQL
database: see `FlourishApplication` (each update once, one chat at a time) and deploy/README.md.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.error import TelegramError

from bot.log_hygiene import error_text
from bot.telegram.app import build_application, quiet_loggers, webhook_secret
from bot.telegram.context import App, services
from bot.telegram.transport import send_outbound
from bot.web.app import WebConfig, create_app
from dialogues.engine import Outbound
from nlu.result import Interpreter
from storage.config import Config
from storage.db import ping, session_scope

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  (a header name)


def webhook_route(app: App, *, secret: str, path: str = "/telegram") -> Route:
    """POST `path`: an update from Telegram (with the secret header), processed before the 200."""

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given, secret):
            return Response(status_code=403)
        try:
            update = Update.de_json(await request.json(), app.bot)
        except ValueError:
            return Response(status_code=400)
        try:  # in this chat's turn (per-chat order), then the answer
            await app.update_processor.process_update(update, app.process_update(update))
        except Exception as exc:  # the database is unreachable, say: Telegram sends it again
            log.warning("update %s not processed: %s", update.update_id, error_text(exc))
            return Response(status_code=503)
        return Response(status_code=200)

    return Route(path, receive, methods=["POST"])


def worker_app(app: App, *, secret: str, path: str = "/telegram") -> Starlette:
    """A worker without the dashboard: the bot's webhook at `path` and `/healthz`."""

    def healthz(_: Request) -> Response:
        with session_scope(services(app).engine) as session:
            ping(session)
        return PlainTextResponse("ok")

    return Starlette(routes=[webhook_route(app, secret=secret, path=path),
                             Route("/healthz", healthz)])


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
                path: str = "/telegram", dashboard: bool = True,
                on_ready: Callable[[], None] | None = None) -> None:
    """Register the webhook, then serve it (and the dashboard, if asked) until stopped."""
    quiet_loggers()
    app = build_application(config=config, interpreter=interpreter)
    services(app).on_ready = on_ready
    services(app).webhook = True
    secret = secret_token or webhook_secret(config)
    asgi = (combined_app(app, config=config, secret=secret, path=path) if dashboard
            else worker_app(app, secret=secret, path=path))
    server = uvicorn.Server(uvicorn.Config(asgi, host=host, port=port, access_log=False,
                                           log_level="warning"))
    async with app:
        if app.post_init is not None:
            await app.post_init(app)
        await app.bot.set_webhook(url=webhook_url, secret_token=secret,
                                  allowed_updates=Update.ALL_TYPES)
        await app.start()
        log.info("Flourish: webhook%s on %s:%s", " and dashboard" if dashboard else "", host, port)
        try:
            await server.serve()
        finally:
            await app.stop()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)


def run_with_dashboard(**kwargs: Any) -> None:
    """`serve` in a fresh event loop (for the CLI)."""
    asyncio.run(serve(**kwargs))
