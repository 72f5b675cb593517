"""Production on one port: the bot's webhook at /telegram and the dashboard at / in one ASGI app,
served by uvicorn, with python-telegram-bot's real HTTP stack talking to the local Bot API stand-in."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import uvicorn
from support.botapi_standin import BotApiStandIn

from bot.telegram import build_application
from bot.telegram.web import SECRET_HEADER, combined_app
from storage.config import get_config
from web.conftest import Ward, free_port


async def test_one_port_serves_the_webhook_the_dashboard_and_healthz(
        ward: Ward, telegram_env: dict[str, str], standin: BotApiStandIn,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWUPS_ENABLED", "false")
    port = free_port()
    monkeypatch.setenv("FLOURISH_WEB_URL", f"https://dashboard.example.test:{port}")
    get_config.cache_clear()
    config = get_config()
    app = build_application(config=config, interpreter=None)
    web = combined_app(app, config=config, secret="webhook-secret-for-tests", path="/telegram")
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    manager = standin.user(ward.manager.telegram_user_id or 0, "Morgan")
    update = {"update_id": 880_001, "message": manager._message(
        text="/dashboard", entities=[{"type": "bot_command", "offset": 0, "length": 10}])}
    async with app:
        await app.start()
        serving = asyncio.create_task(server.serve())
        try:
            for _ in range(500):
                if server.started:
                    break
                await asyncio.sleep(0.02)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                         trust_env=False) as client:
                assert (await client.get("/healthz")).text == "ok"
                assert "Please open the dashboard from Telegram" in (await client.get("/")).text
                refused = await client.post("/telegram", json=update,
                                            headers={SECRET_HEADER: "guessed"})
                assert refused.status_code == 403
                mark = standin.mark()
                accepted = await client.post("/telegram", json=update,
                                             headers={SECRET_HEADER: "webhook-secret-for-tests"})
                assert accepted.status_code == 200
                calls = await standin.await_for(lambda c: c.method == "sendMessage", since=mark)
        finally:
            server.should_exit = True
            await serving
            await app.stop()
    text = str(calls[0].params["text"])
    assert f"https://dashboard.example.test:{port}/login/" in text
    assert "works once" in text
    markup = str(calls[0].params.get("reply_markup", ""))
    assert "web_app" in markup  # the Mini App button, on an https:// address
