"""Every Telegram update type and every kind of message, through the real bot (python-telegram-bot
against the Bot API stand-in, SQLite and PostgreSQL), in the middle of a debrief: each gets a
clear answer in the person's chat, or is ignored without a word to anyone, or (in a group) is
told the bot works only in private chats as the bot leaves. Nothing is lost, nothing says
"something went wrong", and the person carries on with their debrief. The same corpus from
someone not enrolled gets the polite refusal at most, counted in one audit row.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from support.botapi_standin import BotApiStandIn, FakeUser, buttons_of
from support.telegram_fixtures import Home, enrol, settle
from support.update_corpus import GROUP, Case, corpus
from telegram import Update

from bot.telegram.handlers import NOT_ENROLLED, ONLY_PRIVATE
from bot.telegram.updates import read_update
from storage import crud
from storage.audit import audit_trail
from storage.db import session_scope
from storage.models import Conversation

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
GENERIC = "something went wrong"


def _question(user: FakeUser) -> str:
    message = [m for m in user.visible() if any("|v:" in b for b in buttons_of(m))][-1]
    return next(b for b in buttons_of(message) if "|v:" in b).split("|")[0]


def _first_choice(user: FakeUser) -> str:
    message = [m for m in user.visible() if any("|v:" in b for b in buttons_of(m))][-1]
    return next(b for b in buttons_of(message) if "|v:" in b)


def _answers() -> str:
    with session_scope() as session:
        state = session.exec(select(Conversation)).one().state
    return state.split('"answers":', 1)[1].split(',"selection"', 1)[0]


def _sent(calls: list[Any]) -> list[tuple[int, str]]:
    return [(int(c.params.get("chat_id", 0)), str(c.params.get("text", ""))) for c in calls
            if c.method in ("sendMessage", "editMessageText")]


def _check(case: Case, calls: list[Any], user: FakeUser, refusal: str | None = None) -> None:
    sent = _sent(calls)
    assert not any(GENERIC in text for _, text in sent), (case.name, sent)
    if case.expect == "ignored":
        assert sent == [], (case.name, sent)
    elif case.expect == "leave":
        assert sent == [(GROUP["id"], ONLY_PRIVATE)], (case.name, sent)
        assert [c.params["chat_id"] for c in calls if c.method == "leaveChat"] == [GROUP["id"]]
    else:
        assert sent, case.name
        assert {chat for chat, _ in sent} == {user.id}, (case.name, sent)
        if refusal is not None:
            assert [text for _, text in sent] == [refusal], (case.name, sent)


def test_the_corpus_covers_every_update_type_and_ptb_reads_each_case(standin: BotApiStandIn) -> None:
    user = standin.user(7_901_001, "Bríd O'Hare")
    cases = corpus(standin, user, user.send("Robin T")["message"])
    assert {str(t) for t in Update.ALL_TYPES} - {c.update_type for c in cases} == {
        "callback_query"}  # buttons: tests/trust/test_bad_input.py
    for case in cases:
        assert read_update({"update_id": 1, **case.update}) is not None, case.name


async def test_every_update_type_mid_debrief_gets_a_clear_answer_or_is_ignored_and_loses_nothing(
    standin: BotApiStandIn, running_app: Any, home: Home,
) -> None:
    staff = await enrol(standin, home.staff[0], 7_901_002, "Bríd O'Hare")
    for action in (lambda: staff.send("/debrief"), lambda: staff.press("wellbeing|v:ok")):
        mark = standin.mark()
        action()
        await settle(standin, mark)
    mark = standin.mark()
    earlier = staff.send("Robin")["message"]  # the child, typed: to edit and react to later
    await settle(standin, mark)
    assert _question(staff) == "incident_day"
    before = _answers()

    for case in corpus(standin, staff, earlier):
        mark = standin.mark()
        update = standin.inject(dict(case.update))
        calls = await settle(standin, mark)
        _check(case, calls, staff)
        if case.update_type == "edited_message":  # the edit is explained, not taken as an answer
            assert "doesn't change my notes" in _sent(calls)[0][1]
        with session_scope() as session:
            assert crud.update_seen(session, update_id=update["update_id"]), case.name
        assert _answers() == before, case.name  # nothing lost, nothing half-saved
        assert _question(staff) == "incident_day", case.name

    mark = standin.mark()
    staff.press(_first_choice(staff))  # and the debrief carries on
    await settle(standin, mark)
    after = _answers()
    assert after.startswith(before[:-1])  # the earlier answers, and the new one
    assert '"incident_day":{"value":' in after


async def test_the_corpus_from_someone_not_enrolled_gets_the_refusal_at_most(
    standin: BotApiStandIn, running_app: Any, home: Home,
) -> None:
    stranger = standin.user(7_901_003, "Seán Mac Giolla")
    mark = standin.mark()
    earlier = stranger.send("hello")["message"]
    await settle(standin, mark)
    for case in corpus(standin, stranger, earlier):
        mark = standin.mark()
        standin.inject(dict(case.update))
        _check(case, await settle(standin, mark), stranger, refusal=NOT_ENROLLED)
    with session_scope() as session:
        refused = audit_trail(session, action="stranger_refused")
    assert len(refused) == 1  # one row for the account, however much it sent
    assert refused[0].detail["telegram_user_id"] == stranger.id
