"""Nudges in the running bot: sent by its own scheduler, buttons that act at once, `/pending`.

The real application (`build_application`, every extension) polls the Bot API stand-in; people are
enrolled with real `/start <code>` messages.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from followup_helpers import followup_id_of
from support.botapi_standin import BotApiStandIn
from support.telegram_fixtures import Home, enrol, settle

from bot.followups import planner
from storage import crud
from storage import followups as store
from storage.db import session_scope
from storage.models import FollowUp, Setting
from storage.types import utcnow


def _no_quiet_hours(setting_id: int) -> None:
    with session_scope() as session:
        setting = session.get(Setting, setting_id)
        assert setting is not None
        setting.quiet_start = setting.quiet_end = "00:00"  # the test must not depend on the hour
        session.add(setting)


def _report(home: Home) -> int:
    with session_scope() as session:
        incident = crud.create_incident(
            session, setting_id=home.setting_id, child_id=home.children[0],
            occurred_at=utcnow() - timedelta(minutes=30), reported_by_id=home.staff[0],
            staff_ids=[home.staff[1]])
        debrief = crud.save_debrief(session, incident=incident, person_id=home.staff[0],
                                    flow_id="staff_debrief", answers=[], flags=[])
        planner.after_submit(session, incident=incident, person_id=home.staff[0],
                             debrief_id=debrief.id)
        assert incident.id is not None
        return incident.id


def _nudge_to(api: BotApiStandIn, chat: int, since: int = 0) -> Any:
    return [c for c in api.since(since) if c.method == "sendMessage"
            and int(c.params["chat_id"]) == chat and followup_id_of(c)][-1]


def _button(call: Any, action: str) -> str:
    return next(d for d in call.button_data() if d.startswith(f"fu:{action}:"))


async def test_nudge_buttons_act_at_once_and_pending_lists_deadlines(
    running_app: Any, standin: BotApiStandIn, home: Home
) -> None:
    _no_quiet_hours(home.setting_id)
    manager = await enrol(standin, home.manager, 3001, "Pat")
    mark = standin.mark()
    incident_id = _report(home)  # the running bot's scheduler is poked after this commit
    await standin.await_for(lambda c: c.method == "sendMessage" and c.params["chat_id"] == 3001
                            and "ready for your review" in c.params.get("text", ""), since=mark)
    nudge = _nudge_to(standin, 3001, mark)
    assert [b.split(":")[1] for b in nudge.button_data()] == ["go", "snz", "else"]
    first_id = followup_id_of(nudge)

    # "Remind me in 2 hours": the same nudge is planned again, two hours on; buttons removed.
    mark = standin.mark()
    manager.press(_button(nudge, "snz"))
    replies = await settle(standin, mark)
    assert any("I'll remind you again at" in c.params.get("text", "") for c in replies)
    assert standin.since(mark, "editMessageReplyMarkup")
    with session_scope() as session:
        first = session.get(FollowUp, first_id)
        assert first is not None
        assert (first.state, first.outcome) == ("done", "snoozed")
        again = [r for r in store.open_followups(session, incident_id=incident_id,
                                                  kinds=["review_nudge"])]
        assert len(again) == 1
        assert timedelta(hours=1, minutes=59) < again[0].due_at - utcnow() <= timedelta(hours=2)
        again_id = again[0].id

    # An old button changes nothing.
    mark = standin.mark()
    old = next(m for m in standin.chat(3001) if m.get("text") == nudge.params["text"])
    manager.press(_button(nudge, "else"), old)
    replies = await settle(standin, mark)
    assert any("already dealt with" in c.params.get("text", "") for c in replies)

    # /pending: a colleague's debrief still owed, with its deadline (the 24-hour record).
    mark = standin.mark()
    manager.send("/pending")
    replies = await settle(standin, mark)
    text = "\n".join(c.params.get("text", "") for c in replies)
    assert "Lee" in text
    assert "debrief of the incident" in text
    assert "due by" in text

    # The snoozed nudge falls due (moved here by hand) and comes again; "Someone else is doing
    # this" takes the whole review off this manager's list.
    with session_scope() as session:
        row = session.get(FollowUp, again_id)
        assert row is not None
        row.due_at = utcnow() - timedelta(seconds=1)
        session.add(row)
        planner._wake_after_commit(session)
    await standin.await_for(lambda c: c.method == "sendMessage" and followup_id_of(c) == again_id,
                            since=mark)
    second = _nudge_to(standin, 3001, mark)
    mark = standin.mark()
    manager.press(_button(second, "else"))
    replies = await settle(standin, mark)
    assert any("taken this off your list" in c.params.get("text", "") for c in replies)
    with session_scope() as session:
        open_review = store.open_followups(session, incident_id=incident_id,
                                           kinds=["review_nudge", "review_reminder"],
                                           person_id=home.manager)
    assert open_review == []


async def test_review_now_opens_the_work_and_a_press_confirms_a_nudge_in_doubt(
    running_app: Any, standin: BotApiStandIn, home: Home
) -> None:
    _no_quiet_hours(home.setting_id)
    manager = await enrol(standin, home.manager, 3001, "Pat")
    mark = standin.mark()
    _report(home)
    await standin.await_for(lambda c: c.method == "sendMessage" and c.params["chat_id"] == 3001
                            and followup_id_of(c) is not None, since=mark)
    nudge = _nudge_to(standin, 3001, mark)
    followup_id = followup_id_of(nudge)
    with session_scope() as session:  # as if the bot had died before recording the message id
        row = session.get(FollowUp, followup_id)
        assert row is not None
        row.state, row.telegram_message_id = store.UNCONFIRMED, None
        session.add(row)
    mark = standin.mark()
    manager.press(_button(nudge, "go"))
    replies = await settle(standin, mark)
    text = "\n".join(c.params.get("text", "") for c in replies)
    assert "/review" in text or "review" in text.lower()
    with session_scope() as session:
        row = session.get(FollowUp, followup_id)
        assert row is not None
        assert row.state == store.SENT
        assert row.telegram_message_id is not None
