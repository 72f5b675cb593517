"""A burst of 1,000 due nudges does not hold up a person in the middle of a debrief: replies and
follow-ups share one Telegram budget, replies first, so with the stand-in enforcing Telegram's
limits (30 messages a second in all, one a second per chat) the person's next question goes
ahead of the queued nudges and is accepted at its first try."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.botapi_standin import BotApiStandIn, Call, Limits
from support.telegram_fixtures import Home, enrol, settle

from bot.telegram.followups import SCHEDULER_KEY
from storage import crud
from storage import followups as store
from storage.db import session_scope
from storage.models import PersonCreate, Role, SettingCreate, SettingKind
from storage.types import utcnow

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
NUDGES = 1_000
RECIPIENTS = 250


@pytest.fixture
def standin() -> Iterator[BotApiStandIn]:
    """The Bot API stand-in, enforcing Telegram's flood limits."""
    with BotApiStandIn(limits=Limits()) as api:
        yield api


def due_nudges() -> set[int]:
    """1,000 reflection nudges due now for 250 staff of a setting with no quiet hours; their chats."""
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name="St Bride's Busy House", kind=SettingKind.children_home, quiet_start="00:00",
            quiet_end="00:00"))
        assert setting.id is not None
        people = []
        for number in range(RECIPIENTS):
            person = crud.create_person(session, data=PersonCreate(
                setting_id=setting.id, display_name=f"Staff O'Burst {number}", role=Role.staff))
            person.telegram_user_id = 8_400_000 + 13 * number
            people.append(person)
        session.flush()
        now = utcnow()
        for number in range(NUDGES):
            person_id = people[number % RECIPIENTS].id
            assert person_id is not None
            store.add_followup(session, kind="reflection", person_id=person_id,
                               setting_id=setting.id, due_at=now, key=f"burst:{number}")
    return {p.telegram_user_id for p in people if p.telegram_user_id is not None}


def accepted_to(chats: set[int]) -> Any:
    return lambda c: c.method == "sendMessage" and c.chat_id in chats and c.status == 200


async def test_a_burst_of_due_nudges_does_not_hold_up_the_next_question(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    user = await enrol(standin, home.staff[0], 5_150_021, "Aoife O'Neill")
    mark = standin.mark()
    user.send("/debrief")
    await settle(standin, mark)
    chats = due_nudges()
    running_app.bot_data[SCHEDULER_KEY].poke()
    # the burst is under way: Telegram's overall budget is being spent on nudges
    await standin.await_for(accepted_to(chats), within=60, count=60)

    mark = standin.mark()
    update = user.press("wellbeing|v:ok")

    def answered(call: Call) -> bool:
        return call.chat_id == user.id and call.method in ("sendMessage", "editMessageText") \
            and call.status == 200

    reply = (await standin.await_for(answered, since=mark, within=30))[0]
    delivered = standin.delivered[update["update_id"]]
    since_press = standin.since(mark)
    refused = [c.method for c in since_press if c.chat_id == user.id and c.status == 429]
    nudged_meanwhile = [c for c in since_press if accepted_to(chats)(c)
                        and delivered <= c.at <= reply.at]
    nudged_in_all = len([c for c in standin.calls if accepted_to(chats)(c)])

    assert "child" in reply.button_data()[0], "the next question is what came"
    assert refused == [], "the person's reply never had to wait for a 429"
    # Fewer nudges went out while the bot handled the press than one second's budget: the reply
    # did not queue behind the burst (which would have taken 1,000 / 30 seconds).
    assert len(nudged_meanwhile) < 30, len(nudged_meanwhile)
    assert nudged_in_all < NUDGES - 500, "the reply went ahead of most of the burst"
