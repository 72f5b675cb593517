"""Demo data with synthetic names, so anyone can try Flourish without real records."""

from __future__ import annotations

from sqlmodel import Session

from storage import crud
from storage.models import ChildCreate, PersonCreate, Role, SettingCreate, SettingKind

DEMO_STAFF = ("Alex Demo", "Jordan Demo")
DEMO_MANAGER = "Morgan Demo"
DEMO_CHILDREN = ("Robin (demo)", "Kit (demo)", "Ash (demo)")


def seed_demo(session: Session) -> int:
    """Create a demo children's home with staff, a manager and children; return the setting id."""
    setting = crud.create_setting(
        session, data=SettingCreate(name="Oak House (demo)", kind=SettingKind.children_home))
    assert setting.id is not None
    people = [crud.create_person(session, data=PersonCreate(
        setting_id=setting.id, display_name=name, role=Role.staff)) for name in DEMO_STAFF]
    crud.create_person(session, data=PersonCreate(
        setting_id=setting.id, display_name=DEMO_MANAGER, role=Role.manager))
    for name in DEMO_CHILDREN:
        crud.create_child(session, data=ChildCreate(
            setting_id=setting.id, display_name=name, key_worker_id=people[0].id))
    return setting.id
