"""The Telegram bot end to end: python-telegram-bot's real Application and HTTP client, talking to
the local Bot API stand-in, on SQLite and on PostgreSQL (the `database_url` parameter)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import cache
from typing import Any

import pytest
from sqlmodel import select
from support.botapi_standin import UNSUPPORTED_KINDS, BotApiStandIn, FakeUser, buttons_of
from support.telegram_fixtures import Home, enrol, invite, run_application, settle

from bot.telegram import build_application
from bot.telegram.handlers import NOT_ENROLLED, ONLY_PRIVATE, TRACK_WITHIN
from dialogues.flow import QuestionType, load_flow
from nlu.backends import get_interpreter
from nlu.result import Interpreter
from storage import crud
from storage.config import Config
from storage.db import session_scope
from storage.models import Answer, ChatMessage, Conversation, Debrief, Person

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
FLOW = load_flow("staff_debrief")
TYPED = {QuestionType.text, QuestionType.number, QuestionType.duration, QuestionType.time}
LONG_TEXT = ("Robin T had a difficult phone call and was pacing and shouting. " * 80)[:5000]


def question_messages(user: FakeUser) -> list[dict[str, Any]]:
    """Bot messages in the chat that still carry a question's buttons."""
    return [m for m in user.visible() if any("|c:" in b for b in buttons_of(m))]


def current_question(user: FakeUser) -> tuple[str, dict[str, Any]]:
    message = question_messages(user)[-1]
    scope = next(b for b in buttons_of(message) if "|c:" in b).split("|")[0]
    return scope, message


DESCRIBE = "We held him in a standing hold for 5 minutes until he calmed."


async def answer(api: BotApiStandIn, user: FakeUser, scope: str, message: dict[str, Any]) -> None:
    """Answer one question the way a person would: buttons where there are any, else words."""
    question = FLOW.question(scope)
    buttons = buttons_of(message)
    mark = api.mark()
    if question.type is QuestionType.choice:
        user.press(next(b for b in buttons if "|v:" in b), message)
    elif question.type is QuestionType.multi_choice:
        user.press(next(b for b in buttons if "|t:" in b), message)
        await settle(api, mark)
        mark = api.mark()
        user.press(f"{scope}|done")
    elif question.type is QuestionType.confirm_noted:
        user.press(f"{scope}|v:yes", message)
    elif question.type is QuestionType.yes_no:
        user.press(f"{scope}|v:no", message)
    elif question.type is QuestionType.time:
        user.send("00:05")  # earlier today whatever the hour (a later time is queried)
    elif question.type is QuestionType.number:
        user.send("2")
    elif question.type is QuestionType.duration:
        user.send("5 mins")
    elif scope == "communication":
        user.send(LONG_TEXT)
    elif scope == "describe":
        user.send(DESCRIBE)
    else:
        user.send("Giving space earlier might have helped.")
    await settle(api, mark)


async def debrief_to_summary(api: BotApiStandIn, user: FakeUser) -> list[str]:
    """Start a debrief and answer every question; return the question ids asked, in order."""
    mark = api.mark()
    user.send("/debrief")
    await settle(api, mark)
    asked: list[str] = []
    for _ in range(60):
        summary = [m for m in user.visible() if "summary|submit" in buttons_of(m)]
        if summary:
            return asked
        scope, message = current_question(user)
        assert not asked or scope != asked[-1], f"stuck on {scope}"
        asked.append(scope)
        await answer(api, user, scope, message)
    raise AssertionError(f"never reached the summary; asked {asked}")


async def test_enrolment_full_debrief_and_deletion_after_submit(
        standin: BotApiStandIn, running_app: Any, home: Home,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    user = standin.user(5001, "Sam")
    code = invite(home.staff[0])
    mark = standin.mark()
    user.send(f"/start {code}")
    calls = await settle(standin, mark)
    welcome = [c for c in calls if c.method == "sendMessage"]
    assert "Welcome to Flourish" in welcome[0].params["text"]
    menus = [c for c in calls if c.method == "setMyCommands"]
    assert menus[0].params["scope"] == {"type": "chat", "chat_id": 5001}
    assert "debrief" in {c["command"] for c in menus[0].params["commands"]}
    with session_scope() as session:
        assert session.get(Person, home.staff[0]).telegram_user_id == 5001  # type: ignore[union-attr]

    asked = await debrief_to_summary(standin, user)
    assert asked[:3] == ["wellbeing", "child", "incident_day"]
    assert "communication" in asked
    # a pressed choice is shown under its question, in the same message as what came next (one
    # edit a step): the first question, answered, is still in the chat
    wellbeing = [m for m in user.visible() if FLOW.question("wellbeing").prompt + "\n\n➡️ "
                 in m.get("text", "")]
    assert len(wellbeing) == 1, [m.get("text", "")[:80] for m in user.visible()]
    # a multi-choice was ticked in place before Done
    ticked = [c for c in standin.calls_of("editMessageText") if "✅" in str(c.params)]
    assert ticked, "a tick should edit the question in place"
    await asyncio.sleep(TRACK_WITHIN.total_seconds() + 0.5)  # the last ids are written by now
    with session_scope() as session:
        tracked = {m.message_id for m in session.exec(select(ChatMessage)).all()}
    # the questions (several share a message, edited in place), /debrief, the typed answers
    assert len(tracked) >= len([q for q in asked if FLOW.question(q).type in TYPED]) + 2

    mark = standin.mark()
    user.press("summary|submit")
    calls = await settle(standin, mark, quiet=0.5)
    deletions = [c for c in calls if c.method in ("deleteMessage", "deleteMessages")]
    assert [c.method for c in deletions] == ["deleteMessages"]  # up to 100 in one call
    assert set(deletions[0].params["message_ids"]) == tracked
    visible = [m.get("text", "") for m in user.visible()]
    assert not any("Robin" in t or "phone call" in t for t in visible), visible
    receipt = visible[-1]
    assert "Receipt: debrief #" in receipt
    assert "removed from this chat" in receipt
    with session_scope() as session:
        debrief = session.exec(select(Debrief)).one()
        texts = session.exec(select(Answer.text).where(Answer.debrief_id == debrief.id)).all()
        assert LONG_TEXT.strip() in texts, "a message over 4,096 characters is stored whole"
        assert session.exec(select(ChatMessage)).all() == []
    assert "phone call" not in caplog.text, "no answers in the logs"
    assert "Robin" not in caplog.text


async def test_unknown_user_gets_one_polite_message_and_no_data(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    stranger = standin.user(6660, "Stranger")
    for act in (lambda: stranger.send("hello"), lambda: stranger.send("/debrief"),
                lambda: stranger.send("/pending"), lambda: stranger.send_content("sticker"),
                lambda: stranger.send("/start"),
                lambda: stranger.press("wellbeing|v:ok", {"message_id": 1, "date": 0,
                                                          "chat": {"id": 6660, "type": "private"}})):
        mark = standin.mark()
        act()
        calls = await settle(standin, mark)
        sent = [c for c in calls if c.method == "sendMessage"]
        assert [c.params["text"] for c in sent] == [NOT_ENROLLED]
        assert not [c for c in calls if c.method in ("editMessageText", "setMyCommands")]
    with session_scope() as session:
        assert session.exec(select(Conversation)).all() == []
        assert session.exec(select(Person).where(Person.telegram_user_id == 6660)).all() == []


async def test_unknown_expired_and_reused_codes_are_refused_kindly(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    expired = invite(home.staff[0], ttl=timedelta(seconds=-1))
    first, second = standin.user(7001, "A"), standin.user(7002, "B")
    cases = [(first, f"/start {expired}", "expired"),
             (first, "/start NOSUCHCODE", "isn't one I know")]
    for user, text, expected in cases:
        mark = standin.mark()
        user.send(text)
        calls = await settle(standin, mark)
        assert expected in calls[0].params["text"]
    code = invite(home.staff[1])
    await enrol_with(standin, first, code)
    mark = standin.mark()
    second.send(f"/start {code}")
    calls = await settle(standin, mark)
    assert "already been used" in calls[0].params["text"]
    with session_scope() as session:
        assert session.get(Person, home.staff[1]).telegram_user_id == 7001  # type: ignore[union-attr]
        assert session.get(Person, home.staff[0]).telegram_user_id is None  # type: ignore[union-attr]


async def enrol_with(api: BotApiStandIn, user: FakeUser, code: str) -> None:
    mark = api.mark()
    user.send(f"/start {code}")
    calls = await settle(api, mark)
    assert "Welcome to Flourish" in calls[0].params["text"]


async def test_every_unsupported_message_type_is_answered_with_the_question_again(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    user = await enrol(standin, home.staff[0], 5002)
    mark = standin.mark()
    typed = user.send("/debrief")
    await settle(standin, mark)
    scope, _ = current_question(user)
    for kind in (*UNSUPPORTED_KINDS, "edited"):
        mark = standin.mark()
        if kind == "edited":
            user.edit(typed["message"], "/debrief but edited")
        else:
            user.send_content(kind)
        sent = [c for c in await settle(standin, mark) if c.method == "sendMessage"]
        expected = "doesn't change my notes" if kind == "edited" else (
            "answer in words or use the buttons")
        assert expected in sent[0].params["text"], kind
        assert any(d.startswith(f"{scope}|") for d in sent[-1].button_data()), kind
    assert current_question(user)[0] == scope


async def test_a_duplicate_update_is_processed_once(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    user = await enrol(standin, home.staff[0], 5003)
    mark = standin.mark()
    user.send("/debrief")
    await settle(standin, mark)
    mark = standin.mark()
    update = user.press("wellbeing|v:ok")
    await settle(standin, mark)
    assert current_question(user)[0] == "child"
    mark = standin.mark()
    standin.inject(update)  # Telegram re-sends the same update_id
    standin.inject({"update_id": update["update_id"] + 1000,
                    "message": {**user.send("/help")["message"]}})
    calls = await settle(standin, mark)
    texts = [c.params["text"] for c in calls if c.method == "sendMessage"]
    assert len(texts) == 2, "the re-sent press changed nothing; /help answered once per update"
    assert all("/debrief" in t for t in texts)
    assert current_question(user)[0] == "child"


async def test_pause_resume_and_cancel_with_confirmation(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    user = await enrol(standin, home.staff[0], 5004)
    mark = standin.mark()
    user.send("/debrief")
    await settle(standin, mark)
    mark = standin.mark()
    user.press("wellbeing|v:shaken")
    await settle(standin, mark)
    mark = standin.mark()
    user.send("/pause")
    sent = [c for c in await settle(standin, mark) if c.method == "sendMessage"]
    assert "Paused" in sent[-1].params["text"]
    mark = standin.mark()
    user.send("/pending")
    sent = [c for c in await settle(standin, mark) if c.method == "sendMessage"]
    assert "debrief in progress" in sent[-1].params["text"]
    mark = standin.mark()
    user.send("/debrief")
    await settle(standin, mark)
    assert current_question(user)[0] == "child"
    mark = standin.mark()
    user.send("/cancel")
    sent = [c for c in await settle(standin, mark) if c.method == "sendMessage"]
    yes = next(d for d in sent[-1].button_data() if d.endswith("|yes"))
    mark = standin.mark()
    user.press(yes)
    calls = await settle(standin, mark, quiet=0.5)
    assert [c for c in calls if c.method == "deleteMessages"]
    visible = [m.get("text", "") for m in user.visible()]
    assert "Cancel" in visible[-1] or "cancel" in visible[-1]
    with session_scope() as session:
        assert session.exec(select(Debrief)).all() == []
        assert session.exec(select(Conversation).where(Conversation.active)).all() == []


async def test_a_stale_button_changes_nothing(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    user = await enrol(standin, home.staff[0], 5005)
    mark = standin.mark()
    user.send("/debrief")
    await settle(standin, mark)
    first = current_question(user)[1]
    mark = standin.mark()
    user.press("wellbeing|v:ok", first)
    await settle(standin, mark)
    mark = standin.mark()
    user.press("wellbeing|v:struggling", first)
    sent = [c for c in await settle(standin, mark) if c.method == "sendMessage"]
    assert "earlier question" in sent[0].params["text"]
    assert current_question(user)[0] == "child"


async def test_groups_are_left_with_a_message(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    user = await enrol(standin, home.staff[0], 5006)
    mark = standin.mark()
    user.add_bot_to_group(-100300)
    calls = await settle(standin, mark)
    assert [c.params["text"] for c in calls if c.method == "sendMessage"] == [ONLY_PRIVATE]
    assert [c.params["chat_id"] for c in calls if c.method == "leaveChat"] == [-100300]
    mark = standin.mark()
    user.in_group("/debrief", -100301)
    calls = await settle(standin, mark)
    assert [c.params["chat_id"] for c in calls if c.method == "leaveChat"] == [-100301]


async def test_rate_limits_and_network_errors_are_retried_without_duplicates(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    user = await enrol(standin, home.staff[0], 5007)
    standin.fail("sendMessage", retry_after=1)
    mark = standin.mark()
    user.send("/privacy")
    await settle(standin, mark, quiet=1.5)
    privacy = [m for m in user.visible() if m.get("text", "").startswith("What Flourish keeps")]
    assert len(privacy) == 1
    assert len(standin.since(mark, "sendMessage")) == 2  # the refused attempt, then one message
    mark = standin.mark()
    user.send("/debrief")
    await settle(standin, mark)
    standin.fail("editMessageText", drop=True)
    mark = standin.mark()
    user.press("wellbeing|v:ok")
    await settle(standin, mark, quiet=1.0)
    wellbeing = [m for m in user.visible() if "➡️" in m.get("text", "")]
    assert len(wellbeing) == 1
    assert len(standin.since(mark, "editMessageText")) == 2


@cache
def spacy_interpreter() -> Interpreter:
    return get_interpreter("spacy")


async def test_free_text_is_read_by_the_nlu_and_confirmed_with_buttons(
        standin: BotApiStandIn, telegram_config: Config, home: Home) -> None:
    app = build_application(config=telegram_config, interpreter=spacy_interpreter())
    async with run_application(app, standin):
        user = await enrol(standin, home.staff[1], 5010)
        asked = await debrief_to_summary(standin, user)
        mark = standin.mark()
        user.press("summary|submit")
        await settle(standin, mark, quiet=0.5)
    assert "describe" in asked
    assert "noted_confirm" in asked, "what the NLU read is shown back to confirm"
    assert "duration" not in asked, "the length was read from the description, not asked again"
    noted = [c.params["text"] for c in standin.calls_of("sendMessage")
             if c.params["text"].startswith("I noted")]
    assert "5 min" in noted[0]
    with session_scope() as session:
        debrief = session.exec(select(Debrief)).one()
        duration = session.exec(select(Answer).where(Answer.debrief_id == debrief.id,
                                                     Answer.question_id == "duration")).one()
        assert duration.value == 5


async def test_an_unknown_command_is_not_taken_as_an_answer(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    user = await enrol(standin, home.staff[0], 5011)
    mark = standin.mark()
    user.send("/debrief")
    await settle(standin, mark)
    mark = standin.mark()
    user.send("/whatever@flourish_test_bot now")
    sent = [c.params["text"] for c in await settle(standin, mark) if c.method == "sendMessage"]
    assert sent == ["I don't know the command /whatever. Send /help to see what I can do."]
    assert current_question(user)[0] == "wellbeing"


async def test_each_chat_in_order_while_chats_run_side_by_side(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    users = [await enrol(standin, person, 5020 + n) for n, person in
             enumerate([*home.staff, home.manager])]
    mark = standin.mark()
    for user in users:  # everything queued before the bot has answered anything
        user.send("/debrief")
        user.press("wellbeing|v:ok", {"message_id": 0, "date": 0,
                                      "chat": {"id": user.id, "type": "private"}})
        user.send("2")
    await settle(standin, mark, quiet=0.5)
    for user in users:
        assert current_question(user)[0] == "incident_day", "each chat's updates kept their order"


async def test_asking_for_a_check_in_nudges_the_manager_with_no_details(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    manager = await enrol(standin, home.manager, 5030)
    user = await enrol(standin, home.staff[0], 5031)
    mark = standin.mark()
    user.send("/debrief")
    await settle(standin, mark)
    mark = standin.mark()
    user.press("wellbeing|v:struggling")
    await settle(standin, mark)
    assert current_question(user)[0] == "wellbeing_checkin"
    mark = standin.mark()
    user.press("wellbeing_checkin|v:yes")
    calls = await settle(standin, mark)
    to_manager = [c.params["text"] for c in calls
                  if c.method == "sendMessage" and c.params["chat_id"] == manager.id]
    assert len(to_manager) == 1
    assert to_manager[0].startswith("Sam would like you to check in")
    to_staff = [c.params["text"] for c in calls  # (the answer is edited into the pressed message)
                if c.method in ("sendMessage", "editMessageText") and c.params["chat_id"] == user.id]
    assert "asked your manager to check in" in to_staff[0]
    assert current_question(user)[0] == "child"


async def test_a_restart_finishes_a_clean_up_cut_short_by_a_crash(
        standin: BotApiStandIn, telegram_config: Config, home: Home) -> None:
    user = standin.user(5040, "Sam")
    left_behind = [user.send(text)["message"]["message_id"] for text in ("/debrief", "14:30")]
    with session_scope() as session:  # submitted, but killed before the chat was cleaned up
        conversation = Conversation(person_id=home.staff[0], flow_id="staff_debrief", state="{}",
                                    active=False)
        session.add(conversation)
        session.flush()
        assert conversation.id is not None
        for message_id in left_behind:
            crud.track_message(session, conversation_id=conversation.id, chat_id=user.id,
                               message_id=message_id, from_bot=False)
    standin.updates.clear()
    app = build_application(config=telegram_config, interpreter=None)
    async with run_application(app, standin):
        deleted = await standin.await_for(lambda c: c.method == "deleteMessages")
    assert deleted[0].params["message_ids"] == left_behind  # both in one call
    assert user.visible() == []
    with session_scope() as session:
        assert session.exec(select(ChatMessage)).all() == []
