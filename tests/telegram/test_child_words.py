"""A child hears child words, through python-telegram-bot and the Bot API stand-in: a welcome
without "You're set up as child for ...", and a /privacy they can read (not the adult text)."""

from __future__ import annotations

from typing import Any

from support.botapi_standin import BotApiStandIn
from support.telegram_fixtures import Home, invite, settle

from bot.telegram.handlers import CHILD_PRIVACY, PRIVACY
from storage import crud
from storage.db import session_scope
from storage.models import PersonCreate, Role


async def test_a_child_is_welcomed_and_told_about_privacy_in_child_words(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    with session_scope() as s:
        child = crud.create_person(s, data=PersonCreate(setting_id=home.setting_id,
                                                        display_name="Kit T", role=Role.child,
                                                        child_id=home.children[1]))
        assert child.id is not None
        child_id = child.id
    kit = standin.user(6301, "Kit")
    mark = standin.mark()
    kit.send(f"/start {invite(child_id)}")
    (welcome,) = [c.params["text"] for c in await settle(standin, mark) if c.method == "sendMessage"]
    assert welcome.startswith("Hi. 💛 Welcome. I'm here so you can tell us how things were for you.")
    assert "set up as" not in welcome
    assert "Test House" not in welcome
    assert "/tell" in welcome

    mark = standin.mark()
    kit.send("/privacy")
    (said,) = [c.params["text"] for c in await settle(standin, mark) if c.method == "sendMessage"]
    assert said == CHILD_PRIVACY
    assert "debrief" not in said.lower()
    assert "encrypted" not in said

    sam = standin.user(6302, "Sam")  # staff still get the adult text
    mark = standin.mark()
    sam.send(f"/start {invite(home.staff[0])}")
    await settle(standin, mark)
    mark = standin.mark()
    sam.send("/privacy")
    (adult,) = [c.params["text"] for c in await settle(standin, mark) if c.method == "sendMessage"]
    assert adult == PRIVACY
