"""A child's own view is never ended by accident: another command in the middle of /tell pauses it,
/tell carries on exactly where it was, and only the child's own Stop ends it. Through
python-telegram-bot against the local Bot API stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select
from support.botapi_standin import BotApiStandIn, FakeUser, buttons_of
from support.telegram_fixtures import Home, enrol, settle

from bot.followups import planner
from storage import crud
from storage.db import session_scope
from storage.models import Child, ChildView, FollowUp, PersonCreate, Role
from storage.types import utcnow


def texts(calls: list[Any], chat_id: int) -> list[str]:
    return [c.params["text"] for c in calls
            if c.method in ("sendMessage", "editMessageText") and c.params.get("chat_id") == chat_id]


async def say(api: BotApiStandIn, user: FakeUser, text: str) -> list[Any]:
    mark = api.mark()
    user.send(text)
    return await settle(api, mark)


async def tap(api: BotApiStandIn, user: FakeUser, data: str) -> list[Any]:
    mark = api.mark()
    user.press(data)
    return await settle(api, mark)


def question_on_screen(user: FakeUser) -> str | None:
    """The question the newest message with answer buttons asks."""
    for message in reversed(user.visible()):
        scopes = [b.split("|")[0] for b in buttons_of(message) if "|" in b]
        if scopes:
            return scopes[0]
    return None


def _incident_for_child(home: Home) -> tuple[int, int]:
    """An incident about Kit (key worker Sam), reported with a debrief; and Kit's child person id."""
    with session_scope() as s:
        kit = s.get(Child, home.children[1])
        assert kit is not None
        kit.key_worker_id = home.staff[0]
        s.add(kit)
        child = crud.create_person(s, data=PersonCreate(setting_id=home.setting_id,
                                                        display_name="Kit T", role=Role.child,
                                                        child_id=home.children[1]))
        incident = crud.create_incident(
            s, setting_id=home.setting_id, child_id=home.children[1],
            occurred_at=utcnow() - timedelta(hours=30), reported_by_id=home.staff[0], staff_ids=[])
        debrief = crud.save_debrief(s, incident=incident, person_id=home.staff[0],
                                    flow_id="staff_debrief", answers=[], flags=[])
        planner.after_submit(s, incident=incident, person_id=home.staff[0], debrief_id=debrief.id)
        assert incident.id is not None
        assert child.id is not None
        return incident.id, child.id


def _closed_childview_nudges(incident_id: int) -> int:
    """The key worker's child's-view nudges closed because a view was recorded."""
    with session_scope() as s:
        rows = s.exec(select(FollowUp).where(FollowUp.incident_id == incident_id)).all()
        return sum(1 for r in rows if r.kind.startswith("childview") and r.outcome
                   and "child_view_recorded" in r.outcome)


async def test_a_command_in_the_middle_of_tell_pauses_the_view_and_tell_resumes_it(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    incident_id, child_person_id = _incident_for_child(home)
    kit = await enrol(standin, child_person_id, 6204, "Kit")

    calls = await say(standin, kit, "/tell")
    assert any("You can stop at any time" in t for t in texts(calls, kit.id))
    await tap(standin, kit, "feel_now|v:sad")
    assert question_on_screen(kit) == "before"

    for command in ("/debrief", "/pause", "/cancel", "/review"):
        calls = await say(standin, kit, command)
        said = texts(calls, kit.id)
        assert said[0].startswith(  # (what follows comes in the same message)
            "OK. We can stop for now. 💛 I kept what you said. Send /tell to go on."), (command, said)
        assert not any("We can stop now" in t for t in said), (command, said)
        with session_scope() as s:
            assert s.exec(select(ChildView)).all() == [], f"{command} saved the view as ended"
        assert _closed_childview_nudges(incident_id) == 0
        calls = await say(standin, kit, "/tell")
        assert any(t.startswith("Hi again. Here is where we were.") for t in texts(calls, kit.id))
        assert question_on_screen(kit) == "before", command

    await tap(standin, kit, "before|v:too_loud")
    calls = await say(standin, kit, "stop")  # the child's own Stop ends it, keeping what they said
    assert any(t.startswith("That is OK. We can stop now.") for t in texts(calls, kit.id))
    with session_scope() as s:
        (view,) = s.exec(select(ChildView)).all()
        assert view.ended_early
        assert view.choices == {"feel_now": "sad", "before": "too_loud"}
