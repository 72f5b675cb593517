"""Every query behind the insights: one row of structured facts per incident, and the counts over them.

The debrief's structured answers (place, holds, restrictions, triggers, duration, injuries) live in
`answer` rows, several debriefs per incident; reading them for 100,000 incidents on every page would
be far too slow. So each incident gets one `incidentfact` row (and `incidenttag` rows for its
multi-valued answers: holds, restrictions, equipment, interventions, triggers, staff, flags), kept
fresh by `refresh_facts` from whatever changed since the last refresh. Nothing here is encrypted
text: facts are choice codes, numbers, ids and times (local hour and weekday precomputed in the
setting's time zone, so counting by them is the same plain SQL on SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import JSON, Field, Session, SQLModel, col, select

from storage.models import (
    Answer,
    AnswerStatus,
    Debrief,
    DebriefStatus,
    Incident,
    IncidentStaff,
    Review,
    ReviewAction,
    Setting,
)
from storage.types import UTCDateTime, utcnow

# Answers of the staff debrief read into facts (choice codes and numbers only, never free text).
FACT_QUESTIONS = ("location", "interventions", "hold_types", "restrictions", "equipment",
                  "triggers", "duration", "staff_count", "child_injured", "staff_injured")
TAG_KINDS = {"interventions": "intervention", "hold_types": "hold", "restrictions": "restriction",
             "equipment": "equipment", "triggers": "trigger"}
GROUND_HOLDS = frozenset({"prone", "supine", "ground"})
BATCH = 500
LOOK_BACK = timedelta(minutes=10)


def _incident_fk() -> Any:
    return sa.Column(sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True,
                     autoincrement=False)


class IncidentFact(SQLModel, table=True):
    """The structured facts of one incident, for counting (rebuilt from its debriefs and review)."""

    # The first covers every period count (no table lookups: on 100,000 incidents each count
    # reads only the index); the others serve one child's facts and the freshness check.
    __table_args__ = (sa.Index("ix_incidentfact_setting_time_counts", "setting_id", "occurred_at",
                               "child_id", "local_weekday", "local_minute", "location",
                               "duration_minutes", "child_injured", "staff_injured",
                               "ground_hold", "record_hours", "review_hours",
                               "child_spoken_hours"),
                      sa.Index("ix_incidentfact_setting_child_time", "setting_id", "child_id",
                               "occurred_at"),
                      sa.Index("ix_incidentfact_setting_refreshed", "setting_id", "refreshed_at"))

    incident_id: int = Field(sa_column=_incident_fk())
    setting_id: int
    child_id: int
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    local_minute: int  # minutes after local midnight, in the setting's time zone
    local_weekday: int  # Monday 0
    location: str | None = Field(default=None, max_length=40)
    duration_minutes: float | None = None
    staff_count: int | None = None
    child_injured: bool = False
    staff_injured: bool = False
    ground_hold: bool = False
    recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # first debrief
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # review signed
    child_spoken_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    record_hours: float | None = None  # from the incident to the first debrief
    review_hours: float | None = None  # from the incident to the review's sign-off
    child_spoken_hours: float | None = None  # from the incident to the child spoken to
    refreshed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IncidentTag(SQLModel, table=True):
    """One value of a multi-valued fact: kind hold/restriction/equipment/intervention/trigger/staff/flag."""

    # Both cover their queries (no table lookups): every tag of a period, and one kind's counts.
    __table_args__ = (sa.Index("ix_incidenttag_setting_time", "setting_id", "occurred_at",
                               "child_id", "incident_id", "kind", "value"),
                      sa.Index("ix_incidenttag_setting_kind_time", "setting_id", "kind",
                               "occurred_at", "value", "incident_id"))

    incident_id: int = Field(sa_column=sa.Column(
        sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False))
    kind: str = Field(max_length=16, primary_key=True)
    value: str = Field(max_length=40, primary_key=True)
    setting_id: int
    child_id: int
    occurred_at: datetime = Field(sa_type=UTCDateTime)


class InsightsPolicy(SQLModel, table=True):
    """A setting's own pattern windows, thresholds and shifts: overrides of the defaults."""

    setting_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("setting.id"), primary_key=True,
                            autoincrement=False)
    )
    overrides: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- the policy ------------------------------------------------------------------------------------


def policy_overrides(session: Session, *, setting_id: int) -> dict[str, Any]:
    """A setting's stored pattern overrides (empty: the defaults)."""
    row = session.get(InsightsPolicy, setting_id)
    return dict(row.overrides) if row else {}


def set_policy_overrides(session: Session, *, setting_id: int, overrides: dict[str, Any]) -> None:
    """Replace a setting's pattern overrides (validate them first in bot/services/insights)."""
    row = session.get(InsightsPolicy, setting_id) or InsightsPolicy(setting_id=setting_id)
    row.overrides = dict(overrides)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()


# --- keeping the facts fresh -----------------------------------------------------------------------


@dataclass(frozen=True)
class FactsVersion:
    """What a setting's facts were built from: a cheap key that changes whenever a fact is added,
    rebuilt or removed (their count and latest refresh), so what is computed from them can be cached."""

    count: int
    refreshed_at: datetime | None


def refresh_facts(session: Session, *, setting_id: int) -> int:
    """Rebuild the facts of this setting's incidents that are new or changed; return how many."""
    return _refresh(session, setting_id=setting_id)[0]


def fresh_version(session: Session, *, setting_id: int) -> FactsVersion:
    """Bring a setting's facts up to date (as `refresh_facts`) and return their version."""
    return _refresh(session, setting_id=setting_id)[1]


def _refresh(session: Session, *, setting_id: int) -> tuple[int, FactsVersion]:
    stale, version = _stale_incidents(session, setting_id=setting_id)
    for start in range(0, len(stale), BATCH):
        rebuild_facts(session, incident_ids=stale[start:start + BATCH])
    if stale:
        version = _version(session, setting_id=setting_id)
    return len(stale), version


def _version(session: Session, *, setting_id: int) -> FactsVersion:
    count, latest = session.exec(select(sa.func.count(), sa.func.max(IncidentFact.refreshed_at))
                                 .where(IncidentFact.setting_id == setting_id)).one()
    return FactsVersion(count=int(count), refreshed_at=latest)


def _stale_incidents(session: Session, *,
                     setting_id: int) -> tuple[list[int], FactsVersion]:
    """Incidents without facts, or with a debrief submitted or a review signed since the last
    refresh; and the facts' version before they are rebuilt."""
    version = _version(session, setting_id=setting_id)
    known, watermark = version.count, version.refreshed_at
    total = session.exec(select(sa.func.count()).select_from(Incident)
                         .where(Incident.setting_id == setting_id)).one()
    stale: set[int] = set()
    if int(total) != known:
        missing = (select(Incident.id).outerjoin(IncidentFact, col(IncidentFact.incident_id)
                                                 == col(Incident.id))
                   .where(Incident.setting_id == setting_id,
                          col(IncidentFact.incident_id).is_(None)))
        stale.update(i for i in session.exec(missing) if i is not None)
    if watermark is not None:
        # Look back a little: a debrief or review committed just after a refresh read the tables
        # may carry a time a moment before that refresh's watermark.
        watermark -= LOOK_BACK
        debriefed = (select(Debrief.incident_id).join(Incident, col(Incident.id)
                                                      == col(Debrief.incident_id))
                     .where(Incident.setting_id == setting_id,
                            col(Debrief.submitted_at) >= watermark))
        signed = (select(Review.incident_id).join(Incident, col(Incident.id)
                                                  == col(Review.incident_id))
                  .where(Incident.setting_id == setting_id, col(Review.signed_at) >= watermark))
        stale.update(i for i in session.exec(debriefed) if i is not None)
        stale.update(session.exec(signed))
    return sorted(stale), version


def rebuild_facts(session: Session, *, incident_ids: Sequence[int]) -> None:
    """Recompute the fact and tag rows of these incidents from their debriefs and signed review."""
    if not incident_ids:
        return
    now = utcnow()  # before reading: anything submitted after this is caught next time
    ids = list(incident_ids)
    incidents = list(session.exec(select(Incident).where(col(Incident.id).in_(ids))))
    zones = {s.id: ZoneInfo(s.timezone) for s in session.exec(
        select(Setting).where(col(Setting.id).in_({i.setting_id for i in incidents})))}
    answers: dict[int, list[tuple[str, Any]]] = defaultdict(list)
    recorded: dict[int, datetime] = {}
    rows = session.exec(
        select(Debrief.incident_id, Answer.question_id, Answer.value)
        .join(Answer, col(Answer.debrief_id) == col(Debrief.id))
        .where(col(Debrief.incident_id).in_(ids), Debrief.status == DebriefStatus.submitted,
               col(Answer.question_id).in_(FACT_QUESTIONS),
               Answer.status == AnswerStatus.answered))
    for incident_id, question_id, value in rows:
        if incident_id is not None:
            answers[incident_id].append((question_id, value))
    for incident_id, first in session.exec(
            select(Debrief.incident_id, sa.func.min(Debrief.submitted_at))
            .where(col(Debrief.incident_id).in_(ids), Debrief.status == DebriefStatus.submitted)
            .group_by(col(Debrief.incident_id))):
        if incident_id is not None and first is not None:
            recorded[incident_id] = _aware(first)
    reviews = {r.incident_id: r for r in session.exec(
        select(Review).where(col(Review.incident_id).in_(ids), col(Review.signed_at).is_not(None)))}
    staff: dict[int, set[int]] = defaultdict(set)
    for row in session.exec(select(IncidentStaff).where(col(IncidentStaff.incident_id).in_(ids))):
        staff[row.incident_id].add(row.person_id)
    session.exec(sa.delete(IncidentTag).where(col(IncidentTag.incident_id).in_(ids)))
    session.exec(sa.delete(IncidentFact).where(col(IncidentFact.incident_id).in_(ids)))
    facts: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    for incident in incidents:
        assert incident.id is not None
        fact, values = _fact_of(incident, answers=answers[incident.id],
                                zone=zones.get(incident.setting_id, ZoneInfo("Europe/London")))
        fact.recorded_at = recorded.get(incident.id)
        review = reviews.get(incident.id)
        if review is not None:
            fact.reviewed_at = review.signed_at
            fact.child_spoken_at = child_spoken_at(review)
        fact.record_hours = _hours(incident.occurred_at, fact.recorded_at)
        fact.review_hours = _hours(incident.occurred_at, fact.reviewed_at)
        fact.child_spoken_hours = _hours(incident.occurred_at, fact.child_spoken_at)
        fact.refreshed_at = now
        facts.append(fact.model_dump())
        values["staff"] = {str(p) for p in staff[incident.id]}
        values["flag"] = set(incident.flags)
        for kind, found in values.items():
            tags.extend({"incident_id": incident.id, "kind": kind, "value": str(v)[:40],
                         "setting_id": incident.setting_id, "child_id": incident.child_id,
                         "occurred_at": incident.occurred_at} for v in sorted(found))
    if facts:
        session.execute(sa.insert(IncidentFact), facts)
    if tags:
        session.execute(sa.insert(IncidentTag), tags)
    session.flush()


def child_spoken_at(review: Review) -> datetime | None:
    """When the registered person confirmed they spoke to the child (a dated answer, or the sign-off)."""
    outcome = review.outcome or {}
    dated = outcome.get("child_spoken_at") or outcome.get("restorative_at")
    if isinstance(dated, str):
        try:
            return _aware(datetime.fromisoformat(dated))
        except ValueError:
            pass
    return review.signed_at if outcome.get("restorative") == "held" else None


def _hours(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 3600, 3)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _fact_of(incident: Incident, *, answers: Iterable[tuple[str, Any]],
             zone: ZoneInfo) -> tuple[IncidentFact, dict[str, set[str]]]:
    """One incident's fact row and tag values, merged over its debriefs (union, largest, any)."""
    assert incident.id is not None
    local = incident.occurred_at.astimezone(zone)
    fact = IncidentFact(incident_id=incident.id, setting_id=incident.setting_id,
                        child_id=incident.child_id, occurred_at=incident.occurred_at,
                        local_minute=local.hour * 60 + local.minute, local_weekday=local.weekday())
    values: dict[str, set[str]] = defaultdict(set)
    for question_id, value in answers:
        if value is None:
            continue
        if question_id in TAG_KINDS:
            items = value if isinstance(value, list) else [value]
            values[TAG_KINDS[question_id]].update(str(v) for v in items if v not in (None, ""))
        elif question_id == "location" and fact.location is None:
            fact.location = str(value)[:40]
        elif question_id == "duration" and isinstance(value, int | float):
            fact.duration_minutes = max(float(value), fact.duration_minutes or 0.0)
        elif question_id == "staff_count" and isinstance(value, int | float):
            fact.staff_count = max(int(value), fact.staff_count or 0)
        elif question_id == "child_injured":
            fact.child_injured = fact.child_injured or value is True
        elif question_id == "staff_injured":
            fact.staff_injured = fact.staff_injured or value is True
    flags = set(incident.flags)
    fact.ground_hold = bool(values["hold"] & GROUND_HOLDS) or "prone_or_ground_hold" in flags
    fact.child_injured = fact.child_injured or bool(flags & {"child_injury", "injury_child"})
    return fact, values


# --- reading the facts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FactRow:
    """The facts of one incident, as the pattern rules and charts read them."""

    incident_id: int
    child_id: int
    occurred_at: datetime
    local_minute: int
    local_weekday: int
    location: str | None
    duration_minutes: float | None
    staff_count: int | None
    child_injured: bool
    staff_injured: bool
    ground_hold: bool
    record_hours: float | None
    review_hours: float | None
    child_spoken_hours: float | None
    tags: dict[str, frozenset[str]]


FACT_COLUMNS = ("incident_id", "child_id", "occurred_at", "local_minute", "local_weekday",
                "location", "duration_minutes", "staff_count", "child_injured", "staff_injured",
                "ground_hold", "record_hours", "review_hours", "child_spoken_hours")


def facts_between(session: Session, *, setting_id: int, start: datetime, end: datetime,
                  child_id: int | None = None, person_id: int | None = None) -> list[FactRow]:
    """The facts of a setting's incidents in [start, end), oldest first (one child or staff member)."""
    columns: list[Any] = [getattr(IncidentFact, name) for name in FACT_COLUMNS]
    statement = sa.select(*columns).where(col(IncidentFact.setting_id) == setting_id,
                                          col(IncidentFact.occurred_at) >= start,
                                          col(IncidentFact.occurred_at) < end)
    tag_statement = sa.select(col(IncidentTag.incident_id), col(IncidentTag.kind),
                              col(IncidentTag.value)).where(
        col(IncidentTag.setting_id) == setting_id, col(IncidentTag.occurred_at) >= start,
        col(IncidentTag.occurred_at) < end)
    if child_id is not None:
        statement = statement.where(col(IncidentFact.child_id) == child_id)
        tag_statement = tag_statement.where(col(IncidentTag.child_id) == child_id)
    if person_id is not None:
        involved = select(IncidentTag.incident_id).where(
            IncidentTag.setting_id == setting_id, IncidentTag.kind == "staff",
            IncidentTag.value == str(person_id), col(IncidentTag.occurred_at) >= start,
            col(IncidentTag.occurred_at) < end)
        statement = statement.where(col(IncidentFact.incident_id).in_(involved))
    tags: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for incident_id, kind, value in session.execute(tag_statement):
        tags[incident_id][kind].add(value)
    rows = []
    ordered = statement.order_by(col(IncidentFact.occurred_at), col(IncidentFact.incident_id))
    for row in session.execute(ordered):
        found = tags.get(row[0], {})
        values = dict(zip(FACT_COLUMNS, row, strict=True))
        rows.append(FactRow(**values, tags={kind: frozenset(v) for kind, v in found.items()}))
    return rows


def _in_period(statement: Any, *, setting_id: int, start: datetime, end: datetime) -> Any:
    return statement.where(IncidentFact.setting_id == setting_id,
                           col(IncidentFact.occurred_at) >= start, col(IncidentFact.occurred_at) < end)


def count_by(session: Session, *, setting_id: int, start: datetime, end: datetime,
             column: str) -> dict[Any, int]:
    """How many incidents per value of one fact column (child_id, location, local_weekday...)."""
    field = getattr(IncidentFact, column)
    statement = (select(field, sa.func.count()).where(IncidentFact.setting_id == setting_id,
                                                      col(IncidentFact.occurred_at) >= start,
                                                      col(IncidentFact.occurred_at) < end)
                 .group_by(field))
    return {value: int(count) for value, count in session.exec(statement)}


def count_tags(session: Session, *, setting_id: int, start: datetime, end: datetime,
               kind: str) -> dict[str, int]:
    """How many incidents per tag value of one kind (hold, restriction, trigger, staff...)."""
    statement = (select(IncidentTag.value, sa.func.count())
                 .where(IncidentTag.setting_id == setting_id, IncidentTag.kind == kind,
                        col(IncidentTag.occurred_at) >= start, col(IncidentTag.occurred_at) < end)
                 .group_by(IncidentTag.value))
    return {value: int(count) for value, count in session.exec(statement)}


@dataclass(frozen=True)
class ActionCounts:
    """Review actions of incidents in a period: done, open and not yet due, overdue."""

    total: int
    done: int
    open: int
    overdue: int


def action_counts(session: Session, *, setting_id: int, start: datetime, end: datetime,
                  now: datetime) -> ActionCounts:
    """Review actions of the setting's incidents in [start, end): done, open, overdue at `now`."""
    from storage.reviews import actions_done

    statement = (select(ReviewAction.id, ReviewAction.due_at, ReviewAction.done_at)
                 .join(Incident, col(Incident.id) == col(ReviewAction.incident_id))
                 .where(Incident.setting_id == setting_id, col(Incident.occurred_at) >= start,
                        col(Incident.occurred_at) < end))
    rows = list(session.exec(statement))
    open_ids = [r[0] for r in rows if r[2] is None and r[0] is not None]
    done_later = actions_done(session, action_ids=open_ids) if open_ids else {}
    done = sum(1 for r in rows if r[2] is not None or r[0] in done_later)
    overdue = sum(1 for r in rows if r[2] is None and r[0] not in done_later and r[1] < now)
    return ActionCounts(total=len(rows), done=done, open=len(rows) - done - overdue,
                        overdue=overdue)


def heat_counts(session: Session, *, setting_id: int, start: datetime,
                end: datetime) -> dict[tuple[int, int], int]:
    """Incidents per (local weekday, local hour)."""
    hour = (col(IncidentFact.local_minute) // 60).label("hour")
    statement = _in_period(select(IncidentFact.local_weekday, hour, sa.func.count()),
                           setting_id=setting_id, start=start, end=end)
    found: dict[tuple[int, int], int] = defaultdict(int)
    for day, h, n in session.exec(statement.group_by(col(IncidentFact.local_weekday), hour)):
        found[(int(day), int(h))] += int(n)
    return dict(found)


DURATION_BANDS = ((2, "under 2 min"), (5, "2 to 5 min"), (10, "5 to 10 min"), (20, "10 to 20 min"))


def duration_counts(session: Session, *, setting_id: int, start: datetime,
                    end: datetime) -> dict[str, int]:
    """Incidents per band of the hold's or restriction's length ("not recorded" when unknown)."""
    minutes = col(IncidentFact.duration_minutes)
    band = sa.case(*[(minutes < limit, label) for limit, label in DURATION_BANDS],
                   (minutes.is_(None), "not recorded"), else_="20 min or more").label("band")
    statement = _in_period(select(band, sa.func.count()), setting_id=setting_id, start=start,
                           end=end)
    return {str(b): int(n) for b, n in session.exec(statement.group_by(band))}


def injury_counts(session: Session, *, setting_id: int, start: datetime,
                  end: datetime) -> dict[str, int]:
    """Incidents with a child hurt, with staff hurt, and with a prone or ground hold."""
    def total(flag: Any) -> Any:
        return sa.func.sum(sa.case((flag, 1), else_=0))

    statement = _in_period(select(total(col(IncidentFact.child_injured)),
                                  total(col(IncidentFact.staff_injured)),
                                  total(col(IncidentFact.ground_hold))),
                           setting_id=setting_id, start=start, end=end)
    child, staff, ground = session.exec(statement).one()
    return {"child_injured": int(child or 0), "staff_injured": int(staff or 0),
            "ground_hold": int(ground or 0)}


@dataclass(frozen=True)
class DeadlineCounts:
    """One regulation 35 deadline over a period's incidents: met, missed, and not yet due."""

    met: int
    missed: int
    pending: int


def deadline_counts(session: Session, *, setting_id: int, start: datetime, end: datetime,
                    now: datetime, column: str, limit_hours: float) -> DeadlineCounts:
    """Met (done within the limit), missed (late, or not done and past it) and pending, at `now`."""
    hours = getattr(IncidentFact, column)
    cutoff = now - timedelta(hours=limit_hours)
    met = sa.func.sum(sa.case((hours <= limit_hours, 1), else_=0))
    missed = sa.func.sum(sa.case((hours > limit_hours, 1),
                                 (sa.and_(hours.is_(None), col(IncidentFact.occurred_at) < cutoff),
                                  1), else_=0))
    statement = _in_period(select(met, missed, sa.func.count()), setting_id=setting_id,
                           start=start, end=end)
    done, late, total = session.exec(statement).one()
    return DeadlineCounts(met=int(done or 0), missed=int(late or 0),
                          pending=int(total or 0) - int(done or 0) - int(late or 0))


def hours_taken(session: Session, *, setting_id: int, start: datetime, end: datetime,
                column: str) -> list[float]:
    """The hours each incident took to reach a step (record_hours, review_hours...), where done."""
    hours = getattr(IncidentFact, column)
    statement = _in_period(select(hours), setting_id=setting_id, start=start, end=end)
    return sorted(float(h) for h in session.exec(statement.where(hours.is_not(None))))
