"""When an incident happened, read from the way tired staff write it, relative to now in the setting.

Clock phrases ("half ten", "quarter to midnight", "just before 9", "about 10.40pm", "22.40") are read
by the small rules here, because dateparser reads them wrongly or not at all ("10:40 last night" comes
back as 10:40 in the morning). Day words and dates ("friday", "28/11", "12 november", "3 days ago")
go to dateparser, which knows the calendar. Nothing here guesses silently: a time that could be
morning or evening comes back as both, and the engine asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dialogues.values import normalise

DAY_OFFSETS = {"today": 0, "yesterday": 1, "two_days_ago": 2}
EARLIER = "three_plus_days_ago"
DEFAULT_ZONE = "Europe/London"
FUTURE_GRACE = timedelta(minutes=10)
LATE_RECORD = timedelta(hours=24)

_HOUR_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
               "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_MINUTE_WORDS = {"five": 5, "ten": 10, "fifteen": 15, "twenty": 20, "twenty five": 25,
                 "thirty": 30, "forty": 40, "forty five": 45, "fifty": 50, "fifty five": 55}
_NUMBER = r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_TARGET = rf"({_NUMBER}|midnight|noon|midday)"
_FILLERS = re.compile(
    r"\b(about|around|approx\.?|approximately|roughly|at|it was|maybe|sometime|some time|"
    r"started|start|o'?clock|ish|on|the|in|of|it|was|i think|think|erm|um)\b|-ish|~")
_MORNING = re.compile(r"\b(morning|breakfast|am|a\.m\.?)\b")
_LATER = re.compile(r"\b(afternoon|evening|tonight|teatime|tea time|dinner|supper|bedtime|pm|"
                    r"p\.m\.?|lunch|lunchtime)\b")
_NIGHT = re.compile(r"\b(night|overnight)\b")


@dataclass(frozen=True)
class Reading:
    """What a message says about when: the day it names, and the clock times it could mean."""

    day: date | None
    times: tuple[time, ...]
    leftover: str


def zone_of(context: dict[str, object]) -> ZoneInfo:
    """The setting's time zone from a conversation's context."""
    return ZoneInfo(str(context.get("timezone") or DEFAULT_ZONE))


def now_of(context: dict[str, object]) -> datetime:
    """"Now" from a conversation's context (the services fill it), in the setting's time zone."""
    given = context.get("now")
    now = datetime.fromisoformat(str(given)) if given else datetime.now(UTC)
    return now.astimezone(zone_of(context))


def read(text: str, *, now: datetime) -> Reading:
    """The day and clock times a message names, relative to `now` (aware, in the setting's zone)."""
    low = normalise(text).replace("’", "'")
    low = re.sub(r"(\d)\s*(am|pm|a\.m\.|p\.m\.)", r"\1\2", low)
    low = re.sub(r"(\d)-?ish\b", r"\1 ish", low)
    written_date, low = _date_words(low)
    times, rest, modifier = _clock(low)
    if times and not re.search(r"\d(am|pm|a\.m\.|p\.m\.)", low):
        times = _narrow(times, low)
    day, rest = _day(f"{written_date} {rest}", now=now, times=times)
    if modifier:
        times = tuple(_shift(t, modifier) for t in times)
    leftover = re.sub(r"\s+", " ", _FILLERS.sub(" ", rest)).strip(" ,.-")
    return Reading(day=day, times=times, leftover=leftover)


_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_DATE_WORDS = re.compile(
    rf"\b\d{{1,2}}\s*/\s*\d{{1,2}}(\s*/\s*\d{{2,4}})?\b"
    rf"|\b\d{{1,2}}(st|nd|rd|th)?( of)? {_MONTH}( \d{{4}})?\b"
    rf"|\b{_MONTH} \d{{1,2}}(st|nd|rd|th)?\b"
    rf"|\b\d{{1,2}}(st|nd|rd|th)\b"
    rf"|\b(\d+|one|two|three|four|five|six|seven) days? ago\b")


def _date_words(low: str) -> tuple[str, str]:
    """A written date ("28/11", "12 november", "the 14th", "3 days ago") and the text without it."""
    m = _DATE_WORDS.search(low)
    if m is None:
        return "", low
    return m.group(0), low[:m.start()] + " " + low[m.end():]


def _clock(low: str) -> tuple[tuple[time, ...], str, int]:
    """Candidate times from a clock phrase, the text without it, and a shift in minutes."""
    modifier = 0
    if m := re.search(r"\bjust (before|after|gone|past)\b", low):
        modifier = -5 if m.group(1) == "before" else 5
        low = low[:m.start()] + " " + low[m.end():]
    patterns: list[tuple[str, str]] = [
        (rf"\bquarter to {_TARGET}\b", "to15"),
        (rf"\bquarter past {_TARGET}\b", "past15"),
        (rf"\bhalf past {_TARGET}\b", "past30"),
        (rf"\bhalf {_TARGET}\b", "past30"),
        (rf"\b(\d{{1,2}}|{'|'.join(_MINUTE_WORDS)})( minutes?| mins?)? to {_TARGET}\b", "to"),
        (rf"\b(\d{{1,2}}|{'|'.join(_MINUTE_WORDS)})( minutes?| mins?)? past {_TARGET}\b", "past"),
        (r"\b(midnight|noon|midday)\b", "named"),
        (r"\b(\d{1,2})[:.h](\d{2})\s*(am|pm|a\.m\.|p\.m\.)?(?!\d)", "hm"),
        (r"\b(\d{3,4})\s*(am|pm)?\b", "compact"),
        (r"\b(\d{1,2})\s*(am|pm|a\.m\.|p\.m\.)", "h_meridiem"),
        (rf"\b({'|'.join(_HOUR_WORDS)}) ({'|'.join(sorted(_MINUTE_WORDS, key=len, reverse=True))})\b",
         "words"),
        (rf"\b{_NUMBER}\b", "hour"),
    ]
    for pattern, kind in patterns:
        m = re.search(pattern, low)
        if m is None:
            continue
        found = _times(kind, m.groups())
        if found:
            return found, low[:m.start()] + " " + low[m.end():], modifier
    return (), low, 0


def _hour(word: str) -> int | None:
    if word in ("midnight",):
        return 0
    if word in ("noon", "midday"):
        return 12
    value = int(word) if word.isdigit() else _HOUR_WORDS.get(word)
    return value if value is not None and value <= 24 else None


def _pair(hour: int, minute: int, *, named: bool = False) -> tuple[time, ...]:
    """One time for 0, 13-23 and named hours; morning and evening for 1-12."""
    if hour == 24:
        hour = 0
    if named or hour == 0 or hour > 12:
        return (time(hour % 24, minute),)
    return (time(hour % 12, minute), time(hour % 12 + 12, minute))


def _times(kind: str, groups: tuple[str | None, ...]) -> tuple[time, ...]:
    g = [x or "" for x in groups]
    if kind in ("to15", "past15", "past30"):
        hour = _hour(g[0])
        if hour is None:
            return ()
        named = g[0] in ("midnight", "noon", "midday")
        if kind == "to15":
            return tuple(_shift(t, -15) for t in _pair(hour, 0, named=named))
        return _pair(hour, 15 if kind == "past15" else 30, named=named)
    if kind in ("to", "past"):
        minutes = int(g[0]) if g[0].isdigit() else _MINUTE_WORDS.get(g[0], 0)
        hour = _hour(g[2])
        if hour is None or not 0 < minutes < 60:
            return ()
        named = g[2] in ("midnight", "noon", "midday")
        base = _pair(hour, 0, named=named)
        return tuple(_shift(t, -minutes if kind == "to" else minutes) for t in base)
    if kind == "named":
        return (time(0, 0),) if g[0] == "midnight" else (time(12, 0),)
    if kind in ("hm", "compact", "h_meridiem", "words"):
        if kind == "hm":
            hour_text, minute_text, half = g[0], g[1], g[2]
        elif kind == "compact":
            hour_text, minute_text, half = g[0][:-2], g[0][-2:], g[1]
        elif kind == "h_meridiem":
            hour_text, minute_text, half = g[0], "0", g[1]
        else:
            hour_text, minute_text, half = str(_HOUR_WORDS[g[0]]), str(_MINUTE_WORDS[g[1]]), ""
        hour, minute = int(hour_text), int(minute_text)
        if minute > 59 or hour > 24:
            return ()
        if half:
            if not 1 <= hour <= 12:
                return ()
            return (time(hour % 12 + (12 if half.startswith("p") else 0), minute),)
        if hour_text.startswith("0") and len(hour_text) == 2:
            return (time(hour, minute),)
        return _pair(hour, minute)
    hour = _hour(g[0])
    return () if hour is None else _pair(hour, 0)


def _shift(moment: time, minutes: int) -> time:
    shifted = datetime.combine(date(2000, 1, 2), moment) + timedelta(minutes=minutes)
    return shifted.time()


def _narrow(times: tuple[time, ...], low: str) -> tuple[time, ...]:
    """Keep the morning or the evening reading when the words say which."""
    if len(times) < 2:
        return times
    morning, evening = times
    if _MORNING.search(low):
        return (morning,)
    if _NIGHT.search(low):
        return (morning,) if morning.hour < 6 or evening.hour == 12 else (evening,)
    if _LATER.search(low):
        return (evening,)
    return times


def _day(rest: str, *, now: datetime, times: tuple[time, ...]) -> tuple[date | None, str]:
    """The day the words name (and the text without them)."""
    today = now.date()
    small_hours = bool(times) and all(t.hour < 6 for t in times)
    words: list[tuple[str, date]] = [
        (r"\bthe day before yesterday\b", today - timedelta(days=2)),
        (r"\blast night\b", today if small_hours else today - timedelta(days=1)),
        (r"\b(yesterday|yday|yest)( morning| afternoon| evening)?\b", today - timedelta(days=1)),
        (r"\b(today|tonight|this (morning|afternoon|evening))\b", today),
    ]
    for pattern, day in words:
        if m := re.search(pattern, rest):
            return day, rest[:m.start()] + " " + rest[m.end():]
    if m := re.search(r"\b(\d+|one|two|three|four|five|six|seven) days? ago\b", rest):
        count = int(m.group(1)) if m.group(1).isdigit() else _HOUR_WORDS[m.group(1)]
        return today - timedelta(days=count), rest[:m.start()] + " " + rest[m.end():]
    candidate = re.sub(r"\b(last|on|the|night|morning|afternoon|evening)\b", " ",
                       _FILLERS.sub(" ", rest)).strip(" ,.")
    if re.search(r"[a-z]{3}|\d+\s*[/-]\s*\d+|\d+(st|nd|rd|th)\b", candidate):
        return _calendar(candidate, now=now), ""
    return None, rest


def _calendar(text: str, *, now: datetime) -> date | None:
    """A calendar date from words dateparser knows ("friday", "28/11", "12 november")."""
    import dateparser  # type: ignore[import-untyped]  # slow to import; only for written dates

    settings = {"PREFER_DATES_FROM": "past", "DATE_ORDER": "DMY",
                "RELATIVE_BASE": now.replace(tzinfo=None), "RETURN_AS_TIMEZONE_AWARE": False,
                "PREFER_DAY_OF_MONTH": "first"}
    parsed: datetime | None = dateparser.parse(text, languages=["en"], settings=settings)
    if parsed is None:
        return None
    day: date = parsed.date()
    written = re.search(rf"\d+\s*/\s*\d+|{_MONTH}", text)
    if day > now.date() and written and not re.search(r"\b(19|20)\d\d\b", text):
        day = day.replace(year=day.year - 1)  # "28/11" written on 2 December means last year's
    return day


def local_moment(*, day: date, clock: time, zone: ZoneInfo) -> tuple[datetime, str | None]:
    """The aware moment of a wall-clock time, and a word when the clocks changed around it.

    A time that did not exist (the hour skipped when the clocks go forward) comes back moved on by
    the change, with "skipped"; a time that happened twice (the hour repeated when they go back)
    comes back as the first of the two, with "twice".
    """
    naive = datetime.combine(day, clock)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first, None
    round_trip = first.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != naive:
        return round_trip, "skipped"
    return first, "twice"


def day_answer(*, day: date, today: date) -> tuple[str, str | None]:
    """The day question's option for a date, and the date itself when it is further back."""
    offset = (today - day).days
    for option, days in DAY_OFFSETS.items():
        if offset == days:
            return option, None
    return EARLIER, day.isoformat()


def answered_day(*, day_option: str | None, date_iso: str | None, today: date) -> date:
    """The calendar day from the stored day answer (and the date, when it was further back)."""
    if date_iso:
        return date.fromisoformat(date_iso)
    return today - timedelta(days=DAY_OFFSETS.get(day_option or "today", 3))


def incident_moment(*, day_option: str | None, date_iso: str | None, clock: str | None,
                    now: datetime, zone: ZoneInfo) -> datetime:
    """When the incident happened, from the stored answers: the one way the services turn them into
    a timestamp. Without a time, the current time of day stands in (as the record always did)."""
    local_now = now.astimezone(zone)
    day = answered_day(day_option=day_option, date_iso=date_iso if day_option == EARLIER else None,
                       today=local_now.date())
    at = time.fromisoformat(clock) if clock else local_now.time().replace(second=0, microsecond=0)
    return local_moment(day=day, clock=at, zone=zone)[0]


def spoken(moment: datetime, *, now: datetime) -> str:
    """A moment the way a person says it: "today at 22:40", "yesterday at 09:00", "Fri 13 Nov at 18:00"."""
    offset = (now.date() - moment.date()).days
    day = {0: "today", 1: "yesterday"}.get(offset, f"{moment:%a %d %b}")
    return f"{day} at {moment:%H:%M}"
