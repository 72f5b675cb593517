"""`flourish run` as a real process against the Bot API stand-in: killed with SIGKILL in the middle
of a debrief and started again, it carries on exactly where it was; in webhook mode it answers
only requests that carry Telegram's secret token."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select
from support.bot_process import FLOURISH, ROOT, BotProcess
from support.botapi_standin import BotApiStandIn, buttons_of
from support.telegram_fixtures import Home, invite, settle

from bot.telegram.transport import DIVIDER
from storage.db import session_scope
from storage.models import Conversation


@pytest.fixture
def bot_env(telegram_env: dict[str, str]) -> dict[str, str]:
    return {**telegram_env, "NLU_BACKEND": "spacy", "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def processes() -> Iterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for process in started:
        process.kill()


async def wait_until_polling(api: BotApiStandIn, process: BotProcess, mark: int) -> None:
    try:
        await api.await_for(lambda c: c.method == "getUpdates", since=mark, within=60)
    except AssertionError:
        raise AssertionError(f"the bot did not start:\n{process.output()}") from None


def question_scope(user: Any) -> str:
    message = [m for m in user.visible() if any("|c:" in b for b in buttons_of(m))][-1]
    return next(b for b in buttons_of(message) if "|c:" in b).split("|")[0]


async def test_killed_bot_process_resumes_the_debrief_where_it_was(
        standin: BotApiStandIn, bot_env: dict[str, str], home: Home, tmp_path: Path,
        processes: list[BotProcess]) -> None:
    log = tmp_path / "bot.log"
    mark = standin.mark()
    processes.append(BotProcess(bot_env, log))
    await wait_until_polling(standin, processes[-1], mark)

    user = standin.user(8001, "Sam")
    for action in (lambda: user.send(f"/start {invite(home.staff[0])}"),
                   lambda: user.send("/debrief"),
                   lambda: user.press("wellbeing|v:ok"),
                   lambda: user.press(f"child|v:{home.children[0]}")):
        mark = standin.mark()
        action()
        await settle(standin, mark, quiet=0.5)
    assert question_scope(user) == "incident_day"

    processes[-1].kill()  # SIGKILL: no shutdown, no goodbye
    mark = standin.mark()
    user.press("incident_day|v:today")  # pressed while the bot is down
    processes.append(BotProcess(bot_env, log))
    await wait_until_polling(standin, processes[-1], mark)
    calls = await settle(standin, mark, quiet=1.0)

    assert question_scope(user) == "incident_time", processes[-1].output()
    sent = [c.params["text"] for c in calls if c.method in ("sendMessage", "editMessageText")]
    assert len(sent) == 1, f"only the next question, nothing repeated: {sent}"
    assert sent[0].rpartition(DIVIDER)[2].startswith("Roughly what time")  # under the answer
    mark = standin.mark()
    user.send("00:05")  # earlier today whatever the hour (a later time is queried)
    await settle(standin, mark, quiet=0.5)
    assert question_scope(user) == "describe"  # the account comes straight after when
    with session_scope() as session:
        assert len(session.exec(select(Conversation)).all()) == 1
    assert "phone" not in processes[-1].output()  # no sensitive content in the logs


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_checks_the_secret_token(
        standin: BotApiStandIn, bot_env: dict[str, str], home: Home, tmp_path: Path,
        processes: list[BotProcess]) -> None:
    port = free_port()
    mark = standin.mark()
    processes.append(BotProcess(bot_env, tmp_path / "bot.log", "--webhook-url",
                                "https://bot.example.test/flourish/hook", "--listen",
                                "127.0.0.1", "--port", str(port)))
    try:
        await standin.await_for(lambda c: c.method == "setWebhook", since=mark, within=60)
    except AssertionError:
        raise AssertionError(processes[-1].output()) from None
    assert standin.webhook_url == "https://bot.example.test/flourish/hook"
    secret = standin.webhook_secret
    assert secret
    assert secret not in bot_env["TELEGRAM_BOT_TOKEN"]

    user = standin.user(8002, "Lee")
    update = {"update_id": 900001, "message": {
        "message_id": 1, "date": 0, "chat": {"id": 8002, "type": "private"},
        "from": user.tg_user, "text": "hello"}}
    url = f"http://127.0.0.1:{port}/flourish/hook"
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        for _ in range(100):  # the server starts just after setWebhook
            try:
                wrong = await client.post(url, content=json.dumps(update), headers={
                    "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "no"})
                break
            except httpx.ConnectError:
                await standin_sleep()
        assert wrong.status_code == 403
        mark = standin.mark()
        right = await client.post(url, content=json.dumps(update), headers={
            "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret})
        assert right.status_code == 200
    calls = await settle(standin, mark)
    assert "invited" in calls[0].params["text"]
    assert os.environ.get("TELEGRAM_BOT_TOKEN") not in processes[-1].output()


async def standin_sleep() -> None:
    await asyncio.sleep(0.1)


async def test_admin_invite_prints_a_deep_link_that_enrols(
        standin: BotApiStandIn, telegram_env: dict[str, str], home: Home,
        running_app: Any) -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [str(FLOURISH), "admin", "invite", "--setting", str(home.setting_id), "--role", "manager",
         "--name", "Jo Test"], cwd=ROOT, env=telegram_env, capture_output=True, text=True,
        timeout=120, check=True)
    link = next(line for line in done.stdout.splitlines() if line.startswith("Link: "))
    assert link.startswith("Link: https://t.me/flourish_test_bot?start=")
    assert standin.calls_of("getMe"), "the bot's username comes from getMe"
    code = link.rsplit("=", 1)[1]
    user = standin.user(8003, "Jo")
    mark = standin.mark()
    user.send(f"/start {code}")
    calls = await settle(standin, mark)
    assert "set up as manager for Test House" in calls[0].params["text"]
