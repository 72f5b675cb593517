"""Submits racing on one incident: every flag of every debrief must reach the incident.

Managers, patterns and the export read an incident's flags; a flag lost because two staff pressed
Submit at the same moment is a point to reflect on that nobody sees. Each trial reads the incident
first (as the debrief service does), waits at a barrier, then submits, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage import crud
from storage.db import session_scope
from storage.models import ChildCreate, Incident, PersonCreate, Role, SettingCreate, SettingKind

FLAGS = ["prone_or_ground_hold", "restraint_in_bedroom", "long_intervention", "many_staff",
         "injury", "prn_medication", "restrictive_equipment", "unapproved_technique",
         "pain_inflicted", "used_as_punishment", "isolation_or_seclusion"]


def _home(staff: int) -> tuple[int, int, list[int]]:
    """A setting, a child and `staff` members of staff; returns their ids."""
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name="Rowan's Lodge", kind=SettingKind.children_home))
        assert setting.id is not None
        child = crud.create_child(session, data=ChildCreate(
            setting_id=setting.id, display_name="Kai O'Neill"))
        people = [crud.create_person(session, data=PersonCreate(
            setting_id=setting.id, display_name=f"Sam D'Souza {i}", role=Role.staff))
            for i in range(staff)]
        assert child.id is not None
        return setting.id, child.id, [p.id for p in people if p.id is not None]


def _race(setting_id: int, child_id: int, staff: list[int]) -> set[str]:
    """One incident, every member of staff submits at once; returns the incident's flags."""
    with session_scope() as session:
        incident = crud.create_incident(
            session, setting_id=setting_id, child_id=child_id,
            occurred_at=datetime(2026, 3, 29, 0, 45, tzinfo=UTC),  # the night the clocks change
            reported_by_id=staff[0], staff_ids=staff[1:])
        incident_id = incident.id
    assert incident_id is not None
    barrier = threading.Barrier(len(staff))
    errors: list[BaseException] = []

    def submit(index: int) -> None:
        try:
            with session_scope() as session:
                found = session.get(Incident, incident_id)  # read before the others commit
                assert found is not None
                barrier.wait(timeout=30)
                crud.save_debrief(session, incident=found, person_id=staff[index],
                                  flow_id="staff_debrief", answers=[],
                                  flags=[FLAGS[index % len(FLAGS)]])
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(staff))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    with session_scope() as session:
        stored = session.get(Incident, incident_id)
        assert stored is not None
        assert len(crud.debriefs_of(session, incident_id=incident_id)) == len(staff)
        return set(stored.flags)


@pytest.mark.parametrize(("submits", "trials"), [(2, 25), (10, 8)])
def test_simultaneous_submits_keep_every_flag(
    db_engine: Engine, submits: int, trials: int
) -> None:
    setting_id, child_id, staff = _home(submits)
    expected = {FLAGS[i % len(FLAGS)] for i in range(submits)}
    lost = []
    for trial in range(trials):
        flags = _race(setting_id, child_id, staff)
        if flags != expected:
            lost.append((trial, sorted(expected - flags)))
    assert lost == [], f"flags lost in {len(lost)} of {trials} trials: {lost[:3]}"


def test_flags_are_sorted_and_not_repeated(db_engine: Engine) -> None:
    setting_id, child_id, staff = _home(2)
    with Session(db_engine) as session:
        incident = crud.create_incident(
            session, setting_id=setting_id, child_id=child_id,
            occurred_at=datetime(2026, 10, 25, 1, 30, tzinfo=UTC), reported_by_id=staff[0],
            staff_ids=[staff[1]])
        for person_id in staff:
            crud.save_debrief(session, incident=incident, person_id=person_id,
                              flow_id="staff_debrief", answers=[],
                              flags=["long_intervention", "injury"])
        session.commit()
        assert incident.flags == ["injury", "long_intervention"]
