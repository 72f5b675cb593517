"""When each follow-up is due: the regulation-35 schedule, quiet hours and the weekly digest.

Pure functions of a policy and a clock, no database and no network, so the whole schedule can be
tested by walking a fake clock through it. Every instant is a timezone-aware UTC datetime; local
wall-clock rules (quiet hours, Monday 09:00) are applied in the setting's zone with zoneinfo, so a
daylight-saving change neither moves nor repeats a nudge: offsets from the incident are elapsed
time (24 hours is 24 hours, even across a clock change) and the stored due time is an instant.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, UTC."""
    return datetime.now(UTC)


class Kind(StrEnum):
    """What a follow-up is for; the family (before the first underscore) is the task it serves."""

    debrief_reminder = "debrief_reminder"  # to a staff member who has not debriefed
    debrief_overdue = "debrief_overdue"  # to the manager: a debrief is past 24 h
    review_nudge = "review_nudge"  # to the manager, as soon as a debrief is submitted
    review_reminder = "review_reminder"  # to the manager
    review_escalation = "review_escalation"  # to a second manager or the responsible individual
    childview_prompt = "childview_prompt"  # to the key worker
    childview_reminder = "childview_reminder"  # to the key worker
    childview_escalation = "childview_escalation"  # to the manager
    reflection = "reflection"  # to each staff member who debriefed
    action_reminder = "action_reminder"  # a review action on its due date, to its owner
    digest = "digest"  # weekly, to each manager
    safeguarding_alert = "safeguarding_alert"  # at once, to every manager; never held

    @property
    def task(self) -> str:
        """The piece of work this nudge is about: debrief, review, childview, ..."""
        return self.value.split("_", 1)[0]


URGENT_KINDS = frozenset({Kind.safeguarding_alert})


# Offsets from T0, the time of the incident, as elapsed time.
DEFAULT_OFFSETS: dict[Kind, tuple[timedelta, ...]] = {
    Kind.debrief_reminder: (timedelta(hours=4), timedelta(hours=12)),
    Kind.debrief_overdue: (timedelta(hours=24),),
    Kind.review_reminder: (timedelta(hours=36),),
    Kind.review_escalation: (timedelta(hours=48),),
    Kind.childview_prompt: (timedelta(hours=24),),
    Kind.childview_reminder: (timedelta(days=4),),
    Kind.childview_escalation: (timedelta(days=5),),
    Kind.reflection: (timedelta(days=7),),
}
# Regulation 35(3): record in 24 h; spoken to the staff and signed in 48 h; spoken to the child in 5 days.
DEFAULT_DEADLINES: dict[str, timedelta] = {
    "debrief": timedelta(hours=24),
    "review": timedelta(hours=48),
    "childview": timedelta(days=5),
    "reflection": timedelta(days=7),
}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$")
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class PolicyError(ValueError):
    """A follow-up policy that cannot be used; the message says what to fix."""


def parse_duration(text: str) -> timedelta:
    """'90m', '4h', '5d' or '1w' as a timedelta."""
    match = _DURATION.match(str(text))
    if not match:
        raise PolicyError(f"{text!r} is not a duration: use a number and m, h, d or w, like 36h or 5d")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def format_duration(value: timedelta) -> str:
    """The shortest of '90m', '4h', '5d' that says this duration."""
    minutes = int(value.total_seconds() // 60)
    if minutes % (24 * 60) == 0 and minutes >= 72 * 60:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def parse_clock(text: str) -> time:
    """'21:00' as a time."""
    try:
        return time.fromisoformat(str(text))
    except ValueError as exc:
        raise PolicyError(f"{text!r} is not a time of day: use HH:MM, like 21:00") from exc


@dataclass(frozen=True)
class Policy:
    """One setting's schedule: offsets, quiet hours, digest time and snooze length."""

    timezone: str = "Europe/London"
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    offsets: Mapping[Kind, tuple[timedelta, ...]] = field(default_factory=lambda: dict(DEFAULT_OFFSETS))
    deadlines: Mapping[str, timedelta] = field(default_factory=lambda: dict(DEFAULT_DEADLINES))
    digest_weekday: int = 0  # Monday
    digest_time: time = time(9, 0)
    snooze: timedelta = timedelta(hours=2)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def build(
        cls,
        *,
        timezone: str = "Europe/London",
        quiet_start: str = "21:00",
        quiet_end: str = "07:00",
        overrides: Mapping[str, Any] | None = None,
    ) -> Policy:
        """A policy from a setting's fields and its stored overrides (validated)."""
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PolicyError(f"{timezone!r} is not a time zone name, like Europe/London") from exc
        policy = cls(timezone=timezone, quiet_start=parse_clock(quiet_start),
                     quiet_end=parse_clock(quiet_end))
        return policy.with_overrides(overrides or {})

    def with_overrides(self, overrides: Mapping[str, Any]) -> Policy:
        """This policy changed by overrides such as {"review_reminder": "30h", "digest_time": "08:30"}."""
        offsets = dict(self.offsets)
        deadlines = dict(self.deadlines)
        changes: dict[str, Any] = {}
        for name, value in overrides.items():
            if name in Kind.__members__ and Kind(name) in DEFAULT_OFFSETS:
                values = value if isinstance(value, list | tuple) else [value]
                offsets[Kind(name)] = tuple(sorted(parse_duration(v) for v in values if v != ""))
            elif name.startswith("deadline_") and name[9:] in DEFAULT_DEADLINES:
                deadlines[name[9:]] = parse_duration(value)
            elif name == "digest_day":
                if str(value).lower() not in _WEEKDAYS:
                    raise PolicyError(f"digest_day must be a day of the week, not {value!r}")
                changes["digest_weekday"] = _WEEKDAYS.index(str(value).lower())
            elif name == "digest_time":
                changes["digest_time"] = parse_clock(value)
            elif name == "snooze":
                changes["snooze"] = parse_duration(value)
            else:
                known = sorted([k.value for k in DEFAULT_OFFSETS]
                               + [f"deadline_{k}" for k in DEFAULT_DEADLINES]
                               + ["digest_day", "digest_time", "snooze"])
                raise PolicyError(f"Unknown follow-up setting {name!r}. Known: {', '.join(known)}")
        return replace(self, offsets=offsets, deadlines=deadlines, **changes)

    # --- quiet hours ----------------------------------------------------------------------------

    def in_quiet_hours(self, at: datetime) -> bool:
        """Whether this instant falls in the setting's quiet hours (local wall clock)."""
        clock = at.astimezone(self.zone).time()
        start, end = self.quiet_start, self.quiet_end
        if start == end:
            return False
        if start < end:
            return start <= clock < end
        return clock >= start or clock < end

    def hold(self, at: datetime, *, urgent: bool = False) -> datetime:
        """When a nudge due at `at` may be sent: at once, or at the end of quiet hours."""
        at = at.astimezone(UTC)
        if urgent or not self.in_quiet_hours(at):
            return at
        local = at.astimezone(self.zone)
        end_date = local.date()
        if self.quiet_start > self.quiet_end and local.time() >= self.quiet_start:
            end_date += timedelta(days=1)
        end = datetime.combine(end_date, self.quiet_end, tzinfo=self.zone)
        # A wall time inside a spring-forward gap maps to the instant just after the gap.
        return end.astimezone(UTC)

    # --- the schedule ---------------------------------------------------------------------------

    def due_times(self, kind: Kind, *, t0: datetime) -> list[datetime]:
        """The raw due instants of one kind for an incident at t0 (before quiet hours)."""
        return [(t0 + offset).astimezone(UTC) for offset in self.offsets.get(kind, ())]

    def deadline(self, task: str, *, t0: datetime) -> datetime | None:
        """The legal deadline of a task ("debrief", "review", "childview") for an incident at t0."""
        span = self.deadlines.get(task)
        return None if span is None else (t0 + span).astimezone(UTC)

    def next_digest(self, *, after: datetime) -> datetime:
        """The first digest time (Monday 09:00 local by default) strictly after `after`."""
        local = after.astimezone(self.zone)
        days = (self.digest_weekday - local.weekday()) % 7
        for extra in (0, 7, 14):
            day = local.date() + timedelta(days=days + extra)
            candidate = datetime.combine(day, self.digest_time, tzinfo=self.zone).astimezone(UTC)
            if candidate > after:
                return candidate
        raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class Planned:
    """One follow-up to create: the pure result of planning, before it becomes a row."""

    kind: Kind
    person_id: int
    due_at: datetime
    key: str
    deadline_at: datetime | None = None
    urgent: bool = False
    detail: dict[str, Any] = field(default_factory=dict)


def chain(
    policy: Policy,
    *,
    kind: Kind,
    t0: datetime,
    now: datetime,
    person_id: int,
    key_prefix: str,
    deadline_at: datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> list[Planned]:
    """The reminders of one kind for one person, held past quiet hours.

    A reminder whose time has already passed when planning is dropped, except the latest of them,
    which is due at once (so a late report still gets one nudge, not a burst). A reminder that quiet
    hours would push onto or past the next one of the same chain is dropped too.
    """
    raw = policy.due_times(kind, t0=t0)
    past = [at for at in raw if at <= now]
    future = [at for at in raw if at > now]
    times = ([now] if past else []) + future
    held = [policy.hold(at) for at in times]
    planned = []
    for index, due in enumerate(held):
        if index + 1 < len(held) and held[index + 1] <= due:
            continue
        number = raw.index(times[index]) + 1 if times[index] in raw else len(past)
        planned.append(Planned(kind=kind, person_id=person_id, due_at=due,
                               key=f"{key_prefix}:{kind.value}:{person_id}:{number}",
                               deadline_at=deadline_at, detail=dict(detail or {})))
    return planned
