"""The pure schedule: quiet hours, daylight saving, the digest time, chains and per-setting policy."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.followups.schedule import Kind, Policy, PolicyError, chain, parse_duration


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


LONDON = Policy()


@pytest.mark.parametrize(("at", "held"), [
    (utc(2026, 1, 12, 20, 59), utc(2026, 1, 12, 20, 59)),  # before quiet hours: at once
    (utc(2026, 1, 12, 21, 0), utc(2026, 1, 13, 7, 0)),  # 21:00 GMT: to 07:00 next day
    (utc(2026, 1, 13, 3, 0), utc(2026, 1, 13, 7, 0)),  # after midnight: to 07:00 that day
    (utc(2026, 1, 13, 7, 0), utc(2026, 1, 13, 7, 0)),  # 07:00 is no longer quiet
    (utc(2026, 7, 13, 20, 30), utc(2026, 7, 14, 6, 0)),  # 21:30 BST: to 07:00 BST = 06:00 UTC
    # The night the clocks go forward (29 March 2026): 23:00 GMT held to 07:00 BST (06:00 UTC).
    (utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 6, 0)),
    # The night the clocks go back (25 October 2026): 00:30 BST held to 07:00 GMT (07:00 UTC).
    (utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 7, 0)),
    # During the repeated hour (01:30 GMT, second time round): still 07:00 GMT.
    (utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 7, 0)),
])
def test_quiet_hours_hold_routine_nudges_to_the_end_of_quiet_hours(at: datetime, held: datetime) -> None:
    assert LONDON.hold(at) == held


def test_urgent_alerts_are_never_held() -> None:
    assert LONDON.hold(utc(2026, 1, 13, 3, 0), urgent=True) == utc(2026, 1, 13, 3, 0)


def test_offsets_are_elapsed_time_across_a_clock_change() -> None:
    t0 = utc(2026, 3, 28, 14, 0)  # Saturday 14:00 GMT; the next day is 23 hours long locally
    assert LONDON.due_times(Kind.debrief_overdue, t0=t0) == [t0 + timedelta(hours=24)]
    assert LONDON.deadline("review", t0=t0) == utc(2026, 3, 30, 14, 0)


def test_weekly_digest_is_monday_nine_local_whatever_the_season() -> None:
    assert LONDON.next_digest(after=utc(2026, 3, 25, 12, 0)) == utc(2026, 3, 30, 8, 0)  # BST
    assert LONDON.next_digest(after=utc(2026, 3, 18, 12, 0)) == utc(2026, 3, 23, 9, 0)  # GMT
    assert LONDON.next_digest(after=utc(2026, 3, 23, 9, 0)) == utc(2026, 3, 30, 8, 0)
    assert LONDON.next_digest(after=utc(2026, 3, 23, 8, 59)) == utc(2026, 3, 23, 9, 0)


def test_a_late_report_gets_one_reminder_now_not_a_burst() -> None:
    t0 = utc(2026, 1, 12, 2, 0)  # reported at 15:00, after both reminder times
    planned = chain(LONDON, kind=Kind.debrief_reminder, t0=t0, now=t0 + timedelta(hours=13),
                    person_id=7, key_prefix="inc:1")
    assert [p.due_at for p in planned] == [t0 + timedelta(hours=13)]


def test_a_reminder_held_onto_the_next_one_is_dropped() -> None:
    t0 = utc(2026, 1, 12, 19, 0)  # +4h = 23:00 (held to 07:00), +12h = 07:00
    planned = chain(LONDON, kind=Kind.debrief_reminder, t0=t0, now=t0, person_id=7,
                    key_prefix="inc:1")
    assert [p.due_at for p in planned] == [utc(2026, 1, 13, 7, 0)]
    assert len({p.key for p in planned}) == 1


def test_policy_overrides_per_setting_and_clear_errors() -> None:
    policy = Policy.build(timezone="Europe/London", quiet_start="22:00", quiet_end="06:30",
                          overrides={"review_reminder": "30h", "debrief_reminder": ["2h", "8h"],
                                     "digest_day": "friday", "digest_time": "16:00",
                                     "snooze": "90m"})
    assert policy.offsets[Kind.review_reminder] == (timedelta(hours=30),)
    assert policy.offsets[Kind.debrief_reminder] == (timedelta(hours=2), timedelta(hours=8))
    assert policy.quiet_end == time(6, 30)
    assert policy.snooze == parse_duration("1.5h")
    assert policy.next_digest(after=utc(2026, 1, 12, 0, 0)) == utc(2026, 1, 16, 16, 0)
    with pytest.raises(PolicyError, match="not a duration"):
        Policy.build(overrides={"review_reminder": "soon"})
    with pytest.raises(PolicyError, match="Unknown follow-up setting 'review_remider'"):
        Policy.build(overrides={"review_remider": "30h"})
    with pytest.raises(PolicyError, match="time zone"):
        Policy.build(timezone="Europe/Londres")
    with pytest.raises(PolicyError, match="time of day"):
        Policy.build(quiet_start="9pm")
