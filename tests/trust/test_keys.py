"""Keys that cannot strand the data, on SQLite and PostgreSQL.

A missing or wrong key is refused in one line before anything is written; a fresh install gets an
owner-only key, data directory and database file; rotation killed half way and run again leaves
every value readable with the new key alone.
"""

from __future__ import annotations

import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage import crud
from storage.config import get_config
from storage.crypto import KeyProblem, key_ring
from storage.db import get_engine, session_scope
from storage.keys import encrypted_columns, ensure_key, rotate_keys
from storage.migrate import upgrade
from storage.models import (
    Answer,
    ChildCreate,
    Debrief,
    Person,
    PersonCreate,
    Role,
    SettingCreate,
    SettingKind,
)
from storage.types import utcnow

NAMES = ["Zoë O'Brien", "Mia-Rose D'Arcy", "Tomasz Nowak-Ellis"]


def _use_key(monkeypatch: pytest.MonkeyPatch, key: str | None) -> None:
    if key is None:
        monkeypatch.delenv("FLOURISH_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("FLOURISH_SECRET_KEY", key)
    get_config.cache_clear()
    key_ring.cache_clear()


def _people() -> int:
    with session_scope() as session:
        return len(list(session.exec(select(Person.id))))


def _seed(count: int = 3) -> None:
    """A setting with people, children and answers: encrypted values in several tables."""
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name="Larch View", kind=SettingKind.residential_special_school))
        assert setting.id is not None
        people = [crud.create_person(session, data=PersonCreate(
            setting_id=setting.id, display_name=f"{NAMES[i % 3]} {i}", role=Role.staff))
            for i in range(count)]
        child = crud.create_child(session, data=ChildCreate(
            setting_id=setting.id, display_name="Ellie-May O'Hara", communication_needs="Makaton"))
        for person in people:
            assert person.id is not None
            assert child.id is not None
            incident = crud.create_incident(
                session, setting_id=setting.id, child_id=child.id,
                occurred_at=utcnow(), reported_by_id=person.id, staff_ids=[])
            crud.save_debrief(session, incident=incident, person_id=person.id,
                              flow_id="staff_debrief", flags=[], answers=[
                                  {"question_id": "describe", "status": "answered",
                                   "text": f"She said 'let go' at 23:59 ({person.id})"}])


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, text=True,
                          capture_output=True, timeout=120, check=False)


def _plain_values() -> dict[tuple[str, str, object], str]:
    """Every encrypted value, decrypted with the configured keys, by table, column and row."""
    values = {}
    with get_engine().connect() as conn:
        for table, column in encrypted_columns():
            (key,) = table.primary_key.columns
            for row_id, value in conn.execute(sa.select(key, column).where(column.is_not(None))):
                values[(table.name, column.name, row_id)] = value
    return values


@pytest.mark.timeout(900)  # several process starts; slow on a busy machine
def test_missing_wrong_or_malformed_key_is_refused_in_one_line_and_nothing_is_written(
    flourish_env: dict[str, str], tmp_path: Path
) -> None:
    _seed()
    before = _people()
    data_dir = Path(flourish_env["FLOURISH_DATA_DIR"])
    add = ["admin", "add-person", "--setting", "1", "--name", "Priya Shah-O'Neil"]
    cases = {
        "missing": {k: v for k, v in flourish_env.items() if k != "FLOURISH_SECRET_KEY"},
        "wrong": {**flourish_env, "FLOURISH_SECRET_KEY": Fernet.generate_key().decode()},
        "malformed": {**flourish_env, "FLOURISH_SECRET_KEY": "not-a-key,,"},
    }
    expected = {"missing": "No encryption key", "wrong": "does not match this database",
                "malformed": "is not a valid key"}
    for case, env in cases.items():
        done = _cli(env, *add)
        assert done.returncode == 1, (case, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, (case, done.stderr)
        assert expected[case] in lines[0], (case, done.stderr)
        assert "Traceback" not in done.stderr
        assert "not-a-key" not in done.stderr
        assert not (data_dir / "secret.key").exists(), case  # never generated over data
    assert _people() == before
    assert _cli(flourish_env, *add).returncode == 0  # the right key still works
    assert _people() == before + 1


def test_a_database_from_before_the_key_check_gets_one_only_with_a_key_that_reads_it(
    flourish_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = flourish_env["FLOURISH_SECRET_KEY"]
    _seed(1)
    with get_engine().begin() as conn:
        conn.execute(sa.text("DELETE FROM keycheck"))
    _use_key(monkeypatch, Fernet.generate_key().decode())
    with pytest.raises(KeyProblem, match="does not match"):
        ensure_key(get_engine())
    _use_key(monkeypatch, key)
    ensure_key(get_engine())
    with get_engine().connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM keycheck")).scalar() == 1


def test_a_fresh_install_creates_an_owner_only_key_data_directory_and_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "fresh" / "data"
    monkeypatch.setenv("FLOURISH_DATA_DIR", str(data_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _use_key(monkeypatch, None)
    get_engine.cache_clear()
    try:
        upgrade()
        _seed(1)
        assert _plain_values()  # readable with the generated key
    finally:
        get_engine().dispose()
        get_engine.cache_clear()
    for path, mode in [(data_dir, 0o700), (data_dir / "secret.key", 0o600),
                       (data_dir / "flourish.db", 0o600)]:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path
    wal = data_dir / "flourish.db-wal"
    if wal.exists():
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600


ROTATE_AND_DIE = textwrap.dedent("""
    import os, signal
    from storage.db import get_engine
    from storage.keys import rotate_keys
    seen = 0
    def die() -> None:
        global seen
        seen += 1
        if seen == int(os.environ["DIE_AFTER"]):
            os.kill(os.getpid(), signal.SIGKILL)
    rotate_keys(get_engine(), batch_size=4, on_value=die)
""")


def test_rotation_killed_half_way_and_run_again_leaves_every_value_under_the_new_key(
    flourish_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(6)
    before = _plain_values()
    assert len(before) > 12
    new = Fernet.generate_key().decode()
    ring = f"{new},{flourish_env['FLOURISH_SECRET_KEY']}"
    killed = subprocess.run([sys.executable, "-c", ROTATE_AND_DIE], text=True,
                            capture_output=True, timeout=120, check=False,
                            env={**flourish_env, "FLOURISH_SECRET_KEY": ring,
                                 "DIE_AFTER": str(len(before) // 2)})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    _use_key(monkeypatch, new)
    with pytest.raises(KeyProblem):  # half done: the new key alone cannot open the check yet
        ensure_key(get_engine())
    _use_key(monkeypatch, ring)
    assert _plain_values() == before  # nothing lost or garbled by the kill
    report = rotate_keys(get_engine())
    assert report.rotated > 0
    assert report.already > 0
    _use_key(monkeypatch, new)
    ensure_key(get_engine())
    assert _plain_values() == before
    with session_scope() as session:  # and the application reads them through its own types
        assert {a.text for a in session.exec(select(Answer))} == {
            v for (t, c, _), v in before.items() if (t, c) == ("answer", "text")}
        assert len(list(session.exec(select(Debrief)))) == 6


def test_a_value_no_key_can_open_stops_rotation_with_one_line(
    flourish_env: dict[str, str], db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(1)
    stray = Fernet(Fernet.generate_key()).encrypt(b"from elsewhere").decode()
    with db_engine.begin() as conn:
        conn.execute(sa.text("UPDATE answer SET text = :t"), {"t": stray})
    _use_key(monkeypatch, f"{Fernet.generate_key().decode()},{flourish_env['FLOURISH_SECRET_KEY']}")
    with pytest.raises(KeyProblem, match=r"answer\.text of row \d+ cannot be decrypted"):
        rotate_keys(db_engine)
