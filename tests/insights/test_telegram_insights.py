"""`/insights` and `/report` through python-telegram-bot against the local Bot API stand-in: the
charts arrive as photos and the report as a PDF document, for a manager of the setting only;
staff and children are refused, and another setting's manager sees nothing of this one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select
from support.botapi_standin import BotApiStandIn, FakeUser
from support.telegram_fixtures import (  # noqa: F401  (fixtures used by name)
    Home,
    enrol,
    home,
    running_app,
    settle,
    standin,
    telegram_config,
    telegram_env,
)

from bot.services.access import CHILD_NOT_YOURS
from bot.services.demo_history import Measure, record_incident
from bot.services.insights_view import MANAGERS_ONLY
from storage import crud
from storage.db import session_scope
from storage.models import AuditEvent, PersonCreate, Role, SettingCreate, SettingKind
from storage.types import utcnow

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def _say(api: BotApiStandIn, user: FakeUser, text: str) -> list[Any]:
    mark = api.mark()
    user.send(text)
    return await settle(api, mark, within=120)


async def _tap(api: BotApiStandIn, user: FakeUser, data: str) -> list[Any]:
    mark = api.mark()
    user.press(data)
    return await settle(api, mark, within=120)


def _plant(place: Home) -> list[int]:
    """Two prone holds for Robin this month (a pattern), one standing hold for Kit."""
    now = utcnow()
    with session_scope() as s:
        return [record_incident(s, setting_id=place.setting_id, child_id=child,
                                reporter_id=place.staff[0], others=[place.staff[1]],
                                occurred_at=now - timedelta(days=days, minutes=7),
                                measure=Measure(holds=[hold]), manager_id=place.manager, now=now)
                for child, days, hold in ((place.children[0], 12, "prone"),
                                          (place.children[0], 3, "prone"),
                                          (place.children[1], 6, "standing"))]


async def test_managers_get_charts_and_the_report_and_no_one_else_does(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:  # noqa: F811
    incidents = _plant(home)
    with session_scope() as s:
        child = crud.create_person(s, data=PersonCreate(setting_id=home.setting_id,
                                                        display_name="Robin T", role=Role.child,
                                                        child_id=home.children[0])).id
        other = crud.create_setting(s, data=SettingCreate(name="Elm School (test)",
                                                          kind=SettingKind.school))
        assert other.id is not None
        other_manager = crud.create_person(s, data=PersonCreate(
            setting_id=other.id, display_name="Jo O'Brien", role=Role.manager)).id
    assert child is not None
    assert other_manager is not None
    pat = await enrol(standin, home.manager, 7101, "Pat")
    sam = await enrol(standin, home.staff[0], 7102, "Sam")
    robin = await enrol(standin, child, 7103, "Robin")
    jo = await enrol(standin, other_manager, 7104, "Jo")

    calls = await _say(standin, pat, "/insights")
    photos = [c for c in calls if c.method == "sendPhoto" and c.params["chat_id"] == pat.id]
    assert [c.params["caption"] for c in photos] == [
        "Incidents per week, by child", "When incidents happen", "Regulation 35 deadlines"]
    assert all(next(iter(c.files.values()))[1] > 5000 for c in photos), "real PNG charts"
    (summary,) = [c for c in calls if c.method == "sendMessage"]
    text = summary.params["text"]
    assert text.startswith("Test House: the last 12 weeks\n3 incidents")
    assert "Prone or floor holds were used 2 times in the last 28 days." in text
    assert f"#{incidents[0]}, #{incidents[1]}" in text
    assert {"in:p:28", "in:p:365", f"in:c:{home.children[0]}",
            f"in:s:{home.staff[0]}"} <= set(summary.button_data())

    calls = await _tap(standin, pat, f"in:c:{home.children[0]}")
    (about_robin,) = [c.params["text"] for c in calls if c.method == "sendMessage"]
    assert about_robin.startswith("Robin T: 2 incidents in the last 12 weeks.")

    calls = await _say(standin, pat, "/report")
    (document,) = [c for c in calls if c.method == "sendDocument"]
    assert document.params["chat_id"] == pat.id
    filename, size = next(iter(document.files.values()))
    assert filename.startswith("flourish-report-")
    assert filename.endswith(".pdf")
    assert size > 20_000
    assert "Test House: the inspection report" in document.params["caption"]

    for user, refusal in ((sam, MANAGERS_ONLY), (robin, CHILD_NOT_YOURS)):
        for command in ("/insights", "/report"):
            calls = await _say(standin, user, command)
            assert [c.method for c in calls if c.method != "sendChatAction"] == ["sendMessage"]
            assert calls[-1].params["text"] == refusal
    with session_scope() as s:
        refused = s.exec(select(AuditEvent).where(AuditEvent.action == "access_refused")).all()
    assert len(refused) == 4

    calls = await _say(standin, jo, "/insights")
    (elsewhere,) = [c.params["text"] for c in calls if c.method == "sendMessage"]
    assert elsewhere.startswith("Elm School (test): the last 12 weeks\n0 incidents")
    assert "Robin" not in elsewhere
