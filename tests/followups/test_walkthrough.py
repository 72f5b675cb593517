"""A whole incident walked through every deadline with a controllable clock, through the real
python-telegram-bot HTTP stack to the Bot API stand-in, on SQLite and PostgreSQL.

Each test moves the clock in steps, lets the scheduler look (`tick`), and records which nudge each
chat received at which (test) time: reminders at the right times, held in quiet hours, escalated
when overdue, cancelled when done, and neither moved nor repeated by a daylight-saving change.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from followup_helpers import (
    MANAGER_1,
    MANAGER_2,
    STAFF_1,
    STAFF_2,
    FakeClock,
    House,
    followup_id_of,
    kind_of,
    sends,
    utc,
)
from sqlmodel import select
from support.botapi_standin import BotApiStandIn

from bot.followups import planner
from bot.followups.scheduler import FollowUpScheduler
from storage import crud
from storage import followups as store
from storage.db import get_engine, session_scope
from storage.models import FollowUp, Incident


def report_incident(house: House, *, t0: datetime, now: datetime, flags: list[str] | None = None,
                    reporter: int = 0, others: list[int] | None = None) -> int:
    """Staff member `reporter` submits the first debrief (which reports the incident) at `now`."""
    with session_scope() as session:
        incident = crud.create_incident(
            session, setting_id=house.setting_id, child_id=house.child_id, occurred_at=t0,
            reported_by_id=house.staff[reporter],
            staff_ids=others if others is not None else [house.staff[1 - reporter]])
        debrief = crud.save_debrief(session, incident=incident, person_id=house.staff[reporter],
                                    flow_id="staff_debrief", answers=[], flags=flags or [])
        planner.after_submit(session, incident=incident, person_id=house.staff[reporter],
                             debrief_id=debrief.id, now=now)
        assert incident.id is not None
        return incident.id


def submit_debrief(house: House, *, incident_id: int, person: int, now: datetime) -> None:
    with session_scope() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        debrief = crud.save_debrief(session, incident=incident, person_id=house.staff[person],
                                    flow_id="staff_debrief", answers=[], flags=[])
        planner.after_submit(session, incident=incident, person_id=house.staff[person],
                             debrief_id=debrief.id, now=now)


async def walk(scheduler: FollowUpScheduler, clock: FakeClock, api: BotApiStandIn, *,
               until: datetime, step: timedelta,
               events: dict[datetime, object] | None = None) -> list[tuple[datetime, int, str]]:
    """Move the clock to `until` in steps; at each, run due events then tick. Returns what was
    sent: (test time, chat id, follow-up kind or 'digest')."""
    seen: list[tuple[datetime, int, str]] = []
    engine = get_engine()
    while clock.now <= until:
        for at, action in sorted((events or {}).items()):
            if at == clock.now:
                action()  # type: ignore[operator]
        mark = api.mark()
        await scheduler.tick()
        for call in sends(api, mark):
            followup_id = followup_id_of(call)
            kind = kind_of(engine, followup_id) if followup_id else (
                "digest" if "Weekly summary" in call.params["text"] else "?")
            seen.append((clock.now, int(call.params["chat_id"]), kind))
        clock.now += step
    return seen


async def test_an_incident_through_every_deadline_across_the_spring_clock_change(
    house: House, standin: BotApiStandIn, make_scheduler: object
) -> None:
    # Friday 27 March 2026, 14:00 GMT; the clocks go forward on Sunday 29 March at 01:00 GMT.
    t0 = utc(2026, 3, 27, 14, 0)
    clock = FakeClock(t0 + timedelta(hours=1))
    scheduler = make_scheduler(clock)  # type: ignore[operator]
    incident_id = report_incident(house, t0=t0, now=clock.now)
    events = {
        # The second member of staff debriefs on Sunday morning: their reminders stop.
        utc(2026, 3, 29, 10, 0): lambda: submit_debrief(house, incident_id=incident_id, person=1,
                                                        now=utc(2026, 3, 29, 10, 0)),
        # Monday: someone confirms they spoke with the child; Tuesday: the review is signed.
        utc(2026, 3, 30, 12, 0): lambda: _in_session(planner.child_spoken_to,
                                                     incident_id=incident_id, source="assisted_view",
                                                     actor_id=house.staff[1],
                                                     now=utc(2026, 3, 30, 12)),
        utc(2026, 3, 31, 9, 0): lambda: _in_session(planner.complete_review, incident_id=incident_id,
                                                    now=utc(2026, 3, 31, 9)),
    }
    seen = await walk(scheduler, clock, standin, until=t0 + timedelta(days=7, hours=1),
                      step=timedelta(minutes=30), events=events)

    assert seen == [
        (utc(2026, 3, 27, 15, 0), MANAGER_1, "review_nudge"),  # at once on the first debrief
        (utc(2026, 3, 27, 18, 0), STAFF_2, "debrief_reminder"),  # T0+4h
        # T0+12h is 02:00 GMT, in quiet hours: held to 07:00.
        (utc(2026, 3, 28, 7, 0), STAFF_2, "debrief_reminder"),
        # T0+24h: the record is overdue (manager told); the key worker is asked for the child's view.
        (utc(2026, 3, 28, 14, 0), MANAGER_1, "debrief_overdue"),
        (utc(2026, 3, 28, 14, 0), STAFF_2, "childview_prompt"),
        # T0+36h is 03:00 BST on the night the clocks change: held to 07:00 BST (06:00 UTC), once.
        (utc(2026, 3, 29, 6, 0), MANAGER_1, "review_reminder"),
        # T0+48h: not signed, so it escalates to the second manager (15:00 BST = 48 h elapsed).
        (utc(2026, 3, 29, 14, 0), MANAGER_2, "review_escalation"),
        # Monday 09:00 BST (08:00 UTC): the weekly digest to each manager.
        (utc(2026, 3, 30, 8, 0), MANAGER_1, "digest"),
        (utc(2026, 3, 30, 8, 0), MANAGER_2, "digest"),
        # The child was spoken to on Monday: no 4-day reminder, no 5-day escalation.
        # T0+7d: the reflection to both members of staff.
        (utc(2026, 4, 3, 14, 0), STAFF_1, "reflection"),
        (utc(2026, 4, 3, 14, 0), STAFF_2, "reflection"),
    ]
    with session_scope() as session:
        rows = list(session.exec(select(FollowUp).where(FollowUp.incident_id == incident_id)))
        states = {(r.kind, r.state) for r in rows}
    assert ("childview_reminder", "cancelled") in states
    assert ("childview_escalation", "cancelled") in states
    # Exactly once: every row was sent at most once, and the stand-in saw no repeats.
    ids = [followup_id_of(c) for c in sends(standin) if followup_id_of(c)]
    assert len(ids) == len(set(ids))


def _in_session(function: object, **kwargs: object) -> None:
    with session_scope() as session:
        function(session, **kwargs)  # type: ignore[operator]


async def test_autumn_clock_change_neither_moves_nor_repeats_a_nudge(
    house: House, standin: BotApiStandIn, make_scheduler: object
) -> None:
    # Saturday 24 October 2026, 20:00 BST (19:00 UTC); at 02:00 BST on Sunday the clocks go back
    # to 01:00 GMT, so the local hour 01:00-02:00 happens twice.
    t0 = utc(2026, 10, 24, 19, 0)
    clock = FakeClock(t0 + timedelta(minutes=30))
    scheduler = make_scheduler(clock)  # type: ignore[operator]
    report_incident(house, t0=t0, now=clock.now)
    seen = await walk(scheduler, clock, standin, until=t0 + timedelta(hours=25),
                      step=timedelta(minutes=10))
    staff_2 = [(at, kind) for at, chat, kind in seen if chat == STAFF_2]
    # T0+4h falls in quiet hours and would be held to 07:00 GMT, which is exactly T0+12h: one
    # reminder, at 07:00, not two; nothing during the repeated hour.
    # At T0+24h: 24 hours elapsed (19:00 GMT, though the wall clock said 20:00 at T0).
    assert staff_2 == [(utc(2026, 10, 25, 7, 0), "debrief_reminder"),
                       (utc(2026, 10, 25, 19, 0), "childview_prompt")]
    overdue = [at for at, chat, kind in seen if kind == "debrief_overdue"]
    assert overdue == [utc(2026, 10, 25, 19, 0)]
    assert [c for c in seen if c[2] == "review_nudge"] == [(t0 + timedelta(minutes=30), MANAGER_1,
                                                             "review_nudge")]


async def test_safeguarding_alert_goes_at_once_at_night_and_routine_nudges_wait(
    house: House, standin: BotApiStandIn, make_scheduler: object
) -> None:
    # 22:30 BST on a summer night (21:30 UTC); reported at 23:00 BST.
    t0 = utc(2026, 7, 14, 21, 30)
    clock = FakeClock(utc(2026, 7, 14, 22, 0))
    scheduler = make_scheduler(clock)  # type: ignore[operator]
    report_incident(house, t0=t0, now=clock.now, flags=["pain_inflicted"], others=[])
    seen = await walk(scheduler, clock, standin, until=utc(2026, 7, 15, 7, 0),
                      step=timedelta(minutes=15))
    alerts = [(at, chat) for at, chat, kind in seen if kind == "safeguarding_alert"]
    assert sorted(alerts) == [(utc(2026, 7, 14, 22, 0), MANAGER_1),
                              (utc(2026, 7, 14, 22, 0), MANAGER_2)]
    alert_text = [c for c in sends(standin) if "Safeguarding alert" in c.params["text"]]
    assert "force that caused pain" in alert_text[0].params["text"]
    assert "Force that hurts or punishes is never lawful." in alert_text[0].params["text"]
    # The review nudge waits for the end of quiet hours: 07:00 BST = 06:00 UTC.
    assert [(at, chat) for at, chat, kind in seen if kind == "review_nudge"] == [
        (utc(2026, 7, 15, 6, 0), MANAGER_1)]


async def test_nudges_due_while_the_bot_was_down_come_once_at_the_end_of_quiet_hours(
    house: House, standin: BotApiStandIn, make_scheduler: object
) -> None:
    t0 = utc(2026, 3, 27, 14, 0)
    report_incident(house, t0=t0, now=t0 + timedelta(hours=1))
    # The bot was down from 15:00 until 03:00 (quiet hours); both reminders fell due meanwhile.
    clock = FakeClock(utc(2026, 3, 28, 3, 0))
    scheduler = make_scheduler(clock)  # type: ignore[operator]
    seen = await walk(scheduler, clock, standin, until=utc(2026, 3, 28, 8, 0),
                      step=timedelta(minutes=30))
    assert [(at, chat, kind) for at, chat, kind in seen if chat == STAFF_2] == [
        (utc(2026, 3, 28, 7, 0), STAFF_2, "debrief_reminder")]  # one, not a burst
    with session_scope() as session:
        states = sorted(r.state for r in store.open_followups(session, kinds=["debrief_reminder"]))
        superseded = session.exec(select(FollowUp).where(FollowUp.state == store.SUPERSEDED)).all()
    assert states == ["sent"]
    assert len(superseded) == 1
    # The review nudge, due at 15:00 the day before, was also held to 07:00 and sent once.
    assert [(at, kind) for at, chat, kind in seen if chat == MANAGER_1] == [
        (utc(2026, 3, 28, 7, 0), "review_nudge")]
