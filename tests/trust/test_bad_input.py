"""Bad input through the real bot (python-telegram-bot against the Bot API stand-in, SQLite and
PostgreSQL): a revoked manager is refused at once and audited, and can be enrolled again; a
stranger probing every command, a group chat, and odd or forged input from an enrolled person
each get a clear answer, never the generic "something went wrong", lose nothing, and every refusal
is in the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from support.botapi_standin import UNSUPPORTED_KINDS, BotApiStandIn, FakeUser, buttons_of
from support.telegram_fixtures import Home, enrol, invite, settle

from bot.followups.messages import CALLBACK_PREFIX
from bot.telegram.handlers import NOT_ENROLLED, ONLY_PRIVATE
from storage.accounts import revoke_person
from storage.audit import audit_trail
from storage.db import session_scope
from storage.models import Conversation, PersonCreate, Role

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
GENERIC = "something went wrong on my side"
COMMANDS = ["/start", "/start NOTACODE42", "/debrief", "/review", "/review 99999999999999999999",
            "/pending", "/pause", "/cancel", "/childview", "/tell", "/help", "/privacy"]


def texts(calls: list[Any]) -> list[str]:
    return [c.params.get("text", "") for c in calls if c.method in ("sendMessage",
                                                                    "editMessageText")]


async def do(api: BotApiStandIn, action: Any) -> list[Any]:
    mark = api.mark()
    action()
    return await settle(api, mark)


def audited(action: str) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [{"object_id": e.object_id, **e.detail}
                for e in audit_trail(session, action=action)]


async def test_a_revoked_manager_is_refused_at_once_audited_and_can_be_enrolled_again(
    standin: BotApiStandIn, running_app: Any, home: Home
) -> None:
    manager = await enrol(standin, home.manager, 9_101_001, "Manager")
    assert NOT_ENROLLED not in texts(await do(standin, lambda: manager.send("/pending")))
    with session_scope() as session:
        revoke_person(session, person_id=home.manager, reason="left")
    last = manager.visible()[-1]
    for action in (lambda: manager.send("/review"),
                   lambda: manager.press("summary|submit", message=last)):
        calls = await do(standin, action)
        assert texts(calls) == [NOT_ENROLLED]
    refusals = audited("stranger_refused")  # one row for the account, counting both
    assert [(r["object_id"], r["revoked"], r["count"], r["attempts"]) for r in refusals] == [
        (home.manager, True, 2, ["command /review", "button"])]

    with session_scope() as session:  # the same account, invited again as a new person
        from storage import crud

        returning = crud.create_person(session, data=PersonCreate(
            setting_id=home.setting_id, display_name="Manager O'Brien (returning)",
            role=Role.manager))
        assert returning.id is not None
        returning_id = returning.id
    welcome = texts(await do(standin, lambda: manager.send(f"/start {invite(returning_id)}")))
    assert welcome[0].startswith("Welcome to Flourish. You're set up as manager")
    assert NOT_ENROLLED not in texts(await do(standin, lambda: manager.send("/pending")))


async def test_a_stranger_probing_every_command_and_a_group_get_clear_answers_all_audited(
    standin: BotApiStandIn, running_app: Any, home: Home
) -> None:
    stranger = standin.user(9_202_002, "Stranger")
    for command in COMMANDS:
        replies = texts(await do(standin, lambda command=command: stranger.send(command)))
        assert len(replies) == 1, (command, replies)
        assert replies[0] == NOT_ENROLLED or "invite code" in replies[0], (command, replies)
    for kind in UNSUPPORTED_KINDS:
        assert texts(await do(standin, lambda kind=kind: stranger.send_content(kind))) == [
            NOT_ENROLLED]
    refusals = audited("stranger_refused")  # one row for the account, counting every refusal
    assert len(refusals) == 1
    assert refusals[0]["count"] == len(COMMANDS) - 2 + len(UNSUPPORTED_KINDS)  # /start: the way in
    assert refusals[0]["telegram_user_id"] == stranger.id
    assert refusals[0]["revoked"] is False
    assert "command /review" in refusals[0]["attempts"]
    assert "message" in refusals[0]["attempts"]
    assert audited("invite_unknown")[0]["telegram_user_id"] == stranger.id

    staff = await enrol(standin, home.staff[0], 9_202_003, "Staff")
    calls = await do(standin, lambda: staff.in_group("Robin T kicked off again"))
    assert texts(calls) == [ONLY_PRIVATE]
    assert [c.method for c in calls if c.method == "leaveChat"] == ["leaveChat"]
    assert audited("group_refused")[0]["chat_type"] == "group"


def _question(user: FakeUser) -> tuple[str, dict[str, Any]]:
    message = [m for m in user.visible() if any("|c:" in b for b in buttons_of(m))][-1]
    return next(b for b in buttons_of(message) if "|c:" in b).split("|")[0], message


async def test_odd_and_forged_input_in_a_debrief_gets_a_clear_answer_and_loses_nothing(
    standin: BotApiStandIn, running_app: Any, home: Home
) -> None:
    staff = await enrol(standin, home.staff[0], 9_303_004, "Staff")
    await do(standin, lambda: staff.send("/debrief"))
    await do(standin, lambda: staff.press("wellbeing|v:ok"))
    scope, message = _question(staff)
    assert scope == "child"
    odd: list[Any] = [
        lambda: staff.send("   \n\t "),
        lambda: staff.send("\u200b\u200b"),
        lambda: staff.send("\x00\x1b[31mred\x1b[0m \u202eevil"),
        lambda: staff.send("zzzz " * 4000),  # 20,000 characters that name no child
        lambda: staff.press("x" * 64, message=message),  # Telegram's longest callback data
        lambda: staff.press("child|v:" + "9" * 56, message=message),
        lambda: staff.press("incident_time|v:23:59", message=message),  # a stale scope
        lambda: staff.press(f"{CALLBACK_PREFIX}:snooze:4242:forged", message=message),
        lambda: staff.press(f"{CALLBACK_PREFIX}:snooze:{'9' * 40}:x", message=message),
        lambda: staff.send("/review 99999999999999999999"),
        lambda: staff.send("/review -1"),
        lambda: staff.send("/review abc"),
        *[lambda kind=kind: staff.send_content(kind) for kind in UNSUPPORTED_KINDS],
    ]
    for number, action in enumerate(odd):
        calls = await do(standin, action)
        replies = texts(calls)
        assert replies or any(c.method == "answerCallbackQuery" for c in calls), number
        assert not any(GENERIC in r for r in replies), (number, replies)
    assert _question(staff)[0] == "child"  # nothing moved on, nothing lost
    assert audited("followup_button_refused") == [{"object_id": 4242, "reason": "unknown"},
                                                  {"object_id": 0, "reason": "unknown"}]
    await do(standin, lambda: staff.press(f"child|v:{home.children[0]}"))
    assert _question(staff)[0] == "incident_day"
    with session_scope() as session:
        conversation = session.exec(select(Conversation)).one()
        assert '"wellbeing"' in conversation.state
