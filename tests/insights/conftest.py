"""A home with synthetic people (ids that are not 1..n) and a helper that plants incidents.

The clock stands at 00:30 UTC on Sunday 29 March 2026, the night the clocks go forward in
Europe/London, so windows, shifts and weekdays are checked across midnight and a clock change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from bot.services.demo_history import Measure, record_incident
from storage import crud
from storage.db import session_scope
from storage.models import ChildCreate, PersonCreate, Role, SettingCreate, SettingKind

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
CHILD_NAMES = ("Jay O'Neill (test)", "Sam Kowalczyk (test)", "Ri Ng (test)",
               "Casey D'Souza (test)", "Taylor Mbeki (test)", "Robin Ó Briain (test)")
STAFF_NAMES = ("Dee Ahmed-Browne (test)", "Lou McKay (test)", "Pat O'Hara (test)",
               "Chris Adeyemi (test)", "Noor Sheikh (test)")


@dataclass
class Home:
    """A children's home: six children, five staff and a manager, and the incidents planted so far."""

    setting_id: int
    children: list[int]
    staff: list[int]
    manager_id: int
    planted: list[int] = field(default_factory=list)

    def add(self, child: int, *, days_ago: float, hour: int = 14, minute: int = 10,
            measure: Measure | None = None, staff: tuple[int, int] = (0, 1),
            review_after: timedelta | None = timedelta(hours=30)) -> int:
        """Plant one incident `days_ago` days before NOW at a local time; return its id."""
        day = (NOW - timedelta(days=days_ago)).astimezone(LONDON)
        at = day.replace(hour=hour, minute=minute).astimezone(UTC)
        with session_scope() as s:
            incident_id = record_incident(
                s, setting_id=self.setting_id, child_id=self.children[child],
                reporter_id=self.staff[staff[0]], others=[self.staff[staff[1]]], occurred_at=at,
                measure=measure or Measure(), review_after=review_after,
                manager_id=self.manager_id, now=NOW)
        self.planted.append(incident_id)
        return incident_id


@pytest.fixture
def home(db_engine: Engine) -> Home:
    """A home whose children and staff have ids that are not 1..n (another setting came first)."""
    return make_home()


def make_home() -> Home:
    """A new home (after a decoy school, so no id is 1..n) in the configured database."""
    with session_scope() as s:
        decoy = crud.create_setting(s, data=SettingCreate(name="Elm School (test)",
                                                          kind=SettingKind.school))
        assert decoy.id is not None
        for name in ("Kit Decoy (test)", "Ash Decoy (test)", "Bo Decoy (test)"):
            crud.create_child(s, data=ChildCreate(setting_id=decoy.id, display_name=name))
            crud.create_person(s, data=PersonCreate(setting_id=decoy.id, display_name=name,
                                                    role=Role.staff))
        setting = crud.create_setting(s, data=SettingCreate(name="Birch House (test)",
                                                            kind=SettingKind.children_home))
        assert setting.id is not None
        children = [crud.create_child(s, data=ChildCreate(setting_id=setting.id,
                                                          display_name=n)).id
                    for n in CHILD_NAMES]
        staff = [crud.create_person(s, data=PersonCreate(setting_id=setting.id, display_name=n,
                                                         role=Role.staff)).id
                 for n in STAFF_NAMES]
        manager = crud.create_person(s, data=PersonCreate(
            setting_id=setting.id, display_name="Morgan Ellis-Grey (test)", role=Role.manager))
        assert manager.id is not None
        return Home(setting_id=setting.id, children=[c for c in children if c is not None],
                    staff=[p for p in staff if p is not None], manager_id=manager.id)
