"""`flourish run` killed with SIGKILL at each point of a submit, then started again: every submit is
either recorded with its receipt sent, or the person is shown their summary and told to submit
again. Zero silent losses. On SQLite and PostgreSQL.

The kill points are set by `FLOURISH_TEST_KILL_AT` (bot/kill_points.py), so each trial stops at
exactly that point: before the step, before the commit (written, not committed), after the
commit, after the chat's Q&A is deleted, after the receipt. Each trial is restarted by a process
with no kill point, so a Submit that Telegram redelivers is processed as it would be in
production. `FLOURISH_CRASH_ROUNDS` (default 1, to keep CI time down) runs every point that many
times; `FLOURISH_CRASH_ROUNDS=4` gives 20 trials per database.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from support.bot_process import BotProcess
from support.botapi_standin import BotApiStandIn
from support.telegram_fixtures import Home

from bot.kill_points import POINTS
from bot.services.conversations import Conversations
from bot.telegram.app import REMIND_AFTER_START
from bot.telegram.handlers import UNSUBMITTED
from dialogues.engine import Inbound
from storage import crud
from storage.db import session_scope
from storage.models import Debrief, PersonCreate, Role

ROUNDS = int(os.environ.get("FLOURISH_CRASH_ROUNDS", "1"))


def _at_summary(home: Home, telegram_user_id: int) -> int:
    """A new member of staff, enrolled, with a debrief waiting at its summary; their person id."""
    service = Conversations(interpreter=None)
    with session_scope() as session:
        person = crud.create_person(session, data=PersonCreate(
            setting_id=home.setting_id, display_name=f"Ciarán O'Malley {telegram_user_id}",
            role=Role.staff))
        person.telegram_user_id = telegram_user_id
        session.add(person)
        session.flush()
        assert person.id is not None
        person_id = person.id
        reply = service.command(session, person_id=person_id, name="debrief")
    for _ in range(200):
        if reply.status == "summary":
            break
        buttons = [b.payload for m in reply.messages for row in m.buttons for b in row]
        values = [p for p in buttons if "|v:" in p or "|t:" in p]
        done = [p for p in buttons if p.endswith("|done")]
        ticked = any("|t:" in p for p in values) and any(
            b.label.startswith("✅") for m in reply.messages for row in m.buttons for b in row)
        if done and ticked:
            inbound = Inbound.pressed(done[0])
        elif values:
            inbound = Inbound.pressed(values[0])
        elif any(p.endswith("|c:skip") for p in buttons):
            inbound = Inbound.typed("skip")
        else:
            inbound = Inbound.typed("She said 'stop' at 23:59 and we stepped back.")
        with session_scope() as session:
            reply = service.handle(session, person_id=person_id, inbound=inbound)
    assert reply.status == "summary", reply.messages[-1].text
    with session_scope() as session:  # the summary as it was shown in the chat
        conversation = crud.active_conversation(session, person_id=person_id)
        assert conversation is not None
        assert conversation.id is not None
        crud.track_message(session, conversation_id=conversation.id, chat_id=telegram_user_id,
                           message_id=1_000_000 + telegram_user_id % 1000, question_id=None)
    return person_id


def _summary_message(api: BotApiStandIn, chat_id: int) -> dict[str, Any]:
    return {"message_id": 1_000_000 + chat_id % 1000, "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Staff"},
            "from": api.bot_user(), "text": "Here is what you told me.",
            "reply_markup": {"inline_keyboard": [[{"text": "Submit",
                                                   "callback_data": "summary|submit"}]]}}


async def _polling(api: BotApiStandIn, process: BotProcess, mark: int) -> None:
    try:
        await api.await_for(lambda c: c.method == "getUpdates", since=mark, within=300)
    except AssertionError:
        raise AssertionError(f"the bot did not start:\n{process.output()[-3000:]}") from None


def _outcome_now(api: BotApiStandIn, mark: int, person_id: int, chat_id: int) -> str:
    """'recorded' (one debrief and its receipt), 'asked again' (no debrief, summary shown again),
    'waiting' (neither yet), or 'DUPLICATED'."""
    with session_scope() as session:
        debriefs = session.exec(select(Debrief).where(Debrief.person_id == person_id)).all()
    texts = [c.params.get("text", "") for c in api.since(mark, "sendMessage")
             if int(c.params.get("chat_id", 0)) == chat_id]
    if len(debriefs) > 1:
        return "DUPLICATED"
    if debriefs:
        receipt = f"Receipt: debrief #{debriefs[0].id} received"
        return "recorded" if any(receipt in t for t in texts) else "waiting"
    # the word comes first, in the same message as the summary
    return "asked again" if any(t.startswith(UNSUBMITTED) for t in texts) else "waiting"


async def _settled_outcome(api: BotApiStandIn, mark: int, person_id: int, chat_id: int) -> str:
    """The outcome once the restarted bot has done its recovery: a redelivered Submit recorded, or
    the summary shown again (and nothing recorded after it); 'LOST' if neither comes."""
    seen, since = "waiting", time.monotonic()
    while time.monotonic() - since < 30:
        seen = await asyncio.to_thread(_outcome_now, api, mark, person_id, chat_id)
        if seen in ("recorded", "DUPLICATED"):
            return seen
        # "asked again" must hold for a while: a redelivered press may still be on its way
        if seen == "asked again" and time.monotonic() - since > REMIND_AFTER_START.seconds + 3:
            return seen
        await asyncio.sleep(0.25)
    return "LOST" if seen == "waiting" else seen


@pytest.mark.timeout(300 + 300 * ROUNDS * len(POINTS))  # process starts are slow on a busy machine
async def test_a_submit_killed_at_any_point_is_never_silently_lost(
    standin: BotApiStandIn, telegram_env: dict[str, str], home: Home, tmp_path: Path,
) -> None:
    env = {**telegram_env, "PYTHONUNBUFFERED": "1", "NLU_BACKEND": "spacy",
           "FOLLOWUPS_ENABLED": "false"}
    log = tmp_path / "bot.log"
    trials = [point for _ in range(ROUNDS) for point in POINTS]
    outcomes: list[tuple[str, str]] = []
    for number, point in enumerate(trials):
        # the killed process: Submit pressed, the process dies at this point
        mark = standin.mark()
        process = BotProcess({**env, "FLOURISH_TEST_KILL_AT": point}, log)
        try:
            await _polling(standin, process, mark)
            chat_id = 7_100_000 + number
            person_id = await asyncio.to_thread(_at_summary, home, chat_id)
            press_mark = standin.mark()
            standin.user(chat_id, "Staff").press("summary|submit",
                                                 message=_summary_message(standin, chat_id))
            await asyncio.to_thread(process.proc.wait, 120)
            assert process.proc.returncode == -9, (point, process.output()[-3000:])
        finally:
            process.kill()
        # the restart, with no kill point: whatever Telegram redelivers is processed normally
        mark = standin.mark()
        process = BotProcess(env, log)
        try:
            await _polling(standin, process, mark)
            outcomes.append((point, await _settled_outcome(standin, press_mark, person_id,
                                                           chat_id)))
        finally:
            process.kill()
    print("crash outcomes:", outcomes)  # shown with -s, for the report
    lost = [o for o in outcomes if o[1] == "LOST"]
    assert len(outcomes) == len(trials)
    assert lost == [], f"silently lost: {lost}; all: {outcomes}"
    assert all(o in ("recorded", "asked again") for _, o in outcomes), outcomes
    # once committed, a submit is a record with its receipt; before, it is redelivered and
    # recorded, or (if Telegram had already counted it delivered) the summary is shown again
    assert {p for p, o in outcomes if o == "recorded"} >= {"after_commit", "after_delete",
                                                           "after_receipt"}


@pytest.fixture(autouse=True)
def _no_kill_points_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOURISH_TEST_KILL_AT", raising=False)
