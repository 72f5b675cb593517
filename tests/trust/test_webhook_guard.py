"""The webhook refuses a request on its secret header before reading any of its body, refuses a body
larger than any update unread, skips an update python-telegram-bot cannot read (by id, nothing of
it logged) with a 200 so Telegram moves on, and goes on answering. Real uvicorn on a real socket,
the real bot behind it, the Bot API stand-in for Telegram.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from support.botapi_standin import BotApiStandIn
from support.telegram_fixtures import Home, invite

from bot.telegram import build_application
from bot.telegram.app import quiet_loggers
from bot.telegram.web import MAX_UPDATE_BYTES, SECRET_HEADER, webhook_route
from storage.config import get_config

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
SECRET = "webhook-secret-for-the-guard-test"
WORDS = "Robin Quill-O'Hara kicked the door twice"  # synthetic words a log must never hold


@pytest.fixture
async def webhook(telegram_env: dict[str, str], home: Home,
                  standin: BotApiStandIn) -> AsyncIterator[int]:
    """The bot behind `webhook_route` on uvicorn, on a free port (returned)."""
    app = build_application(config=get_config(), interpreter=None)
    asgi = Starlette(routes=[webhook_route(app, secret=SECRET, path="/telegram")])
    server = uvicorn.Server(uvicorn.Config(asgi, host="127.0.0.1", port=0, log_level="warning",
                                           access_log=False))
    async with app:
        await app.start()
        serving = asyncio.create_task(server.serve())
        try:
            for _ in range(500):
                if server.started:
                    break
                await asyncio.sleep(0.02)
            yield int(server.servers[0].sockets[0].getsockname()[1])
        finally:
            server.should_exit = True
            await serving
            await app.stop()


async def _exchange(port: int, head: str, body: bytes = b"", *, chunked_mb: int = 0) -> int:
    """Send a request head (and a body, or `chunked_mb` megabytes in chunks) on a raw socket;
    return the status code of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode("latin-1") + body)
        for _ in range(chunked_mb * 16):
            writer.write(b"10000\r\n" + b"x" * 0x10000 + b"\r\n")
            try:
                await writer.drain()
            except ConnectionError:
                break
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), timeout=10)
        return int(status.split()[1])
    finally:
        writer.close()


def _head(length: int | None, secret: str | None, *, chunked: bool = False) -> str:
    lines = ["POST /telegram HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if secret is not None:
        lines.append(f"{SECRET_HEADER}: {secret}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return "\r\n".join(lines) + "\r\n\r\n"


async def test_the_secret_is_checked_before_the_body_and_the_body_is_bounded(webhook: int) -> None:
    fifty_mb = 50 * 1024 * 1024
    # the answers come although not one byte of the announced 50 MB was sent: nothing waited for it
    assert await _exchange(webhook, _head(fifty_mb, None)) == 403
    assert await _exchange(webhook, _head(fifty_mb, "guessed")) == 403
    assert await _exchange(webhook, _head(fifty_mb, "é" * 8)) == 403  # not ASCII: still a 403
    assert await _exchange(webhook, _head(fifty_mb, SECRET)) == 413
    assert await _exchange(webhook, _head(MAX_UPDATE_BYTES + 1, SECRET)) == 413
    # no length given: read only until it is too long
    assert await _exchange(webhook, _head(None, SECRET, chunked=True), chunked_mb=3) == 413
    assert await _exchange(webhook, _head(9, SECRET), b"not json!") == 400


async def test_an_update_ptb_cannot_read_is_skipped_and_the_next_is_answered(
    webhook: int, standin: BotApiStandIn, home: Home, caplog: pytest.LogCaptureFixture,
) -> None:
    quiet_loggers()
    caplog.set_level(logging.INFO)
    user = standin.user(7_560_114, "Siobhán Test")
    unreadable = {"update_id": 770_001, "message": {  # no date: PTB cannot read it
        "message_id": 5, "chat": {"id": user.id, "type": "private"}, "from": user.tg_user,
        "text": WORDS}}
    body = json.dumps(unreadable).encode()
    assert await _exchange(webhook, _head(len(body), SECRET), body) == 200

    mark = standin.mark()
    start = {"update_id": 770_002, "message": {
        "message_id": 6, "date": 0, "chat": {"id": user.id, "type": "private"},
        "from": user.tg_user, "text": f"/start {invite(home.staff[0])}",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
    body = json.dumps(start).encode()
    assert await _exchange(webhook, _head(len(body), SECRET), body) == 200
    calls = await standin.await_for(lambda c: c.method == "sendMessage", since=mark)
    assert str(calls[0].params["text"]).startswith("Welcome to Flourish. You're set up as staff")
    assert "update 770001 could not be read (KeyError); skipped" in caplog.text
    assert WORDS not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]
