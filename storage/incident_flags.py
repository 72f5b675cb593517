"""An incident's flags, merged under a row lock so that simultaneous submits cannot lose any.

Two staff pressing Submit at once used to read the incident's flags, merge and write them back,
and the later write dropped the earlier one's flags. Here the incident row is written to first
(a no-op UPDATE), which on PostgreSQL takes the row lock until commit (a "no key update" lock,
so it does not deadlock with the key-share locks that inserting debriefs takes; `SELECT ... FOR
UPDATE` did) and on SQLite takes the
database's single write lock (the driver opens a deferred transaction, and the first write makes
it exclusive among writers). Only then are the flags read again, so each merge starts from the
last committed flags.
"""

from __future__ import annotations

from sqlmodel import Session, col, select, update

from storage.models import Incident


def lock_incident(session: Session, *, incident_id: int) -> Incident:
    """The incident row as committed now, locked against other writers until this commit."""
    session.exec(update(Incident).where(col(Incident.id) == incident_id)
                 .values(flags=Incident.flags))
    statement = select(Incident).where(Incident.id == incident_id)
    return session.exec(statement.execution_options(populate_existing=True)).one()


def merge_incident_flags(session: Session, *, incident_id: int, flags: list[str]) -> Incident:
    """Add flags to an incident's, under the incident's row lock; returns the updated incident."""
    incident = lock_incident(session, incident_id=incident_id)
    incident.flags = sorted(set(incident.flags) | set(flags))
    session.add(incident)
    session.flush()
    return incident
