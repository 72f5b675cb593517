"""Production on one port: the bot's webhook at /telegram and the dashboard at / in one ASGI app,
served by uvicorn, with python-telegram-bot's real HTTP stack talking to the local Bot API stand-in."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
import uvicorn
from support.botapi_standin import BotApiStandIn

from bot.telegram import build_application
from bot.telegram.web import SECRET_HEADER, combined_app
from bot.web.app import COOKIE
from storage.config import get_config
from web.conftest import Ward, free_port, init_data, run_async

TYPED_REVIEW = {
    "spoken_with_staff": "all", "legal_necessary": "yes", "reasonable": "yes",
    "minimum_force": "yes", "proportionate": "yes", "less_restrictive": "no",
    "impact_on_child": "Settled within the hour", "restorative": "planned", "informed": "parents",
    "notifiable": "no", "learning": "Plan quiet time after calls home",
    "action_1": "Add music to Robin's calming plan", "action_1_owner": "Jordan Test",
    "action_1_due": "In a week", "action_2": "skip", "plans_to_review": "none",
}


async def sign_review(client: httpx.AsyncClient, incident_id: int) -> None:
    """Answer a review over plain HTTP (typed answers, as a form post), then sign it off."""
    page = (await client.get(f"/incidents/{incident_id}/review")).text
    for _ in range(60):
        if 'value="summary|submit"' in page:
            page = (await client.post(f"/incidents/{incident_id}/review",
                                      data={"payload": "summary|submit"})).text
            assert "Signed off" in page
            return
        question = re.findall(r'data-question="([a-z_0-9]+)"', page)[-1]
        page = (await client.post(f"/incidents/{incident_id}/review",
                                  data={"text": TYPED_REVIEW.get(question, "skip")})).text
    raise AssertionError("the review never reached its summary")


def test_one_port_serves_the_webhook_the_dashboard_and_healthz(
        ward: Ward, telegram_env: dict[str, str], standin: BotApiStandIn,
        monkeypatch: pytest.MonkeyPatch) -> None:
    run_async(lambda: one_port(ward, standin, monkeypatch))


async def one_port(ward: Ward, standin: BotApiStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    """The body of the test above, on its own event loop."""
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
                # a review signed on the web tells a new action's owner on Telegram, as the chat does
                signed_in = await client.post("/auth/telegram", data={
                    "init_data": init_data(ward.manager.telegram_user_id or 0)})
                assert signed_in.status_code == 200
                assert "Secure" in signed_in.headers["set-cookie"]  # production cookies
                # (httpx will not send a Secure cookie over plain HTTP: hand it over as TLS would)
                client.headers["Cookie"] = f"{COOKIE}={signed_in.cookies[COOKIE]}"
                mark = standin.mark()
                await sign_review(client, ward.late)
                notice_calls = await standin.await_for(
                    lambda c: c.method == "sendMessage"
                    and c.params["chat_id"] == ward.staff[1].telegram_user_id, since=mark)
        finally:
            server.should_exit = True
            await serving
            await app.stop()
    assert notice_calls, "the new action's owner was not told"
    text = str(calls[0].params["text"])
    assert f"https://dashboard.example.test:{port}/login/" in text
    assert "works once" in text
    markup = str(calls[0].params.get("reply_markup", ""))
    assert "web_app" in markup  # the Mini App button, on an https:// address
