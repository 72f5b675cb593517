"""No secret in any log line: `flourish run` as a real process against the Bot API stand-in, with
planted secrets (the token, an invite code, a child's name, free text) going through enrolment, a
debrief, refusals and error paths, at LOG_LEVEL=DEBUG; and a token Telegram rejects is one line
that does not print it."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from support.bot_process import FLOURISH, ROOT, BotProcess
from support.botapi_standin import TOKEN, BotApiStandIn, buttons_of
from support.telegram_fixtures import Home, invite, settle

from storage.db import session_scope
from storage.models import Child

CHILD_NAME = "Saoirse O'Byrne-Kowalczyk"
FREE_TEXT = "Planted-narrative: she shouted about her dad's letter at 23:59"


def _secrets(code: str) -> list[str]:
    return [TOKEN, TOKEN.partition(":")[2], code, CHILD_NAME, "Planted-narrative", "dad's letter"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.timeout(900)  # several process starts; slow on a busy machine
def test_a_token_telegram_rejects_is_one_line_and_never_printed(
    standin: BotApiStandIn, telegram_env: dict[str, str]
) -> None:
    standin.fail("getMe", times=50, error=(401, "Unauthorized"))
    done = subprocess.run([str(FLOURISH), "run"], cwd=ROOT, capture_output=True, text=True,
                          env={**telegram_env, "LOG_LEVEL": "DEBUG"}, timeout=180, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert done.stderr.strip().splitlines()[-1].endswith(
        "Telegram rejected TELEGRAM_BOT_TOKEN: check it with @BotFather."), output[-3000:]
    assert "<redacted>" in output  # python-telegram-bot's own error line quoted the token
    for secret in _secrets("unused"):
        assert secret not in output, secret


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.timeout(900)  # several process starts; slow on a busy machine
async def test_a_whole_run_with_planted_secrets_logs_none_of_them(
    standin: BotApiStandIn, telegram_env: dict[str, str], home: Home, tmp_path: Path
) -> None:
    with session_scope() as session:
        child = session.get(Child, home.children[0])
        assert child is not None
        child.display_name = CHILD_NAME
        session.add(child)
    code = invite(home.staff[0])
    log = tmp_path / "bot.log"
    mark = standin.mark()
    process = BotProcess({**telegram_env, "LOG_LEVEL": "DEBUG", "PYTHONUNBUFFERED": "1",
                          "NLU_BACKEND": "spacy"}, log)
    try:
        await standin.await_for(lambda c: c.method == "getUpdates", since=mark, within=90)
        user = standin.user(8_800_001, "Planted")
        stranger = standin.user(8_800_002, "Stranger")
        steps = [
            lambda: stranger.send(f"/start WRONG{code[5:]}"),  # a failed invite, audited
            lambda: stranger.send(FREE_TEXT),  # not enrolled
            lambda: user.send(f"/start {code}"),
            lambda: user.send("/debrief"),
            ("wellbeing|v:ok", lambda: user.press("wellbeing|v:ok")),
            (f"child|v:{home.children[0]}", lambda: user.press(f"child|v:{home.children[0]}")),
            lambda: user.press("forged|v:" + "9" * 60, message=user.visible()[-1]),  # forged
            lambda: user.send("   "),  # whitespace only
            lambda: user.send(FREE_TEXT),
            lambda: user.send_content("sticker"),
            lambda: (standin.inject({"message": {  # an update PTB cannot read (no date), then more
                "message_id": 77, "chat": {"id": user.id, "type": "private"},
                "from": user.tg_user, "text": FREE_TEXT}}), user.send("/pending")),
            lambda: user.send(f"/start {code}"),  # the code again: already used
            lambda: stranger.in_group(FREE_TEXT),  # a group chat
        ]
        for step in steps:
            if isinstance(step, tuple):  # a press: its button must be on screen first
                button, step = step
                await standin.await_for(lambda c, b=button: any(
                    b in buttons_of(m) for m in standin.chat(user.id)), within=90)
            mark = standin.mark()
            step()
            await settle(standin, mark, quiet=0.4)
        await asyncio.sleep(0.5)
    finally:
        process.kill()
    output = process.output()
    assert "polling" in output.lower(), output[-2000:]  # the log is really there
    assert "could not be read (KeyError); skipped" in output  # and the unreadable update skipped
    for secret in _secrets(code):
        assert secret not in output, (secret, output[-3000:])
