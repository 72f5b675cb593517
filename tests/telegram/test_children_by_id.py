"""Each child, review owner and due date chosen by button and by typed words is stored as chosen,
through python-telegram-bot and the local Bot API stand-in, on SQLite and PostgreSQL, in a setting
whose ids are not 1..n (added out of order, between another setting's; names with apostrophes)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from support.botapi_standin import BotApiStandIn, FakeUser, buttons_of
from support.telegram_fixtures import enrol, run_application, settle

from bot.telegram import build_application
from storage import crud
from storage.config import Config
from storage.db import get_engine, session_scope
from storage.models import (
    ChildCreate,
    Incident,
    Person,
    PersonCreate,
    ReviewAction,
    Role,
    SettingCreate,
    SettingKind,
)
from storage.types import utcnow

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

# (name, setting): children added out of order, between the neighbouring home's.
CHILDREN = [("Zed A'Court", "next door"), ("Jay O'Brien", "ours"), ("Mo D'Arcy", "next door"),
            ("Ada Ní Bhriain", "ours"), ("Lou Test", "next door"), ("Bea O'Hara", "ours")]
# How a tired person types each of ours: a first name, a surname, a full name with a curly
# apostrophe (as phones type it).
TYPED = {"Jay O'Brien": "jay", "Ada Ní Bhriain": "Bhriain", "Bea O'Hara": "Bea O’Hara"}


def _homes() -> tuple[int, dict[str, int]]:
    """Our home and the one next door; our staff member's id and our children's ids by name."""
    with session_scope() as session:
        ours = crud.create_setting(session, data=SettingCreate(name="St Mary's (test)",
                                                               kind=SettingKind.children_home))
        next_door = crud.create_setting(session, data=SettingCreate(name="Elm's Lodge (test)",
                                                                    kind=SettingKind.children_home))
        assert ours.id is not None
        assert next_door.id is not None
        ids = {}
        for name, where in CHILDREN:
            child = crud.create_child(session, data=ChildCreate(
                setting_id=ours.id if where == "ours" else next_door.id, display_name=name))
            assert child.id is not None
            ids[name] = child.id
        for name in ("Al Next Door", "Bo Next Door"):  # people next door first: our ids are not 1..n
            crud.create_person(session, data=PersonCreate(setting_id=next_door.id, display_name=name,
                                                          role=Role.staff))
        staff = crud.create_person(session, data=PersonCreate(
            setting_id=ours.id, display_name="Sam D'Souza", role=Role.staff))
        crud.create_person(session, data=PersonCreate(setting_id=next_door.id,
                                                      display_name="Cy Next Door", role=Role.manager))
        crud.create_person(session, data=PersonCreate(setting_id=ours.id, display_name="Pat Test",
                                                      role=Role.manager))
        assert staff.id is not None
    ours_ids = {name: ids[name] for name, where in CHILDREN if where == "ours"}
    assert sorted(ours_ids.values()) != list(range(1, len(ours_ids) + 1))
    return staff.id, ours_ids


def _current(user: FakeUser) -> tuple[str, dict[str, Any]]:
    message = [m for m in user.visible() if any("|c:" in b for b in buttons_of(m))][-1]
    return next(b for b in buttons_of(message) if "|c:" in b).split("|")[0], message


def _payload_of(message: dict[str, Any], label: str) -> str:
    rows = message["reply_markup"]["inline_keyboard"]
    return next(b["callback_data"] for row in rows for b in row if b["text"] == label)


async def _debrief_for(api: BotApiStandIn, user: FakeUser, *, name: str, by: str) -> None:
    """A debrief choosing the child by button or by typed name; everything else skipped."""
    mark = api.mark()
    user.send("/debrief")
    await settle(api, mark)
    for _ in range(60):
        if any("summary|submit" in buttons_of(m) for m in user.visible()):
            break
        scope, message = _current(user)
        mark = api.mark()
        if scope == "child" and by == "button":
            user.press(_payload_of(message, name), message)
        elif scope == "child":
            user.send(TYPED[name])
        else:
            user.press(f"{scope}|c:skip", message)
        await settle(api, mark)
    mark = api.mark()
    user.press("summary|submit")
    await settle(api, mark)


async def test_each_child_by_button_and_by_name_is_stored_as_that_child(
        standin: BotApiStandIn, telegram_config: Config) -> None:
    staff_id, children = _homes()
    app = build_application(config=telegram_config, interpreter=None, engine=get_engine())
    async with run_application(app, standin):
        user = await enrol(standin, staff_id, 7301, "Sam")
        expected = []
        for name in children:
            for by in ("button", "typed"):
                await _debrief_for(standin, user, name=name, by=by)
                expected.append(children[name])
    with session_scope() as session:
        stored = [i.child_id for i in session.exec(select(Incident).order_by(Incident.id))]  # type: ignore[arg-type]
    assert stored == expected


async def _walk(api: BotApiStandIn, user: FakeUser, answers: dict[str, tuple[str, str]]) -> None:
    """Answer the questions named in `answers` (("press", label) or ("type", text)); skip the rest."""
    asked: list[str] = []
    for _ in range(80):
        if any("summary|submit" in buttons_of(m) for m in user.visible()):
            return
        scope, message = _current(user)
        assert asked[-2:] != [scope, scope], f"stuck on {scope}"
        asked.append(scope)
        mark = api.mark()
        how, what = answers.get(scope, ("skip", ""))
        if how == "press":
            user.press(_payload_of(message, what), message)
        elif how == "type":
            user.send(what)
        else:
            user.press(f"{scope}|c:skip", message)
        await settle(api, mark)
    raise AssertionError(f"never reached the summary: {asked}")


async def test_review_owners_and_due_dates_by_button_and_by_name_are_stored_as_chosen(
        standin: BotApiStandIn, telegram_config: Config) -> None:
    staff_id, _ = _homes()
    with session_scope() as session:
        staff = session.get(Person, staff_id)
        assert staff is not None
        setting_id = staff.setting_id
        people = {p.display_name: p.id for p in crud.list_people(
            session, setting_id=setting_id, roles=(Role.staff, Role.manager))}
        manager_id = people["Pat Test"]
        extra = crud.create_person(session, data=PersonCreate(
            setting_id=setting_id, display_name="Kim Ó Dálaigh", role=Role.staff))
        people[extra.display_name] = extra.id
    assert manager_id is not None
    assert sorted(i for i in people.values() if i) != list(range(1, len(people) + 1))
    app = build_application(config=telegram_config, interpreter=None, engine=get_engine())
    async with run_application(app, standin):
        sam = await enrol(standin, staff_id, 7401, "Sam")
        pat = await enrol(standin, manager_id, 7402, "Pat")
        await _debrief_for(standin, sam, name="Ada Ní Bhriain", by="button")
        mark = standin.mark()
        pat.send("/review")
        await settle(standin, mark)
        before = utcnow()
        await _walk(standin, pat, {
            "action_1": ("type", "Update Ada's calming plan"),
            "action_1_owner": ("press", "Sam D'Souza"), "action_1_due": ("press", "In 2 days"),
            "action_2": ("type", "Talk to Ada's social worker"),
            "action_2_owner": ("type", "Kim"), "action_2_due": ("type", "in a week"),
            "action_3": ("type", "Check the quiet room door"),
            "action_3_owner": ("press", "Me"), "action_3_due": ("type", "4 weeks"),
        })
        mark = standin.mark()
        pat.press("summary|submit")
        await settle(standin, mark)
    with session_scope() as session:
        actions = session.exec(select(ReviewAction).order_by(ReviewAction.id)).all()  # type: ignore[arg-type]
        stored = [(a.description, a.owner_id, round((a.due_at - before).total_seconds() / 86400))
                  for a in actions]
    assert stored == [("Update Ada's calming plan", staff_id, 2),
                      ("Talk to Ada's social worker", people["Kim Ó Dálaigh"], 7),
                      ("Check the quiet room door", manager_id, 28)]
