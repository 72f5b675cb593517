"""Data functions and tables for the dashboard: one-time sign-in links, sessions, and its queries.

Tokens (links and session ids) are random and only their SHA-256 hashes are stored, so a copy of
the database cannot be used to sign in. Same rules as `storage/crud.py`: a session first,
keyword-only arguments, the caller commits.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, func, select

from storage.models import (
    ChildView,
    Debrief,
    DebriefStatus,
    Incident,
    IncidentStaff,
    Person,
    Review,
    ReviewAction,
)
from storage.types import UTCDateTime, utcnow


class WebLoginLink(SQLModel, table=True):
    """A single-use sign-in link sent by /dashboard; only the token's hash is kept."""

    __tablename__ = "web_login_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random id, the table only its hash."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    via: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- sign-in links and sessions ------------------------------------------------------------------


def create_login_link(session: Session, *, person_id: int, ttl: timedelta,
                      now: datetime | None = None) -> str:
    """A new single-use sign-in token for a person (the caller builds the URL)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(WebLoginLink(token_hash=_hash(token), person_id=person_id, created_at=now,
                             expires_at=now + ttl))
    session.flush()
    return token


def redeem_login_link(session: Session, *, token: str, now: datetime | None = None) -> int | None:
    """The person a link signs in, once; None if it is unknown, used or expired.

    One UPDATE marks it used, so two browsers opening the same link at once cannot both get in."""
    now = now or utcnow()
    token_hash = _hash(token)
    marked = session.exec(sa.update(WebLoginLink)
                          .where(col(WebLoginLink.token_hash) == token_hash,
                                 col(WebLoginLink.used_at).is_(None),
                                 col(WebLoginLink.expires_at) > now)
                          .values(used_at=now))
    if not marked.rowcount:
        return None
    return session.exec(select(WebLoginLink.person_id)
                        .where(WebLoginLink.token_hash == token_hash)).one()


def create_web_session(session: Session, *, person_id: int, via: str, ttl: timedelta,
                       now: datetime | None = None) -> str:
    """A new session for a person; returns the random id to put in the cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_hash(token), person_id=person_id, via=via, created_at=now,
                           expires_at=now + ttl))
    session.flush()
    return token


def person_of_session(session: Session, *, token: str, now: datetime | None = None) -> Person | None:
    """The active person behind a session cookie, if the session is live."""
    now = now or utcnow()
    statement = (select(Person).join(WebSession, col(WebSession.person_id) == col(Person.id))
                 .where(WebSession.token_hash == _hash(token), col(WebSession.ended_at).is_(None),
                        col(WebSession.expires_at) > now, col(Person.active).is_(True)))
    return session.exec(statement).first()


def end_web_session(session: Session, *, token: str, now: datetime | None = None) -> int | None:
    """Sign a session out; returns its person's id (None if there was no such live session)."""
    row = session.exec(select(WebSession).where(WebSession.token_hash == _hash(token),
                                                col(WebSession.ended_at).is_(None))).first()
    if row is None:
        return None
    row.ended_at = now or utcnow()
    session.add(row)
    session.flush()
    return row.person_id


# --- the Today page: open incidents and their regulation 35 facts ---------------------------------


@dataclass
class IncidentFacts:
    """What the regulation 35 clock needs to know about one incident."""

    incident: Incident
    staff: int
    debriefed: int
    last_debrief_at: datetime | None
    signed_at: datetime | None
    child_view_at: datetime | None


def open_incident_facts(session: Session, *, setting_id: int, limit: int = 200) -> list[IncidentFacts]:
    """A setting's incidents still owing a debrief, a signed review or the child's view, newest
    first, with the facts each clock needs (a handful of queries, whatever the history's size)."""
    has_review = sa.exists().where(col(Review.incident_id) == col(Incident.id),
                                   col(Review.signed_at).is_not(None))
    has_view = sa.exists().where(col(ChildView.incident_id) == col(Incident.id))
    owed = (select(IncidentStaff.incident_id)
            .where(col(IncidentStaff.incident_id) == col(Incident.id),
                   ~sa.exists().where(col(Debrief.incident_id) == col(IncidentStaff.incident_id),
                                      col(Debrief.person_id) == col(IncidentStaff.person_id),
                                      col(Debrief.status) == DebriefStatus.submitted))
            .exists())
    statement = (select(Incident)
                 .where(Incident.setting_id == setting_id, sa.or_(~has_review, ~has_view, owed))
                 .order_by(col(Incident.occurred_at).desc()).limit(limit))
    incidents = list(session.exec(statement))
    return incident_facts(session, incidents=incidents)


def incident_facts(session: Session, *, incidents: list[Incident]) -> list[IncidentFacts]:
    """The regulation 35 facts of these incidents, in the same order."""
    ids = [i.id for i in incidents if i.id is not None]
    if not ids:
        return []
    staff = dict(session.exec(select(IncidentStaff.incident_id, func.count())
                              .where(col(IncidentStaff.incident_id).in_(ids))
                              .group_by(col(IncidentStaff.incident_id))).all())
    debriefs = {row[0]: (row[1], row[2]) for row in session.exec(
        select(Debrief.incident_id, func.count(), func.max(Debrief.submitted_at))
        .where(col(Debrief.incident_id).in_(ids), Debrief.status == DebriefStatus.submitted)
        .group_by(col(Debrief.incident_id))).all()}
    signed = dict(session.exec(select(Review.incident_id, func.min(Review.signed_at))
                               .where(col(Review.incident_id).in_(ids),
                                      col(Review.signed_at).is_not(None))
                               .group_by(col(Review.incident_id))).all())
    views = dict(session.exec(select(ChildView.incident_id, func.min(ChildView.created_at))
                              .where(col(ChildView.incident_id).in_(ids))
                              .group_by(col(ChildView.incident_id))).all())
    found = []
    for incident in incidents:
        key = incident.id or 0
        count, last = debriefs.get(key, (0, None))
        found.append(IncidentFacts(incident=incident, staff=int(staff.get(key, 0)),
                                   debriefed=int(count), last_debrief_at=_aware(last),
                                   signed_at=_aware(signed.get(key)),
                                   child_view_at=_aware(views.get(key))))
    return found


def _aware(value: datetime | None) -> datetime | None:
    """Aggregates bypass the column type, so SQLite hands back naive UTC (or text): make it UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def debriefs_by_person(session: Session, *, person_id: int, limit: int = 50) -> list[Debrief]:
    """A person's own submitted debriefs, newest first."""
    statement = (select(Debrief).where(Debrief.person_id == person_id,
                                       Debrief.status == DebriefStatus.submitted)
                 .order_by(col(Debrief.submitted_at).desc()).limit(limit))
    return list(session.exec(statement))


@dataclass(frozen=True)
class IncidentRow:
    """The structured columns of an incident (no ORM object: fast for thousands of rows)."""

    id: int
    child_id: int
    occurred_at: datetime
    flags: list[str]


def _filtered(statement: Any, *, setting_id: int, since: datetime, child_id: int | None,
              staff_id: int | None) -> Any:
    statement = statement.where(col(Incident.setting_id) == setting_id,
                                col(Incident.occurred_at) >= since)
    if child_id is not None:
        statement = statement.where(col(Incident.child_id) == child_id)
    if staff_id is not None:
        statement = statement.where(col(Incident.id).in_(
            select(IncidentStaff.incident_id).where(IncidentStaff.person_id == staff_id)))
    return statement


def incident_rows(session: Session, *, setting_id: int, since: datetime,
                  child_id: int | None = None, staff_id: int | None = None) -> list[IncidentRow]:
    """A setting's incidents from `since` on (one child's, or one staff member's), oldest first."""
    flags = sa.cast(col(Incident.flags), sa.Text)  # decoded here only when there are any
    statement = _filtered(select(Incident.id, Incident.child_id, Incident.occurred_at, flags),
                          setting_id=setting_id, since=since, child_id=child_id, staff_id=staff_id)
    return [IncidentRow(id=row[0], child_id=row[1], occurred_at=row[2],
                        flags=json.loads(row[3]) if row[3] and row[3] != "[]" else [])
            for row in session.exec(statement.order_by(col(Incident.occurred_at)))]


def staff_of_incidents(session: Session, *, setting_id: int, since: datetime,
                       child_id: int | None = None,
                       staff_id: int | None = None) -> dict[int, list[int]]:
    """The people involved in each of the same incidents as `incident_rows` (one query)."""
    statement = _filtered(select(IncidentStaff.incident_id, IncidentStaff.person_id)
                          .join(Incident, col(Incident.id) == col(IncidentStaff.incident_id)),
                          setting_id=setting_id, since=since, child_id=child_id, staff_id=staff_id)
    found: dict[int, list[int]] = {}
    for incident_id, person_id in session.exec(statement):
        found.setdefault(incident_id, []).append(person_id)
    return found


def overdue_actions(session: Session, *, setting_id: int, now: datetime) -> list[ReviewAction]:
    """A setting's review actions past their due date and not marked done."""
    statement = (select(ReviewAction)
                 .join(Incident, col(Incident.id) == col(ReviewAction.incident_id))
                 .where(Incident.setting_id == setting_id, col(ReviewAction.done_at).is_(None),
                        col(ReviewAction.due_at) < now)
                 .order_by(col(ReviewAction.due_at)))
    return list(session.exec(statement))
