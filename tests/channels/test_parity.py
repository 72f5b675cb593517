"""One service layer for every channel: the same scripted incident typed into the console and into
Telegram (python-telegram-bot against the Bot API stand-in) leaves the same stored record and
sends the same notices to the same people. Two staff debriefs (one asks for a check-in), a
manager's review with an action for a colleague, and a child's view recorded with the child."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlmodel import select
from support.botapi_standin import BotApiStandIn, FakeUser, buttons_of
from support.telegram_fixtures import enrol, run_application, settle

from bot.console import Console
from bot.services.conversations import Conversations
from bot.services.export import export_records
from bot.services.runner import Notice, Reply
from bot.telegram import build_application
from dialogues.wording import for_telegram
from storage import crud
from storage.config import get_config
from storage.db import get_engine, session_scope
from storage.models import (
    AuditEvent,
    ChildCreate,
    FollowUp,
    PersonCreate,
    Role,
    SettingCreate,
    SettingKind,
)

FIRST = {
    "wellbeing": "3", "wellbeing_checkin": "yes", "child": "Robin O'Neill", "incident_day": "yesterday",
    "incident_time": "23:40", "location": "communal", "interventions": "1",
    "other_staff": "Lee D'Souza", "communication": "A phone call from home; pacing and shouting",
    "triggers": "family", "tried_first": "1, 2", "necessity": "2",
    "describe": "We held his arms seated on the sofa", "hold_types": "seated", "duration": "4",
    "staff_count": "2", "noted_confirm": "yes", "child_injured": "no", "staff_injured": "no",
    "ending": "He cried, then asked for a blanket", "child_experience": "He said we were rough",
    "least_restrictive": "partly", "next_time": "Time and space after calls home",
}
SECOND = {**FIRST, "wellbeing": "1", "duration": "6", "child_experience": "He hid his face"}
REVIEW = {
    "spoken_with_staff": "all", "legal_necessary": "yes",
    "legal_necessary_why": "He was about to throw a chair", "reasonable": "yes",
    "minimum_force": "partly", "proportionate": "yes", "less_restrictive": "no",
    "impact_on_child": "Upset for an hour, then settled", "restorative": "planned",
    "informed": "parents", "notifiable": "no", "learning": "Calls home are a trigger",
    "action_1": "Add music to the calming plan", "action_1_owner": "Lee D'Souza",
    "action_1_due": "In a week", "action_2": "skip", "plans_to_review": "1",
}
ASSISTED = {
    "gathered_how": "signs, behaviour", "supporters": "Me", "feel_now": "2",
    "before": "Signed 'noise' and covered his ears", "calm": "The quiet room",
    "hurt": "no", "different": "Signed 'wait'", "talk": "no", "child_words": "Drew a sun",
}
# The script: (who, what). A dict answers each question by id until the summary, then submits.
Script = list[tuple[str, str | dict[str, str]]]
SCRIPT: Script = [
    ("sam", "/debrief"), ("sam", FIRST),
    ("lee", "/debrief"), ("lee", SECOND),
    ("pat", "/review"), ("pat", REVIEW),
    ("lee", "/childview"), ("lee", "choose the incident"), ("lee", ASSISTED),
]


VARYING = ("id", "setting", "created_at", "signed_at", "submitted_at", "updated_at", "due_at",
           "done_at")


@dataclass
class House:
    """One setting with synthetic people; the ids differ between the two channels' houses."""

    setting_id: int
    people: dict[str, int]
    names: dict[int, str] = field(default_factory=dict)
    children: dict[int, str] = field(default_factory=dict)


def make_house(name: str) -> House:
    with session_scope() as s:
        setting = crud.create_setting(s, data=SettingCreate(name=name, kind=SettingKind.children_home))
        assert setting.id is not None
        people = {}
        for key, display, role in (("sam", "Sam O'Brien", Role.staff), ("lee", "Lee D'Souza", Role.staff),
                                   ("pat", "Pat McKay", Role.manager)):
            person = crud.create_person(s, data=PersonCreate(setting_id=setting.id,
                                                             display_name=display, role=role))
            assert person.id is not None
            people[key] = person.id
        children = {}
        for name in ("Robin O'Neill", "Kit Ng"):
            child = crud.create_child(s, data=ChildCreate(setting_id=setting.id, display_name=name))
            assert child.id is not None
            children[child.id] = name
        return House(setting.id, people, {people[k]: d for k, d in (
            ("sam", "Sam O'Brien"), ("lee", "Lee D'Souza"), ("pat", "Pat McKay"))}, children)


def incident_of(house: House) -> int:
    with session_scope() as s:
        (incident,) = crud.incidents_for_export(s, setting_id=house.setting_id)
        assert incident.id is not None
        return incident.id


def record_of(house: House) -> dict[str, Any]:
    """The stored record as an inspector gets it, without ids and clock times, plus follow-ups."""
    with session_scope() as s:
        (record,) = export_records(s, setting_id=house.setting_id,
                                   actor_id=house.people["pat"])
        followups = sorted((f.kind, house.names.get(f.person_id, "?")) for f in s.exec(
            select(FollowUp).where(FollowUp.setting_id == house.setting_id)))
        audit = sorted(e.action for e in s.exec(select(AuditEvent).where(
            AuditEvent.actor_id.in_(list(house.people.values()))))  # type: ignore[attr-defined]
            if e.action != "enrolled")  # only Telegram enrols (a /start with an invite code)
    return {"record": strip(record, house), "followups": followups, "audit": audit}


def strip(value: Any, house: House, key: str = "") -> Any:
    """Drop what differs between two runs by nature: ids and the times things were saved; a
    person chosen in an answer (an action's owner, a supporter) is named instead."""
    if key.endswith("_owner") or key in ("supporters", "other_staff", "child"):
        picked = value.get("value") if isinstance(value, dict) else None
        if picked is not None:
            chosen = picked if isinstance(picked, list) else [picked]
            known = house.children if key == "child" else house.names
            value = {**value, "value": [known.get(int(p), p) if str(p).isdigit() else p
                                        for p in chosen]}
    if isinstance(value, dict):
        return {k: strip(v, house, k) for k, v in value.items()
                if k not in VARYING and not k.endswith("_id")}
    if isinstance(value, list):
        return [strip(v, house) for v in value]
    return value


# --- the console ---------------------------------------------------------------------------------


def run_console(house: House) -> list[tuple[str, str]]:
    """The script typed into a console per person; return the notices (to whom, text)."""
    conversations = Conversations(interpreter=None)
    notices: list[tuple[str, str]] = []

    def deliver(notice: Notice) -> None:
        notices.append((house.names[notice.person_id], for_telegram(notice.text)))  # its words there

    consoles = {key: Console(conversations=conversations, person_id=person_id,
                             write=lambda _text: None, deliver=deliver)
                for key, person_id in house.people.items()}
    last: dict[str, Reply | None] = {}
    for who, what in SCRIPT:
        console = consoles[who]
        if isinstance(what, dict):
            walk_console(console, what, last[who])
            last[who] = console.say("submit")
        elif what == "choose the incident":
            last[who] = console.say("1")  # the newest incident comes first
        else:
            last[who] = console.say(what)
    return notices


def walk_console(console: Console, answers: dict[str, str], latest: Reply | None) -> None:
    """Type each question's answer (or skip) until the summary."""
    for _ in range(60):
        assert latest is not None
        asked = [m.question_id for m in latest.messages if m.question_id]
        if any(m.kind == "summary" for m in latest.messages):
            return
        assert asked, f"no question: {[m.text for m in latest.messages]}"
        latest = console.say(answers.get(asked[-1], "skip"))
    raise AssertionError(f"never reached the summary: {[m.text[:80] for m in latest.messages]}")


# --- Telegram ------------------------------------------------------------------------------------


def current(user: FakeUser) -> str | None:
    """The question (or summary) the user's chat is waiting on."""
    for message in reversed(user.visible()):
        data = buttons_of(message)
        if "summary|submit" in data:
            return "summary"
        scopes = [b.split("|")[0] for b in data if "|c:" in b]
        if scopes:
            return scopes[0]
    return None


async def run_telegram(api: BotApiStandIn, house: House) -> list[tuple[str, str]]:
    """The script through python-telegram-bot; return the messages to others (to whom, text)."""
    users = {key: await enrol(api, person_id, 7100 + n, key.title())
             for n, (key, person_id) in enumerate(house.people.items())}
    chats = {u.id: house.names[house.people[k]] for k, u in users.items()}
    notices: list[tuple[str, str]] = []

    async def act(user: FakeUser, send: Callable[[FakeUser], object]) -> None:
        mark = api.mark()
        send(user)
        for call in await settle(api, mark):
            target = call.params.get("chat_id")
            if call.method == "sendMessage" and target != user.id and target in chats:
                notices.append((chats[target], call.params["text"]))

    for who, what in SCRIPT:
        user = users[who]
        if isinstance(what, dict):
            for _ in range(60):
                scope = current(user)
                assert scope is not None, "no question in the chat"
                if scope == "summary":
                    break
                text = what.get(scope, "skip")
                await act(user, lambda u, text=text: u.send(text))
            await act(user, lambda u: u.press("summary|submit"))
        elif what == "choose the incident":
            newest = next(d for m in reversed(user.visible()) for d in buttons_of(m)
                          if d.startswith("cva:start:"))
            await act(user, lambda u, newest=newest: u.press(newest))
        else:
            await act(user, lambda u, text=what: u.send(text))
    return notices


async def test_the_console_and_telegram_store_and_notify_the_same(
        telegram_env: dict[str, str], standin: BotApiStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWUPS_ENABLED", "false")  # only the replies' notices, no nudges
    get_config.cache_clear()
    by_console = make_house("Console House")
    by_telegram = make_house("Telegram House")
    console_notices = run_console(by_console)
    app = build_application(config=get_config(), interpreter=None, engine=get_engine())
    async with run_application(app, standin):
        telegram_notices = await run_telegram(standin, by_telegram)

    assert console_notices == telegram_notices
    assert [who for who, _ in console_notices] == ["Pat McKay", "Lee D'Souza"]
    assert console_notices[0][1].startswith("Sam would like you to check in with them today")
    assert console_notices[1][1].startswith("You have a new action from the review")
    console_record, telegram_record = record_of(by_console), record_of(by_telegram)
    assert console_record["record"]["reviews"] == telegram_record["record"]["reviews"]
    assert console_record["record"]["debriefs"] == telegram_record["record"]["debriefs"]
    assert console_record["record"]["child_views"] == telegram_record["record"]["child_views"]
    assert console_record == telegram_record
    record = console_record["record"]
    assert [d["person"] for d in record["debriefs"]] == ["Sam O'Brien", "Lee D'Souza"]
    assert record["reviews"][0]["manager"] == "Pat McKay"
    assert record["child_views"][0]["recorded_by"] == "Lee D'Souza"
    assert "wellbeing_checkin_requested" in console_record["audit"]
    assert ("review_nudge", "Pat McKay") in console_record["followups"]
    assert incident_of(by_console) != incident_of(by_telegram)
