"""Patterns across incidents, and the numbers a manager and an inspector ask about.

The guidance asks leaders to watch trends for each child, each member of staff and each shift,
and to notice when restraint is becoming the norm. Every pattern flag of DESIGN.md ("Across
incidents") is one small rule over the structured facts in `storage/insights.py`; each names the
incidents behind it and says what it found in a plain sentence. Windows, thresholds and shifts are
per setting: defaults here, a setting's overrides stored like its follow-up policy.

Functions are plain on purpose (a session, a setting id, a period in; dataclasses out), so the
Telegram commands, the PDF report and the web dashboard all read the same thing.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from statistics import median
from threading import Lock
from typing import Any

from sqlmodel import Session

from bot.followups.schedule import Policy as FollowUpPolicy
from bot.followups.schedule import PolicyError
from storage import crud
from storage import followups as followup_store
from storage import insights as store
from storage.models import Setting, SettingKind
from storage.types import utcnow

FLAG_NAMES = ("escalating_for_child", "frequent_for_child", "staff_cluster", "shift_cluster",
              "repeated_trigger", "restraint_becoming_norm", "frequent_single_separation",
              "same_measure_for_child", "ground_holds_recurring", "injuries_recurring",
              "after_trigger_cluster", "records_late")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOME_SHIFTS = (("early", "07:00", "15:00"), ("late", "15:00", "23:00"), ("night", "23:00", "07:00"))
SCHOOL_SHIFTS = (("before school", "00:00", "08:00"), ("transport in", "08:00", "09:00"),
                 ("morning lessons", "09:00", "10:30"), ("break", "10:30", "10:50"),
                 ("late morning lessons", "10:50", "12:15"), ("lunch", "12:15", "13:15"),
                 ("afternoon lessons", "13:15", "15:15"), ("transport home", "15:15", "16:30"),
                 ("after school", "16:30", "00:00"))
SCHOOL_KINDS = (SettingKind.school, SettingKind.residential_special_school)
# Trigger answers that say nothing about a cause, so never a pattern on their own.
VAGUE_TRIGGERS = frozenset({"unclear", "other"})
LABELS = {
    "transition": "a change or transition", "demand": "being asked to do something",
    "refusal": "being told no", "peer": "another child", "family": "family contact or news",
    "sensory": "noise or a busy space", "unwell": "being tired, hungry or unwell",
    "prone": "prone (face down) hold", "supine": "supine (face up) hold",
    "ground": "hold on the floor", "standing": "standing hold", "seated": "seated hold",
    "kneeling": "kneeling hold", "escort": "guided or escorted", "locked_door":
    "locked or held door", "blocked_exit": "blocked exit", "isolation": "isolation or time-out room",
    "single_separation": "single separation", "managing_away": "managing away",
    "mobility_aid_removed": "mobility aid removed", "seated_double_embrace": "seated double embrace",
    "double_basket": "double basket hold", "nose_distraction": "nose distraction",
    "physical_hold": "physical hold", "guided": "guided or escorted",
    "door": "locked or held door", "separation": "separate room or isolation",
    "equipment": "equipment", "prn": "PRN medication", "bedroom": "bedroom", "bed": "on a bed",
    "communal": "lounge, kitchen or dining room", "corridor": "corridor or stairs",
    "bathroom": "bathroom", "classroom": "classroom", "outdoors": "outdoors",
    "vehicle": "in a vehicle", "other": "somewhere else", "unclear": "not clear yet",
}


def label(code: str) -> str:
    """A code as words ("family" -> "family contact or news")."""
    return LABELS.get(code, code.replace("_", " "))


# --- the policy -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatternPolicy:
    """One setting's pattern windows, thresholds and shifts (DESIGN.md defaults)."""

    window_days: int = 28  # each window, compared with the one before
    most_share: float = 0.5  # "most" means over this share ...
    most_min: int = 3  # ... and at least this many
    escalating_min: int = 3
    escalating_factor: float = 2.0
    frequent_min: int = 4  # incidents for one child in a window
    same_measure_min: int = 3
    ground_holds_min: int = 2
    injuries_min: int = 2
    separation_min: int = 3
    separation_values: tuple[str, ...] = ("single_separation", "isolation")
    norm_weeks: int = 8  # weekly trend length for restraint_becoming_norm
    norm_rise_factor: float = 1.5  # second half of the trend over the first
    late_share: float = 0.2  # records_late: this share of deadlines missed ...
    late_min: int = 2  # ... and at least this many
    shifts: tuple[tuple[str, str, str], ...] = HOME_SHIFTS  # (name, start HH:MM, end HH:MM) local

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.window_days)

    @classmethod
    def for_setting(cls, *, kind: str, overrides: Mapping[str, Any] | None = None) -> PatternPolicy:
        """The defaults for this kind of setting, changed by its stored overrides (validated)."""
        base = cls(shifts=SCHOOL_SHIFTS if kind in SCHOOL_KINDS else HOME_SHIFTS)
        return base.with_overrides(overrides or {})

    def with_overrides(self, overrides: Mapping[str, Any]) -> PatternPolicy:
        """This policy changed by overrides like {"window_days": 14, "shifts": [["am","07:00","14:00"]]}."""
        changes: dict[str, Any] = {}
        defaults = PatternPolicy()
        for name, value in overrides.items():
            if name == "shifts":
                changes[name] = _shifts(value)
            elif name == "separation_values" and isinstance(value, list | tuple):
                changes[name] = tuple(str(v) for v in value)
            elif name in PatternPolicy.__dataclass_fields__ and name not in ("shifts",
                                                                            "separation_values"):
                kind = type(getattr(defaults, name))
                try:
                    number = kind(value)
                except (TypeError, ValueError) as exc:
                    raise PolicyError(f"{name} must be a number, not {value!r}") from exc
                if number <= 0:
                    raise PolicyError(f"{name} must be more than 0")
                changes[name] = number
            else:
                known = ", ".join(sorted(PatternPolicy.__dataclass_fields__))
                raise PolicyError(f"Unknown pattern setting {name!r}. Known: {known}")
        return replace(self, **changes)

    def shift_of(self, minute: int) -> str:
        """The shift a local minute of the day falls in."""
        for name, start, end in self.shifts:
            first, last = _minute(start), _minute(end)
            if (first <= minute < last) if first < last else (minute >= first or minute < last):
                return name
        return "other times"


def _minute(text: str) -> int:
    clock = time.fromisoformat(text)
    return clock.hour * 60 + clock.minute


def _shifts(value: Any) -> tuple[tuple[str, str, str], ...]:
    try:
        shifts = tuple((str(name), str(start), str(end)) for name, start, end in value)
        for _, start, end in shifts:
            _minute(start), _minute(end)
    except (TypeError, ValueError) as exc:
        raise PolicyError("shifts must be a list of [name, start HH:MM, end HH:MM]") from exc
    if not shifts:
        raise PolicyError("shifts must name at least one shift")
    return shifts


def load_policy(session: Session, *, setting_id: int) -> PatternPolicy:
    """A setting's pattern policy: its kind's defaults and its stored overrides."""
    setting = crud.get_setting(session, setting_id=setting_id)
    kind = setting.kind if setting else SettingKind.children_home
    return PatternPolicy.for_setting(kind=kind, overrides=store.policy_overrides(
        session, setting_id=setting_id))


def save_policy(session: Session, *, setting_id: int, overrides: Mapping[str, Any]) -> PatternPolicy:
    """Validate and store a setting's pattern overrides (merged over what it had)."""
    merged = {**store.policy_overrides(session, setting_id=setting_id), **overrides}
    setting = crud.get_setting(session, setting_id=setting_id)
    policy = PatternPolicy.for_setting(kind=setting.kind if setting else "", overrides=merged)
    store.set_policy_overrides(session, setting_id=setting_id, overrides=merged)
    return policy


def _deadline_policy(session: Session, *, setting: Setting) -> FollowUpPolicy:
    assert setting.id is not None
    try:
        return FollowUpPolicy.build(timezone=setting.timezone, overrides=followup_store.
                                    policy_overrides(session, setting_id=setting.id))
    except PolicyError:
        return FollowUpPolicy()


# --- the flags ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatternFlag:
    """A pattern across incidents: what, about whom, the incidents behind it, in one sentence."""

    name: str
    subject: str  # "child:4", "person:7", "shift:late", "trigger:family", "setting"
    sentence: str
    incident_ids: tuple[int, ...]

    @property
    def key(self) -> str:
        """Stable identity, so a nudge goes out only when a flag is new."""
        return f"{self.name}:{self.subject}"


@dataclass(frozen=True)
class Names:
    """Display names of a setting's children and staff, by id."""

    children: dict[int, str]
    people: dict[int, str]

    def child(self, child_id: int) -> str:
        return self.children.get(child_id, "a child")

    def person(self, person_id: int) -> str:
        return self.people.get(person_id, "a member of staff")


def names_of(session: Session, *, setting_id: int) -> Names:
    """The names of a setting's children and people (including those who have left)."""
    children, people = crud.names_in_setting(session, setting_id=setting_id)
    return Names(children=children, people=people)


def _ids(rows: Iterable[store.FactRow]) -> tuple[int, ...]:
    return tuple(r.incident_id for r in rows)


def _most(part: int, whole: int, policy: PatternPolicy) -> bool:
    return part >= policy.most_min and part > policy.most_share * whole


def _days(policy: PatternPolicy) -> str:
    return f"the last {policy.window_days} days"


def _escalating(recent: list[store.FactRow], before: list[store.FactRow], policy: PatternPolicy,
                names: Names, _ctx: _Context) -> list[PatternFlag]:
    flags = []
    earlier = Counter(r.child_id for r in before)
    for child_id, rows in _by_child(recent).items():
        previous = earlier.get(child_id, 0)
        if len(rows) >= policy.escalating_min and len(rows) >= policy.escalating_factor * previous:
            flags.append(PatternFlag(
                "escalating_for_child", f"child:{child_id}",
                f"{names.child(child_id)} has had {len(rows)} incidents in {_days(policy)}, up "
                f"from {previous} in the {policy.window_days} days before.", _ids(rows)))
    return flags


def _frequent(recent: list[store.FactRow], _before: list[store.FactRow], policy: PatternPolicy,
              names: Names, _ctx: _Context) -> list[PatternFlag]:
    return [PatternFlag("frequent_for_child", f"child:{child_id}",
                        f"{names.child(child_id)} has had {len(rows)} incidents in "
                        f"{_days(policy)}.", _ids(rows))
            for child_id, rows in _by_child(recent).items() if len(rows) >= policy.frequent_min]


def _staff_cluster(recent: list[store.FactRow], _before: list[store.FactRow],
                   policy: PatternPolicy, names: Names, _ctx: _Context) -> list[PatternFlag]:
    involved: dict[int, list[store.FactRow]] = defaultdict(list)
    for row in recent:
        for person in row.tags.get("staff", ()):
            involved[int(person)].append(row)
    return [PatternFlag("staff_cluster", f"person:{person_id}",
                        f"{names.person(person_id)} was involved in {len(rows)} of the "
                        f"{len(recent)} incidents in {_days(policy)}.", _ids(rows))
            for person_id, rows in sorted(involved.items()) if _most(len(rows), len(recent), policy)]


def _shift_cluster(recent: list[store.FactRow], _before: list[store.FactRow],
                   policy: PatternPolicy, _names: Names, _ctx: _Context) -> list[PatternFlag]:
    shifts: dict[str, list[store.FactRow]] = defaultdict(list)
    for row in recent:
        shifts[policy.shift_of(row.local_minute)].append(row)
    return [PatternFlag("shift_cluster", f"shift:{name}",
                        f"{len(rows)} of the {len(recent)} incidents in {_days(policy)} happened "
                        f"in the {name} shift.", _ids(rows))
            for name, rows in sorted(shifts.items()) if _most(len(rows), len(recent), policy)]


def _by_tag(rows: Iterable[store.FactRow], kind: str,
            ignore: frozenset[str] = frozenset()) -> dict[str, list[store.FactRow]]:
    found: dict[str, list[store.FactRow]] = defaultdict(list)
    for row in rows:
        for value in row.tags.get(kind, ()):
            if value not in ignore:
                found[value].append(row)
    return dict(sorted(found.items()))


def _by_child(rows: Iterable[store.FactRow]) -> dict[int, list[store.FactRow]]:
    found: dict[int, list[store.FactRow]] = defaultdict(list)
    for row in rows:
        found[row.child_id].append(row)
    return dict(sorted(found.items()))


def _repeated_trigger(recent: list[store.FactRow], _before: list[store.FactRow],
                      policy: PatternPolicy, _names: Names, _ctx: _Context) -> list[PatternFlag]:
    return [PatternFlag("repeated_trigger", f"trigger:{trigger}",
                        f"{len(rows)} of the {len(recent)} incidents in {_days(policy)} followed "
                        f"{label(trigger)}.", _ids(rows))
            for trigger, rows in _by_tag(recent, "trigger", VAGUE_TRIGGERS).items()
            if _most(len(rows), len(recent), policy)]


def _is_restraint(row: store.FactRow) -> bool:
    return "physical_hold" in row.tags.get("intervention", ()) or bool(row.tags.get("hold"))


def _becoming_norm(recent: list[store.FactRow], _before: list[store.FactRow],
                   policy: PatternPolicy, names: Names, ctx: _Context) -> list[PatternFlag]:
    flags = []
    weeks = policy.norm_weeks
    start = ctx.as_of - timedelta(weeks=weeks)
    holds = [r for r in ctx.history if r.occurred_at >= start and _is_restraint(r)]
    weekly = [0] * weeks
    for row in holds:
        weekly[min(weeks - 1, int((row.occurred_at - start) / timedelta(weeks=1)))] += 1
    first, second = sum(weekly[: weeks // 2]), sum(weekly[weeks // 2:])
    if second >= policy.most_min and second >= policy.norm_rise_factor * max(first, 1) \
            and _slope(weekly) > 0:
        flags.append(PatternFlag(
            "restraint_becoming_norm", "setting:rising",
            f"Physical holds are rising: {second} in the last {weeks // 2} weeks against {first} "
            f"in the {weeks // 2} weeks before (weekly: {', '.join(map(str, weekly))}).",
            _ids(r for r in holds if r.occurred_at >= start + timedelta(weeks=weeks - weeks // 2))))
    held = [r for r in recent if _is_restraint(r)]
    children = {r.child_id for r in held}
    if ctx.children and _most(len(children), ctx.children, policy):
        flags.append(PatternFlag(
            "restraint_becoming_norm", "setting:children",
            f"{len(children)} of the {ctx.children} children here were held in "
            f"{_days(policy)}.", _ids(held)))
    return flags


def _slope(values: list[int]) -> float:
    n = len(values)
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    return sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))


def _separation(recent: list[store.FactRow], _before: list[store.FactRow], policy: PatternPolicy,
                _names: Names, _ctx: _Context) -> list[PatternFlag]:
    wanted = set(policy.separation_values)
    rows = [r for r in recent if wanted & r.tags.get("restriction", frozenset())]
    if len(rows) < policy.separation_min:
        return []
    return [PatternFlag("frequent_single_separation", "setting",
                        f"Separation ({', '.join(label(v) for v in sorted(wanted))}) was used in "
                        f"{len(rows)} incidents in {_days(policy)}.", _ids(rows))]


def _same_measure(recent: list[store.FactRow], _before: list[store.FactRow],
                  policy: PatternPolicy, names: Names, _ctx: _Context) -> list[PatternFlag]:
    flags = []
    for child_id, rows in _by_child(recent).items():
        for kind in ("hold", "restriction"):
            for value, used in _by_tag(rows, kind).items():
                if len(used) >= policy.same_measure_min:
                    flags.append(PatternFlag(
                        "same_measure_for_child", f"child:{child_id}:{kind}:{value}",
                        f"The same measure, {label(value)}, was used {len(used)} times for "
                        f"{names.child(child_id)} in {_days(policy)}.", _ids(used)))
    return flags


def _ground_holds(recent: list[store.FactRow], _before: list[store.FactRow],
                  policy: PatternPolicy, _names: Names, _ctx: _Context) -> list[PatternFlag]:
    rows = [r for r in recent if r.ground_hold]
    if len(rows) < policy.ground_holds_min:
        return []
    return [PatternFlag("ground_holds_recurring", "setting",
                        f"Prone or floor holds were used {len(rows)} times in {_days(policy)}.",
                        _ids(rows))]


def _injuries(recent: list[store.FactRow], _before: list[store.FactRow], policy: PatternPolicy,
              names: Names, _ctx: _Context) -> list[PatternFlag]:
    return [PatternFlag("injuries_recurring", f"child:{child_id}",
                        f"Someone was hurt in {len(rows)} incidents with {names.child(child_id)} "
                        f"in {_days(policy)}.", _ids(rows))
            for child_id, rows in _by_child(r for r in recent
                                            if r.child_injured or r.staff_injured).items()
            if len(rows) >= policy.injuries_min]


def _after_trigger(recent: list[store.FactRow], _before: list[store.FactRow],
                   policy: PatternPolicy, names: Names, _ctx: _Context) -> list[PatternFlag]:
    flags = []
    for child_id, rows in _by_child(recent).items():
        for trigger, after in _by_tag(rows, "trigger", VAGUE_TRIGGERS).items():
            if _most(len(after), len(rows), policy):
                flags.append(PatternFlag(
                    "after_trigger_cluster", f"child:{child_id}:trigger:{trigger}",
                    f"{len(after)} of {names.child(child_id)}'s {len(rows)} incidents in "
                    f"{_days(policy)} followed {label(trigger)}.", _ids(after)))
    return flags


def _records_late(recent: list[store.FactRow], _before: list[store.FactRow],
                  policy: PatternPolicy, _names: Names, ctx: _Context) -> list[PatternFlag]:
    flags = []
    for title, task, column in DEADLINE_NAMES:
        limit = ctx.limits[task]
        due, late = 0, []
        for row in recent:
            hours = getattr(row, column)
            if hours is None and row.occurred_at + timedelta(hours=limit) > ctx.as_of:
                continue  # not due yet
            due += 1
            if hours is None or hours > limit:
                late.append(row)
        if due and len(late) >= policy.late_min and len(late) >= policy.late_share * due:
            flags.append(PatternFlag(
                "records_late", f"deadline:{task}",
                f"{len(late)} of {due} incidents in {_days(policy)} missed the deadline "
                f"\"{title.lower()}\".", _ids(late)))
    return flags


@dataclass(frozen=True)
class _Context:
    as_of: datetime
    history: list[store.FactRow]
    children: int
    limits: dict[str, float]


Rule = Callable[[list[store.FactRow], list[store.FactRow], PatternPolicy, Names, _Context],
                list[PatternFlag]]
RULES: dict[str, Rule] = {
    "escalating_for_child": _escalating, "frequent_for_child": _frequent,
    "staff_cluster": _staff_cluster, "shift_cluster": _shift_cluster,
    "repeated_trigger": _repeated_trigger, "restraint_becoming_norm": _becoming_norm,
    "frequent_single_separation": _separation, "same_measure_for_child": _same_measure,
    "ground_holds_recurring": _ground_holds, "injuries_recurring": _injuries,
    "after_trigger_cluster": _after_trigger, "records_late": _records_late,
}


# Flags computed from a version of a setting's facts, reused until the facts change (a debrief or
# review arrives, an incident is added or removed) or the policy, names or deadlines change. Time
# moves the windows too, so an entry serves only `as_of` up to FLAGS_FRESH after its own.
FLAGS_FRESH = timedelta(minutes=10)
FLAGS_KEPT = 64
_flag_cache: OrderedDict[tuple[Any, ...], tuple[datetime, list[PatternFlag]]] = OrderedDict()
_flag_lock = Lock()


def pattern_flags(session: Session, *, setting_id: int, as_of: datetime | None = None,
                  child_id: int | None = None, person_id: int | None = None,
                  names: Names | None = None,
                  version: store.FactsVersion | None = None) -> list[PatternFlag]:
    """Every pattern flag of a setting in the window ending at `as_of` (one child or staff member).

    Cached per setting until its facts change (pass `version` when they were just refreshed)."""
    as_of = as_of or utcnow()
    setting = crud.get_setting(session, setting_id=setting_id)
    if setting is None:
        return []
    version = version or store.fresh_version(session, setting_id=setting_id)
    policy = load_policy(session, setting_id=setting_id)
    deadlines = _deadline_policy(session, setting=setting).deadlines
    limits = {task: deadlines[task].total_seconds() / 3600 for task in ("debrief", "review",
                                                                        "childview")}
    names = names or names_of(session, setting_id=setting_id)
    children = 0 if child_id is not None else crud.count_children(session, setting_id=setting_id)
    key = (id(session.get_bind()), setting_id, child_id, person_id, version, policy,
           tuple(sorted(limits.items())), children, tuple(sorted(names.children.items())),
           tuple(sorted(names.people.items())))
    with _flag_lock:
        cached = _flag_cache.get(key)
        if cached is not None and timedelta(0) <= as_of - cached[0] <= FLAGS_FRESH:
            _flag_cache.move_to_end(key)
            return list(cached[1])
    span = max(2 * policy.window, timedelta(weeks=policy.norm_weeks))
    history = store.facts_between(session, setting_id=setting_id, start=as_of - span, end=as_of,
                                  child_id=child_id, person_id=person_id)
    recent = [r for r in history if r.occurred_at >= as_of - policy.window]
    before = [r for r in history if as_of - 2 * policy.window <= r.occurred_at < as_of
              - policy.window]
    context = _Context(as_of=as_of, history=history, children=children, limits=limits)
    flags: list[PatternFlag] = []
    for rule in RULES.values():
        flags.extend(rule(recent, before, policy, names, context))
    with _flag_lock:
        _flag_cache[key] = (as_of, flags)
        _flag_cache.move_to_end(key)
        while len(_flag_cache) > FLAGS_KEPT:
            _flag_cache.popitem(last=False)
    return list(flags)


def flags_for_incident(session: Session, *, incident_id: int, setting_id: int,
                       as_of: datetime | None = None) -> list[PatternFlag]:
    """The setting's pattern flags that this incident is part of (for the manager's review)."""
    return [f for f in pattern_flags(session, setting_id=setting_id, as_of=as_of)
            if incident_id in f.incident_ids]


def new_flags(flags: Iterable[PatternFlag], *, known: Iterable[str]) -> list[PatternFlag]:
    """The flags whose key is not among those already raised (for a nudge when one is new)."""
    seen = set(known)
    return [f for f in flags if f.key not in seen]


# --- the numbers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """One regulation 35 deadline over a period: its limit and how many were met, missed, pending."""

    name: str
    limit_hours: float
    met: int
    missed: int
    pending: int


@dataclass(frozen=True)
class Summary:
    """A setting's numbers over a period: counts by every dimension, deadlines, review times, actions."""

    setting_id: int
    setting_name: str
    start: datetime
    end: datetime
    total: int
    per_week: float
    by_child: dict[str, int]
    by_staff: dict[str, int]
    by_shift: dict[str, int]
    by_hour: dict[int, int]
    by_weekday: dict[str, int]
    heat: dict[tuple[int, int], int]  # (weekday Monday 0, hour) -> incidents
    by_location: dict[str, int]
    by_intervention: dict[str, int]
    by_hold: dict[str, int]
    by_restriction: dict[str, int]
    by_trigger: dict[str, int]
    by_duration: dict[str, int]
    injuries: dict[str, int]
    deadlines: list[Deadline]
    review_hours_median: float | None
    review_hours_p90: float | None
    actions: store.ActionCounts
    flags: list[PatternFlag] = field(default_factory=list)

    def rate(self, count: int) -> str:
        """A count as a share of the period's incidents ("3 (25%)")."""
        return f"{count} ({round(100 * count / self.total)}%)" if self.total else str(count)


DEADLINE_NAMES = (("Recorded within 24 hours", "debrief", "record_hours"),
                  ("Review signed within 48 hours", "review", "review_hours"),
                  ("Child spoken to within 5 days", "childview", "child_spoken_hours"))


def _named(counts: Mapping[Any, int], name: Callable[[Any], str]) -> dict[str, int]:
    merged: Counter[str] = Counter()
    for key, count in counts.items():
        merged[name(key)] += count
    return dict(merged.most_common())


def summary(session: Session, *, setting_id: int, start: datetime, end: datetime,
            now: datetime | None = None, with_flags: bool = True) -> Summary:
    """A setting's numbers between start and end, with the pattern flags as of `end` (or now)."""
    now = now or utcnow()
    setting = crud.get_setting(session, setting_id=setting_id)
    if setting is None:
        raise ValueError(f"There is no setting {setting_id}.")
    version = store.fresh_version(session, setting_id=setting_id)
    policy = load_policy(session, setting_id=setting_id)
    names = names_of(session, setting_id=setting_id)
    period: dict[str, Any] = {"setting_id": setting_id, "start": start, "end": end}
    by_child = store.count_by(session, column="child_id", **period)
    total = sum(by_child.values())
    hours = store.heat_counts(session, **period)
    by_hour: Counter[int] = Counter()
    shifts: Counter[str] = Counter({name: 0 for name, _, _ in policy.shifts})
    for (_, hour), count in hours.items():
        by_hour[hour] += count
    minutes = store.count_by(session, column="local_minute", **period)
    for minute, count in minutes.items():
        shifts[policy.shift_of(int(minute))] += count
    weekdays = store.count_by(session, column="local_weekday", **period)
    deadlines = _deadline_policy(session, setting=setting).deadlines
    rows = []
    for title, task, column in DEADLINE_NAMES:
        limit = deadlines[task].total_seconds() / 3600
        counts = store.deadline_counts(session, now=now, column=column, limit_hours=limit, **period)
        rows.append(Deadline(title, limit, counts.met, counts.missed, counts.pending))
    review_hours = store.hours_taken(session, column="review_hours", **period)
    weeks = max((end - start) / timedelta(weeks=1), 1 / 7)
    flags = pattern_flags(session, setting_id=setting_id, as_of=min(end, now), names=names,
                          version=version) if with_flags else []
    return Summary(
        setting_id=setting_id, setting_name=setting.name, start=start, end=end, total=total,
        per_week=round(total / weeks, 1),
        by_child=_named(by_child, names.child),
        by_staff=_named(store.count_tags(session, kind="staff", **period),
                        lambda p: names.person(int(p))),
        by_shift=dict(shifts), by_hour={h: by_hour.get(h, 0) for h in range(24)},
        by_weekday={WEEKDAYS[d]: weekdays.get(d, 0) for d in range(7)}, heat=hours,
        by_location=_named(store.count_by(session, column="location", **period),
                           lambda v: label(v) if v else "not recorded"),
        by_intervention=_named(store.count_tags(session, kind="intervention", **period), label),
        by_hold=_named(store.count_tags(session, kind="hold", **period), label),
        by_restriction=_named(store.count_tags(session, kind="restriction", **period), label),
        by_trigger=_named(store.count_tags(session, kind="trigger", **period), label),
        by_duration=store.duration_counts(session, **period),
        injuries=store.injury_counts(session, **period), deadlines=rows,
        review_hours_median=round(median(review_hours), 1) if review_hours else None,
        review_hours_p90=round(review_hours[int(0.9 * (len(review_hours) - 1))], 1)
        if review_hours else None,
        actions=store.action_counts(session, now=now, **period), flags=flags)


@dataclass(frozen=True)
class Weekly:
    """Counts per week (weeks start on `weeks`), one series per child or per hold/restriction."""

    weeks: list[date]
    series: dict[str, list[int]]


def weekly(session: Session, *, setting_id: int, start: datetime, end: datetime,
           by: str = "child", names: Names | None = None) -> Weekly:
    """Incidents per week by child (`by="child"`), or uses of each hold and restriction (`"measure"`)."""
    store.refresh_facts(session, setting_id=setting_id)
    names = names or names_of(session, setting_id=setting_id)
    count = max(1, -(-(end - start).days // 7))
    weeks = [(start + timedelta(weeks=i)).date() for i in range(count)]
    series: dict[str, list[int]] = defaultdict(lambda: [0] * count)
    for row in store.facts_between(session, setting_id=setting_id, start=start, end=end):
        index = min(count - 1, (row.occurred_at - start).days // 7)
        if by == "child":
            series[names.child(row.child_id)][index] += 1
        else:
            for value in row.tags.get("hold", frozenset()) | row.tags.get("restriction",
                                                                          frozenset()):
                series[label(value)][index] += 1
    ordered = sorted(series.items(), key=lambda item: -sum(item[1]))
    return Weekly(weeks=weeks, series=dict(ordered))
