"""Each child, review owner and due date chosen by button and by typed words is stored as chosen,
and every option of every choice question of the debrief pressed once is read back from the stored
record, through python-telegram-bot and the local Bot API stand-in, on SQLite and PostgreSQL, in a
setting whose ids are not 1..n (added out of order, between another setting's; names with
apostrophes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select
from support.botapi_standin import BotApiStandIn, FakeUser, buttons_of
from support.telegram_fixtures import enrol, run_application, settle

from bot.telegram import build_application
from dialogues.flow import QuestionType, load_flow
from storage import crud
from storage.config import Config
from storage.db import get_engine, session_scope
from storage.models import (
    Answer,
    ChildCreate,
    Debrief,
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


Step = tuple[str, str]  # ("press", payload) or ("type", words)


async def _debrief(api: BotApiStandIn, user: FakeUser,
                   answer: Callable[[str, dict[str, Any]], list[Step]], *,
                   quiet: float = 0.1) -> None:
    """A debrief from /debrief to Submit; `answer(question, message)` says what to do at each."""
    mark = api.mark()
    user.send("/debrief")
    await settle(api, mark)
    for _ in range(60):
        if any("summary|submit" in buttons_of(m) for m in user.visible()):
            break
        scope, message = _current(user)
        for how, what in answer(scope, message):
            mark = api.mark()
            if how == "press":
                user.press(what, _current(user)[1])
            else:
                user.send(what)
            await settle(api, mark, quiet=quiet)
    mark = api.mark()
    user.press("summary|submit")
    await settle(api, mark)


async def _debrief_for(api: BotApiStandIn, user: FakeUser, *, name: str, by: str) -> None:
    """A debrief choosing the child by button or by typed name; everything else skipped."""
    def answer(scope: str, message: dict[str, Any]) -> list[Step]:
        if scope == "child" and by == "button":
            return [("press", _payload_of(message, name))]
        if scope == "child":
            return [("type", TYPED[name])]
        return [("press", f"{scope}|c:skip")]
    await _debrief(api, user, answer)


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


STAFF_DEBRIEF = load_flow("staff_debrief")


def _shown(message: dict[str, Any], scope: str, kind: str) -> list[str]:
    """The option values on a question's buttons, in the order shown."""
    prefix = f"{scope}|{kind}:"
    return [b.removeprefix(prefix) for b in buttons_of(message) if b.startswith(prefix)]


async def _press_round(api: BotApiStandIn, user: FakeUser, round_: int) -> dict[str, Any]:
    """One debrief pressing option `round_` of each single choice (and in the first round every
    option of each multiple choice, so every question about what was used is asked); the rest
    skipped, a follow-up typed. Returns what was pressed (or typed, for follow-ups:
    "<question>.note") by question."""
    pressed: dict[str, Any] = {}

    def answer(scope: str, message: dict[str, Any]) -> list[Step]:
        question = STAFF_DEBRIEF.question(scope)
        if question.type is QuestionType.multi_choice:
            ticks = _shown(message, scope, "t") if round_ == 0 else []
            if ticks:
                pressed[scope] = ticks
            return [*(("press", f"{scope}|t:{v}") for v in ticks),
                    ("press", f"{scope}|done" if ticks else f"{scope}|c:skip")]
        if question.type in (QuestionType.choice, QuestionType.yes_no):
            shown = _shown(message, scope, "v")
            chosen = shown[round_ % len(shown)]
            pressed[scope] = chosen == "yes" if question.type is QuestionType.yes_no else chosen
            return [("press", f"{scope}|v:{chosen}")]
        if question.note_for:
            words = f"in my own words, round {round_}"
            pressed[f"{question.note_for}.note"] = words
            return [("type", words)]
        if question.required:  # the date, after "3 or more days ago"
            day = utcnow().date() - timedelta(days=10)
            return [("type", f"{day.day}/{day.month}/{day.year}")]
        return [("press", f"{scope}|c:skip")]

    await _debrief(api, user, answer, quiet=0.01)  # the bot reports each update it has finished
    return pressed


# SQLite only: the Telegram path is the same on both; the service-level pass over every option
# (tests/services/test_every_option_stored.py) runs on both databases.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_option_of_the_debrief_pressed_once_is_stored_as_pressed(
        standin: BotApiStandIn, telegram_config: Config) -> None:
    staff_id, children = _homes()
    app = build_application(config=telegram_config, interpreter=None, engine=get_engine())
    seen: dict[str, set[str]] = {}
    rounds = max(len(q.options) for q in STAFF_DEBRIEF.questions
                 if q.type is QuestionType.choice)
    async with run_application(app, standin):
        user = await enrol(standin, staff_id, 7501, "Sam")
        for round_ in range(rounds):
            pressed = await _press_round(standin, user, round_)
            with session_scope() as session:
                debrief = session.exec(select(Debrief).where(Debrief.person_id == staff_id)
                                       .order_by(Debrief.id.desc())).first()  # type: ignore[union-attr]
                assert debrief is not None, round_
                rows = {a.question_id: a for a in session.exec(
                    select(Answer).where(Answer.debrief_id == debrief.id))}
                incident = session.get(Incident, debrief.incident_id)
            assert incident is not None
            for question_id, value in pressed.items():
                row = rows[question_id]
                assert (row.text if question_id.endswith(".note") else row.value) == value, \
                    (question_id, round_)
                for one in value if isinstance(value, list) else [value]:
                    seen.setdefault(question_id, set()).add(str(one))
            assert incident.child_id == int(pressed["child"])
    assert seen["child"] == {str(i) for i in children.values()}
    for question in STAFF_DEBRIEF.questions:
        if question.type in (QuestionType.choice, QuestionType.multi_choice, QuestionType.yes_no) \
                and not question.options_from:
            wanted = {o.value for o in question.options if o.when is None
                      or o.when.setting_kind_in is None or "children_home" in o.when.setting_kind_in}
            assert (wanted or {"True", "False"}) <= seen.get(question.id, set()), question.id
