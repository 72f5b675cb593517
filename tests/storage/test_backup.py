"""`flourish db backup` and `flourish db restore` as real processes on PostgreSQL (pg_dump and
pg_restore): a debrief backed up, then lost, comes back and decrypts; with the wrong key, the
restore says so instead of starting on data nobody can read. Only this test's own schema is
dumped and restored (other work shares the server)."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlmodel import delete, select
from support.ci import skip_or_fail
from support.debriefs import walk_debrief

from storage import crud
from storage.db import get_engine, session_scope
from storage.models import Answer, ChildCreate, Person, PersonCreate, Role, SettingCreate, SettingKind

FLOURISH = str(Path(sys.executable).parent / "flourish")
pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
STORY = "Robin O'Hara was held standing in the lounge for two minutes; no marks on anyone."


def flourish(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FLOURISH, *args], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def one_debrief() -> int:
    """A home, a child and a member of staff with a submitted debrief; the person's id."""
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name="St Brigid's School", kind=SettingKind.residential_special_school))
        assert setting.id is not None
        crud.create_child(session, data=ChildCreate(setting_id=setting.id,
                                                    display_name="Robin O'Hara (test)"))
        person = crud.create_person(session, data=PersonCreate(
            setting_id=setting.id, display_name="Niamh D'Arcy (test)", role=Role.staff))
    reply = walk_debrief(person, {"describe": STORY}, child_label="Robin O'Hara (test)")
    assert reply.submitted_debrief_id is not None
    assert person.id is not None
    return person.id


def stored_story() -> list[str | None]:
    with session_scope() as session:
        return [a.text for a in session.exec(select(Answer).where(Answer.question_id == "describe"))]


def test_a_backup_restores_the_data_and_it_decrypts(flourish_env: dict[str, str],
                                                    tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        skip_or_fail("pg_dump and pg_restore are needed (apt install postgresql-client)")
    person_id = one_debrief()
    assert stored_story() == [STORY]
    backup = tmp_path / "backups" / "flourish.dump"

    made = flourish(flourish_env, "db", "backup", "--output", str(backup))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert STORY.encode() not in backup.read_bytes()  # free text stays encrypted in the backup
    assert "postgres@" not in made.stdout + made.stderr

    with session_scope() as session:  # the loss: every answer deleted
        session.exec(delete(Answer))  # type: ignore[call-overload]
    assert stored_story() == []

    wrong = {**flourish_env, "FLOURISH_SECRET_KEY": Fernet.generate_key().decode()}
    refused = flourish(wrong, "db", "restore", str(backup), "--yes")
    assert refused.returncode != 0
    assert "key" in (refused.stdout + refused.stderr).lower()

    restored = flourish(flourish_env, "db", "restore", str(backup), "--yes")
    assert restored.returncode == 0, restored.stderr
    get_engine().dispose()  # connections from before the restore
    assert stored_story() == [STORY]
    with session_scope() as session:
        person = session.get(Person, person_id)
        assert person is not None
        assert person.display_name == "Niamh D'Arcy (test)"


def test_a_backup_of_sqlite_is_refused_with_the_way_to_do_it(tmp_path: Path,
                                                             flourish_env: dict[str, str]) -> None:
    env = {**flourish_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}"}
    done = flourish(env, "db", "backup", "--output", str(tmp_path / "x.dump"))
    assert done.returncode != 0
    assert ".backup" in done.stdout + done.stderr
