"""A webhook worker: Telegram's POSTs at `/telegram`, `/healthz`, and optionally the dashboard at
`/` on the same port, as one ASGI app served by uvicorn.

python-telegram-bot's "custom webhook" pattern: the Application runs without its own web server
(no updater); Starlette receives Telegram's POSTs, processes each update and answers 200 only once
it is processed and committed, so an update a worker dies on is redelivered (by Telegram, or by
the reverse proxy trying the next worker) instead of lost. Several workers, one process each
behind a reverse proxy, share one PostgreSQL database: see `FlourishApplication` (each update
once, one chat at a time) and deploy/README.md.
A request is refused on its secret header before a byte of its body is read, and a body larger
than any update is refused too; an update PTB cannot read is skipped by its id (so Telegram does
not send it again and again), its content never logged.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.error import InvalidToken, TelegramError

from bot.log_hygiene import error_text
from bot.telegram.app import TokenRejected, build_application, quiet_loggers, webhook_secret
from bot.telegram.context import App, services
from bot.telegram.transport import send_outbound
from bot.telegram.updates import read_update
from bot.web.app import WebConfig, create_app
from dialogues.engine import Outbound
from nlu.result import Interpreter
from storage.config import Config
from storage.db import ping, session_scope

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  (a header name)
# An update is a few kilobytes (a 4,096-character message and its entities); nothing Telegram
# sends comes near this, so anything larger is refused unread.
MAX_UPDATE_BYTES = 1 << 20


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None as soon as it is known to be longer than `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def webhook_route(app: App, *, secret: str, path: str = "/telegram") -> Route:
    """POST `path`: an update from Telegram (with the secret header), processed before the 200."""
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1", "replace")
        if not hmac.compare_digest(given, expected):
            return Response(status_code=403)  # before any of the body is read
        body = await _bounded_body(request, MAX_UPDATE_BYTES)
        if body is None:
            log.warning("refused a webhook request larger than %d bytes", MAX_UPDATE_BYTES)
            return Response(status_code=413)
        try:
            data = json.loads(body)
        except ValueError:
            return Response(status_code=400)
        update = read_update(data, app.bot)
        if update is None:  # skipped (logged by id): a 200, so it is not sent again
            return Response(status_code=200)
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
                path: str = "/telegram", dashboard: bool = False,
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


def run_webhook(**kwargs: Any) -> None:
    """`serve` in a fresh event loop (for `flourish run --webhook-url`)."""
    try:
        asyncio.run(serve(**kwargs))
    except InvalidToken:  # its message quotes the token: say it plainly instead
        raise TokenRejected("Telegram rejected TELEGRAM_BOT_TOKEN: check it with @BotFather.") \
            from None
