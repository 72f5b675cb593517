"""Times and dates as staff write them: what is stored, and what is asked, against now in the setting.

Each row starts a real staff debrief on the engine at a given "now" (UTC) in Europe/London, answers
the day question (a button or typed words) and, if asked, the time question, and checks the stored
day, date and time, or the question asked back. Around midnight and both clock changes of 2026
(forward on Sunday 29 March at 01:00 GMT, back on Sunday 25 October at 02:00 BST).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dialogues import when
from dialogues.engine import Engine, Inbound, Outbound, State
from dialogues.flow import load_flow

LONDON = ZoneInfo("Europe/London")
# Wednesday 18 November 2026 (GMT): early morning, evening, and a minute either side of midnight.
EARLY = "2026-11-18T07:04:00+00:00"
EVENING = "2026-11-18T19:05:00+00:00"
LATE = "2026-11-18T23:59:00+00:00"
AFTER_MIDNIGHT = "2026-11-19T00:01:00+00:00"
# The clocks go forward at 01:00 GMT on Sunday 29 March 2026 and back at 02:00 BST on 25 October.
SPRING_MORNING = "2026-03-29T09:00:00+00:00"  # 10:00 BST
AUTUMN_MORNING = "2026-10-25T09:00:00+00:00"  # 09:00 GMT


@dataclass(frozen=True)
class Case:
    """One row: the clock, what the person does at the day question and then the time question."""

    now: str
    day: str
    time: str | None
    stored: tuple[str | None, str | None, str | None] | None  # day option, date, time
    asked: str | None = None  # a phrase of the reply, when something is asked back


def press_or_type(text: str) -> Inbound:
    return Inbound.pressed(f"incident_day|v:{text[2:]}") if text.startswith("v:") else Inbound.typed(text)


CASES = [
    # The day by button, the time typed in the ways people write it.
    Case(EVENING, "v:today", "22:40", None, "later than now"),
    Case(EVENING, "v:today", "about 5.40pm", ("today", None, "17:40")),
    Case(EVENING, "v:today", "17.40", ("today", None, "17:40")),
    Case(EVENING, "v:today", "1740", ("today", None, "17:40")),
    Case(EVENING, "v:today", "5:40 pm", ("today", None, "17:40")),
    Case(EVENING, "v:today", "half five", None, "05:30 in the morning or 17:30 in the evening"),
    Case(EVENING, "v:today", "half past five this evening", ("today", None, "17:30")),
    Case(EVENING, "v:today", "quarter past 3 this afternoon", ("today", None, "15:15")),
    Case(EVENING, "v:today", "twenty to seven tonight", ("today", None, "18:40")),
    Case(EVENING, "v:today", "just before 6pm", ("today", None, "17:55")),
    Case(EVENING, "v:today", "just after 4", None, "04:05 in the morning or 16:05 in the evening"),
    Case(EVENING, "v:today", "around 6ish", None, "06:00 in the morning or 18:00 in the evening"),
    Case(EVENING, "v:today", "noon", ("today", None, "12:00")),
    Case(EVENING, "v:today", "9", ("today", None, "09:00")),
    Case(EVENING, "v:today", "8am", ("today", None, "08:00")),
    Case(EVENING, "v:today", "ten forty this morning", ("today", None, "10:40")),
    Case(EVENING, "v:yesterday", "half ten", None, "10:30 in the morning or 22:30 in the evening"),
    Case(EVENING, "v:yesterday", "10.40pm", ("yesterday", None, "22:40")),
    Case(EVENING, "v:yesterday", "about 11 at night", ("yesterday", None, "23:00")),
    Case(EVENING, "v:today", "10:40 last night", ("yesterday", None, "22:40")),
    Case(EVENING, "v:two_days_ago", "14:05", ("two_days_ago", None, "14:05")),
    Case(EVENING, "v:today", "half past something", None, "time of day"),
    # The issue's own case: "today, 10.40pm" typed at 07:04 is not 15 hours in the future.
    Case(EARLY, "v:today", "10.40pm", None, "did you mean yesterday at 22:40"),
    Case(EARLY, "v:today", "about 10.40pm", None, "did you mean yesterday at 22:40"),
    Case(EARLY, "v:today", "half ten", None, "did you mean yesterday at 22:30"),
    Case(EARLY, "v:today", "just before 9", None, "did you mean yesterday at 20:55"),
    Case(EARLY, "v:today", "6.50", ("today", None, "06:50")),
    Case(EARLY, "v:today", "2am", ("today", None, "02:00")),
    # Day and time typed together at the day question: one answer instead of two.
    Case(EARLY, "last night about 10.40", None, ("yesterday", None, "22:40")),
    Case(EARLY, "10:40 last night", None, ("yesterday", None, "22:40")),
    Case(EARLY, "last night about 2", None, ("today", None, "02:00")),
    Case(EARLY, "yesterday 9pm", None, ("yesterday", None, "21:00")),
    Case(EARLY, "tonight about 11", None, None, "did you mean yesterday at 23:00"),
    Case(EVENING, "today about 4", None, None, "04:00 in the morning or 16:00 in the evening"),
    Case(EVENING, "monday night about 10", None, ("two_days_ago", None, "22:00")),
    Case(EVENING, "friday about 8pm", None, ("three_plus_days_ago", "2026-11-13", "20:00")),
    Case(EVENING, "tues", None, ("yesterday", None, None)),
    Case(EVENING, "the day before yesterday", None, ("two_days_ago", None, None)),
    Case(EVENING, "yesterday", None, ("yesterday", None, None)),
    Case(EVENING, "3 days ago", None, ("three_plus_days_ago", "2026-11-15", None)),
    Case(EVENING, "28/11", None, ("three_plus_days_ago", "2025-11-28", None)),
    Case(EVENING, "12 november at 14:00", None, ("three_plus_days_ago", "2026-11-12", "14:00")),
    Case(EVENING, "next friday", None, None, "still to come"),
    Case(EVENING, "3 or more days ago", None, ("three_plus_days_ago", None, None)),
    Case(EVENING, "2", None, ("yesterday", None, None)),
    Case(EVENING, "last week", None, ("three_plus_days_ago", None, None)),
    Case(EVENING, "Yestreday", None, ("yesterday", None, None)),
    # Around midnight.
    Case(LATE, "v:today", "quarter to midnight", ("today", None, "23:45")),
    Case(LATE, "v:today", "23:58", ("today", None, "23:58")),
    Case(LATE, "v:today", "midnight", ("today", None, "00:00")),
    Case(AFTER_MIDNIGHT, "v:today", "23:50", None, "did you mean yesterday at 23:50"),
    Case(AFTER_MIDNIGHT, "v:yesterday", "quarter to midnight", ("yesterday", None, "23:45")),
    Case(AFTER_MIDNIGHT, "tonight about 11", None, None, "did you mean yesterday at 23:00"),
    Case(AFTER_MIDNIGHT, "midnight last night", None, ("today", None, "00:00")),
    # The clocks going forward: 01:30 did not happen on 29 March 2026.
    Case(SPRING_MORNING, "v:today", "01:30", None, "clocks went forward"),
    Case(SPRING_MORNING, "v:today", "00:45", ("today", None, "00:45")),
    Case(SPRING_MORNING, "v:today", "02:30", ("today", None, "02:30")),
    Case(SPRING_MORNING, "v:today", "9.55", ("today", None, "09:55")),
    Case(SPRING_MORNING, "v:today", "10.20", None, "did you mean yesterday at 22:20"),
    # The clocks going back: 01:30 happened twice on 25 October 2026.
    Case(AUTUMN_MORNING, "v:today", "01:30", ("today", None, "01:30"), "happened twice"),
    Case(AUTUMN_MORNING, "v:today", "8.55", ("today", None, "08:55")),
    Case(AUTUMN_MORNING, "v:today", "9.30", None, "did you mean yesterday at 21:30"),
    Case(AUTUMN_MORNING, "last night about 11", None, ("yesterday", None, "23:00")),
]

CONTEXT: dict[str, Any] = {
    "new_incident": True, "setting_kind": "children_home", "timezone": "Europe/London",
    "options": {"children": [{"value": "44", "label": "Jay O'Brien (demo)"}],
                "staff": [{"value": "none", "label": "Just me"}]},
}


def at_day_question(engine: Engine, now: str) -> State:
    state, _ = engine.start({**CONTEXT, "now": now})
    state, _ = engine.handle(state, Inbound.pressed("wellbeing|v:ok"))
    state, _ = engine.handle(state, Inbound.pressed("child|v:44"))
    assert state.current == "incident_day"
    return state


def stored(state: State) -> tuple[Any, Any, Any]:
    return (state.value("incident_day"), state.value("incident_date"), state.value("incident_time"))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.now[5:16]} {c.day} {c.time}" for c in CASES])
def test_times_and_dates_as_people_write_them(case: Case) -> None:
    engine = Engine(load_flow("staff_debrief"))
    state = at_day_question(engine, case.now)
    state, messages = engine.handle(state, press_or_type(case.day))
    if case.time is not None:
        assert state.current == "incident_time", [m.text for m in messages]
        state, messages = engine.handle(state, Inbound.typed(case.time))
    said = " ".join(m.text for m in messages)
    if case.asked is not None:
        assert case.asked in said, said
    if case.stored is None:
        assert state.current in ("incident_day", "incident_time"), "asked again, nothing guessed"
        assert state.value("incident_time") is None
    else:
        assert stored(state) == case.stored, said
        if case.stored[0] == "three_plus_days_ago" and case.stored[1] is None:
            assert state.current == "incident_date", "the real date is asked"
        elif case.stored[2] is None:
            assert state.current == "incident_time"
        else:
            assert state.current == "describe"


def test_there_are_at_least_forty_phrases() -> None:
    assert len(CASES) >= 40


def offered(messages: list[Outbound]) -> list[str]:
    return [b.payload for m in messages for row in m.buttons for b in row if "@" in b.payload]


def test_a_time_later_than_now_is_offered_as_yesterday_and_stored_when_tapped() -> None:
    engine = Engine(load_flow("staff_debrief"))
    state = at_day_question(engine, EARLY)
    state, _ = engine.handle(state, Inbound.pressed("incident_day|v:today"))
    state, messages = engine.handle(state, Inbound.typed("today, 10.40pm"))
    assert state.value("incident_time") is None, "never stored 15 hours in the future"
    assert offered(messages) == ["incident_time|v:2026-11-17@22:40"]
    state, messages = engine.handle(state, Inbound.pressed("incident_time|v:2026-11-17@22:40"))
    assert stored(state) == ("yesterday", None, "22:40")
    assert "Noted: yesterday at 22:40." in [m.text for m in messages]


def test_yes_accepts_the_offer_and_no_asks_again() -> None:
    engine = Engine(load_flow("staff_debrief"))
    state = at_day_question(engine, EARLY)
    state, _ = engine.handle(state, Inbound.pressed("incident_day|v:today"))
    state, _ = engine.handle(state, Inbound.typed("half ten"))
    state, messages = engine.handle(state, Inbound.typed("no"))
    assert "type it again" in messages[0].text
    assert state.value("incident_time") is None
    assert state.current == "incident_time"
    state, _ = engine.handle(state, Inbound.typed("half ten"))
    state, _ = engine.handle(state, Inbound.typed("yeah"))
    assert stored(state) == ("yesterday", None, "22:30")


def test_morning_or_evening_is_asked_and_the_tap_is_stored() -> None:
    engine = Engine(load_flow("staff_debrief"))
    state = at_day_question(engine, EVENING)
    state, _ = engine.handle(state, Inbound.pressed("incident_day|v:yesterday"))
    state, messages = engine.handle(state, Inbound.typed("just before 9"))
    assert offered(messages) == ["incident_time|v:2026-11-17@08:55",
                                 "incident_time|v:2026-11-17@20:55"]
    state, _ = engine.handle(state, Inbound.pressed("incident_time|v:2026-11-17@20:55"))
    assert stored(state) == ("yesterday", None, "20:55")


def test_more_than_two_days_ago_asks_the_date_and_a_late_record_gets_a_kind_note() -> None:
    engine = Engine(load_flow("staff_debrief"))
    state = at_day_question(engine, EVENING)
    state, messages = engine.handle(state, Inbound.pressed("incident_day|v:three_plus_days_ago"))
    assert state.current == "incident_date"
    state, messages = engine.handle(state, Inbound.typed("soon"))
    assert "Please give the date" in messages[0].text
    state, messages = engine.handle(state, Inbound.typed("last friday"))
    assert state.current == "incident_time"
    state, messages = engine.handle(state, Inbound.typed("about 4pm"))
    assert stored(state) == ("three_plus_days_ago", "2026-11-13", "16:00")
    said = " ".join(m.text for m in messages)
    assert "more than 24 hours" in said
    assert "regulation 35" in said


def test_a_record_within_a_day_gets_no_late_note() -> None:
    engine = Engine(load_flow("staff_debrief"))
    state = at_day_question(engine, EARLY)
    state, messages = engine.handle(state, Inbound.typed("last night about 10.40"))
    assert "24 hours" not in " ".join(m.text for m in messages)
    state = at_day_question(engine, EVENING)
    state, messages = engine.handle(state, Inbound.typed("yesterday 6pm"))
    assert "more than 24 hours" in " ".join(m.text for m in messages)


def test_the_stored_answers_make_one_timestamp_across_the_clock_change() -> None:
    spring = datetime.fromisoformat(SPRING_MORNING)
    moment = when.incident_moment(day_option="today", date_iso=None, clock="00:45",
                                  now=spring, zone=LONDON)
    assert moment.astimezone(UTC) == datetime(2026, 3, 29, 0, 45, tzinfo=UTC)
    moment = when.incident_moment(day_option="today", date_iso=None, clock="02:30",
                                  now=spring, zone=LONDON)
    assert moment.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    autumn = datetime.fromisoformat(AUTUMN_MORNING)
    moment = when.incident_moment(day_option="yesterday", date_iso=None, clock="23:00",
                                  now=autumn, zone=LONDON)
    assert moment.astimezone(UTC) == datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    moment = when.incident_moment(day_option="three_plus_days_ago", date_iso="2026-10-20",
                                  clock="09:15", now=autumn, zone=LONDON)
    assert moment.astimezone(UTC) == datetime(2026, 10, 20, 8, 15, tzinfo=UTC)


def test_changing_the_day_never_leaves_the_time_in_the_future() -> None:
    engine = Engine(load_flow("staff_debrief"))
    state = at_day_question(engine, EARLY)
    state, _ = engine.handle(state, Inbound.typed("last night about 10.40"))
    assert stored(state) == ("yesterday", None, "22:40")
    state, _ = engine.handle(state, Inbound.pressed("describe|c:back"))
    state, _ = engine.handle(state, Inbound.pressed("incident_time|c:back"))
    assert state.current == "incident_day"
    state, messages = engine.handle(state, Inbound.pressed("incident_day|v:today"))
    assert "later than now" in messages[0].text
    assert stored(state) == ("today", None, None)
    assert state.current == "incident_time"
