"""Issue 6 end to end, through python-telegram-bot against the local Bot API stand-in, on SQLite
and PostgreSQL: two staff debriefs, a manager review with actions and sign-off, a child's own view
with a safeguarding alert, a view recorded with the child, and an export that holds all of it."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select
from support.botapi_standin import BotApiStandIn, FakeUser, buttons_of
from support.telegram_fixtures import Home, enrol, settle

from bot.services.export import export_records, to_csv
from storage import crud
from storage.db import session_scope
from storage.models import AuditEvent, Child, FollowUp, Incident, PersonCreate, Role

DEBRIEF = {
    "wellbeing": "1", "child": "Robin T", "incident_day": "yesterday", "incident_time": "17:30",
    "location": "communal", "interventions": "1", "other_staff": "Lee Test",
    "communication": "A phone call from home; pacing and shouting", "triggers": "family",
    "tried_first": "1, 2", "necessity": "2", "describe": "We held his arms seated on the sofa",
    "hold_types": "seated", "duration": "4", "staff_count": "2", "noted_confirm": "yes",
    "child_injured": "no", "staff_injured": "no", "ending": "He cried, then asked for a blanket",
    "child_experience": "He said we were rough", "least_restrictive": "partly",
    "next_time": "Time and space after calls home",
}
REVIEW = {
    "spoken_with_staff": "all", "legal_necessary": "yes",
    "legal_necessary_why": "He was about to throw a chair at Kit", "reasonable": "yes",
    "minimum_force": "partly", "proportionate": "yes", "less_restrictive": "no",
    "impact_on_child": "Upset for an hour, then settled", "restorative": "held",
    "informed": "parents", "notifiable": "no", "learning": "Calls home are a trigger",
    "action_1": "Add music to Robin's calming plan", "action_1_owner": "Lee Test",
    "action_1_due": "In a week", "action_2": "Move call times earlier", "action_2_owner": "Me",
    "action_2_due": "In 2 weeks", "action_3": "skip", "plans_to_review": "1",
}
ASSISTED = {
    "gathered_how": "signs, behaviour", "supporters": "Me", "feel_now": "2",
    "before": "Signed 'noise' and covered his ears", "calm": "The quiet room",
    "hurt": "no", "different": "Signed 'wait'", "talk": "no", "child_words": "Drew a sun",
}


def current(user: FakeUser) -> tuple[str | None, dict[str, Any]]:
    """The question (or summary) the user's chat is waiting on, and its message."""
    for message in reversed(user.visible()):
        data = buttons_of(message)
        if "summary|submit" in data:
            return "summary", message
        scopes = [b.split("|")[0] for b in data if "|c:" in b]
        if scopes:
            return scopes[0], message
    return None, {}


async def say(api: BotApiStandIn, user: FakeUser, text: str) -> list[Any]:
    mark = api.mark()
    user.send(text)
    return await settle(api, mark)


async def tap(api: BotApiStandIn, user: FakeUser, data: str) -> list[Any]:
    mark = api.mark()
    user.press(data)
    return await settle(api, mark)


async def walk(api: BotApiStandIn, user: FakeUser, answers: dict[str, str]) -> list[str]:
    """Type each question's answer (or skip) until the summary; return the questions asked."""
    asked: list[str] = []
    for _ in range(60):
        scope, _message = current(user)
        assert scope is not None, "no question in the chat"
        if scope == "summary":
            return asked
        assert not asked or asked[-1] != scope or scope in ("interventions",), f"stuck on {scope}"
        asked.append(scope)
        await say(api, user, answers.get(scope, "skip"))
    raise AssertionError(f"never reached the summary: {asked}")


def texts(calls: list[Any], chat_id: int) -> list[str]:
    return [c.params["text"] for c in calls
            if c.method in ("sendMessage", "editMessageText") and c.params.get("chat_id") == chat_id]


async def test_an_incident_reviewed_and_heard_from_the_child_end_to_end(
        standin: BotApiStandIn, running_app: Any, home: Home) -> None:
    with session_scope() as s:
        robin = s.get(Child, home.children[0])
        assert robin is not None
        robin.key_worker_id = home.staff[0]
        s.add(robin)
        child = crud.create_person(s, data=PersonCreate(setting_id=home.setting_id,
                                                        display_name="Robin T", role=Role.child,
                                                        child_id=home.children[0]))
        child_person_id = child.id
    assert child_person_id is not None
    sam = await enrol(standin, home.staff[0], 6101, "Sam")
    lee = await enrol(standin, home.staff[1], 6102, "Lee")
    pat = await enrol(standin, home.manager, 6103, "Pat")
    robin_user = await enrol(standin, child_person_id, 6104, "Robin")

    # Two staff debriefs of one incident.
    await say(standin, sam, "/debrief")
    await walk(standin, sam, DEBRIEF)
    await tap(standin, sam, "summary|submit")
    await say(standin, lee, "/debrief")
    await walk(standin, lee, {**DEBRIEF, "duration": "6", "child_experience": "He hid his face"})
    await tap(standin, lee, "summary|submit")
    with session_scope() as s:
        incident = crud.incidents_for_export(s, setting_id=home.setting_id)[0]
        assert len(crud.debriefs_of(s, incident_id=incident.id or 0)) == 2
    incident_id = incident.id

    # Staff cannot open a review: a polite refusal, audited.
    calls = await say(standin, lee, "/review")
    assert texts(calls, lee.id) == ["Sorry, reviews are for managers. If something needs looking "
                                    "at, please talk to your manager."]

    # The manager's review: both debriefs side by side, then the questions, then sign-off.
    calls = await say(standin, pat, "/review")
    opening = texts(calls, pat.id)
    shown = "\n\n".join(opening)  # the opening may come as one message or several
    assert opening[0].startswith("📋 Review of the incident with Robin T on ")
    assert "Debriefs in: Sam, Lee" in shown
    assert "This is the first incident for Robin T in the last 28 days." in shown
    assert "How long\n• Sam: about 4 min\n• Lee: about 6 min" in shown
    assert current(pat)[0] == "spoken_with_staff"
    await walk(standin, pat, REVIEW)
    calls = await tap(standin, pat, "summary|submit")
    assert any(t.startswith("Signed off.") for t in texts(calls, pat.id))
    assert any(t.startswith("You have a new action from the review") for t in texts(calls, lee.id))
    calls = await say(standin, pat, f"/review {incident_id}")
    signed = texts(calls, pat.id)[0]
    assert "🔒 Signed review" in signed
    assert "• Add music to Robin's calming plan — Lee Test, by" in signed
    await tap(standin, pat, next(b for b in buttons_of(current_or_last(pat)) if b.startswith("rv:add:")))
    await say(standin, pat, "Lee's timing of 6 minutes is the right one")
    calls = await tap(standin, pat, "summary|submit")
    assert any(t.startswith("Added.") for t in texts(calls, pat.id))

    # The child's own view, with emoji buttons; "it hurt" alerts the key worker and manager.
    # The key worker says the child is calm: the child gets a gentle invitation on their phone.
    calls = await say(standin, sam, "/childview")
    calls = await tap(standin, sam, f"cva:invite:{incident_id}")
    assert any(t.startswith("Thank you. I've sent the child a gentle invitation")
               for t in texts(calls, sam.id))
    (invitation,) = texts(calls, robin_user.id)
    with session_scope() as s:
        told = s.get(Incident, incident_id)
        assert told is not None
        day = told.occurred_at.astimezone(ZoneInfo("Europe/London"))
    assert invitation.startswith(f"Hi. 💛 This is about what happened on {day:%A} {day.day} "
                                 f"{day:%B}. How was it for you?")  # the day, not "today"
    calls = await tap(standin, robin_user, f"cv:start:{incident_id}")
    assert any("You can stop at any time" in t for t in texts(calls, robin_user.id))
    for data in ("feel_now|v:sad", "before|v:too_loud", "before_words|c:skip", "calm|v:music"):
        await tap(standin, robin_user, data)
    calls = await tap(standin, robin_user, "hurt|v:yes")
    assert any("A grown-up will come" in t for t in texts(calls, robin_user.id))
    with session_scope() as s:
        raised = s.exec(select(FollowUp).where(FollowUp.kind == "safeguarding_alert",
                                               FollowUp.incident_id == incident_id)).all()
        assert {a.person_id for a in raised} == {home.manager, home.staff[0]}
        assert all(a.urgent for a in raised)
    for person in (pat, sam):  # delivered at once by the follow-ups' alarm clock
        (alert,) = await standin.await_for(
            lambda c, chat=person.id: c.method == "sendMessage" and c.params.get("chat_id") == chat
            and "Safeguarding alert" in str(c.params.get("text")), since=0)
        assert "Robin T" in alert.params["text"]
        assert "the child said something hurt" in alert.params["text"]
        assert "never lawful" not in alert.params["text"], "a child's words are not an accusation"
    await say(standin, robin_user, "my arm")
    await tap(standin, robin_user, "different|v:gentle")
    await tap(standin, robin_user, "talk|v:no")
    calls = await say(standin, robin_user, "stop")
    assert any(t.startswith("That is OK. We can stop now.") for t in texts(calls, robin_user.id))
    # A child reaches nothing else: not a review, not a debrief.
    calls = await say(standin, robin_user, "/review")
    assert texts(calls, robin_user.id) == ["Sorry, I can't open that. 💛 You can tell me how it "
                                           "was for you."]
    calls = await say(standin, robin_user, "/debrief")
    assert texts(calls, robin_user.id) == ["Send /tell to tell us how it was for you. 💛"]

    # A view recorded with the child by a member of staff.
    calls = await say(standin, lee, "/childview")
    await tap(standin, lee, f"cva:start:{incident_id}")
    await walk(standin, lee, ASSISTED)
    calls = await tap(standin, lee, "summary|submit")
    assert any(t.startswith("Saved. Thank you for making sure the child was heard.")
               for t in texts(calls, lee.id))

    # /pending shows Lee's review action.
    calls = await say(standin, lee, "/pending")
    assert "Action: Add music to Robin's calming plan" in texts(calls, lee.id)[0]

    # The export holds all of it, linked to the incident.
    with session_scope() as s:
        records = export_records(s, setting_id=home.setting_id, actor_id=home.manager)
        refusals = s.exec(select(AuditEvent).where(AuditEvent.action == "access_refused")).all()
    assert len(records) == 1
    record = records[0]
    assert record["id"] == incident_id
    assert [d["person"] for d in record["debriefs"]] == ["Sam Test", "Lee Test"]
    (review,) = record["reviews"]
    assert review["manager"] == "Pat Test"
    assert review["signed_at"] is not None
    assert review["answers"]["legal_necessary_why"]["value"] == "He was about to throw a chair at Kit"
    assert [(a["description"], a["owner"]) for a in review["actions"]] == [
        ("Add music to Robin's calming plan", "Lee Test"), ("Move call times earlier", "Pat Test")]
    assert review["addenda"][0]["text"] == "Lee's timing of 6 minutes is the right one"
    own, assisted = record["child_views"]
    assert (own["mode"], own["ended_early"], own["alerts"]) == ("self", True, ["something_hurt"])
    assert own["answers"]["hurt_where"]["value"] == "my arm"
    assert (assisted["mode"], assisted["recorded_by"]) == ("assisted", "Lee Test")
    assert assisted["answers"]["gathered_how"]["value"] == ["signs", "behaviour"]
    csv_text = to_csv(records)
    assert f"review:{review['id']},Pat Test,legal_necessary,answered,yes" in csv_text
    assert f"child_view:{own['id']},Robin T,hurt,answered,yes" in csv_text
    assert {r.detail["attempted"] for r in refusals} == {"open_review", "debrief_start"}
    assert {r.actor_id for r in refusals} == {home.staff[1], child_person_id}


def current_or_last(user: FakeUser) -> dict[str, Any]:
    """The newest bot message with any button."""
    return next(m for m in reversed(user.visible()) if buttons_of(m))
