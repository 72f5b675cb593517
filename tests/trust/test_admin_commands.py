"""`flourish admin revoke|change-role|rebind|rotate-key|erase-person|subject-access|retention|audit`
and `flourish export`, run as an admin would (the real command, in process, on SQLite and
PostgreSQL): each does what it says at once, each mistake is one line and exit code 1, files
holding personal data are owner-only, and the audit trail shows who did what.
"""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pypdf import PdfReader
from typer.testing import CliRunner

from bot.cli import app
from storage import crud
from storage.config import get_config
from storage.crypto import key_ring
from storage.db import session_scope
from storage.models import ChildCreate, Person, PersonCreate, Role, SettingCreate, SettingKind
from storage.types import utcnow

ACCOUNT = 6_600_000_123


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def one_line_error(args: list[str], expected: str) -> None:
    code, _, err = run(*args)
    assert code == 1, (args, err)
    assert err.strip().count("\n") == 0, err
    assert expected in err, err


def _home() -> dict[str, int]:
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name="Elm's Corner", kind=SettingKind.children_home))
        assert setting.id is not None
        manager = crud.create_person(session, data=PersonCreate(
            setting_id=setting.id, display_name="Róisín McCarthy-O'Neill", role=Role.manager))
        staff = crud.create_person(session, data=PersonCreate(
            setting_id=setting.id, display_name="Tom D'Arcy", role=Role.staff))
        child = crud.create_child(session, data=ChildCreate(
            setting_id=setting.id, display_name="Lily-Rose O'Hare"))
        assert manager.id is not None
        assert staff.id is not None
        assert child.id is not None
        code = crud.create_invite(session, person_id=manager.id, ttl=timedelta(hours=1))
        crud.redeem_invite(session, code=code, telegram_user_id=ACCOUNT)
        incident = crud.create_incident(session, setting_id=setting.id, child_id=child.id,
                                        occurred_at=utcnow(), reported_by_id=staff.id,
                                        staff_ids=[manager.id])
        crud.save_debrief(session, incident=incident, person_id=manager.id,
                          flow_id="staff_debrief", flags=["many_staff"], answers=[
                              {"question_id": "describe", "status": "answered",
                               "text": "Lily-Rose said 'I want my mum' at 23:58"}])
        return {"setting": setting.id, "manager": manager.id, "staff": staff.id}


def _person(person_id: int) -> Person:
    with session_scope() as session:
        person = session.get(Person, person_id)
        assert person is not None
        return person


def test_revoke_change_role_and_rebind_take_effect_at_once_and_are_audited(
    flourish_env: dict[str, str],
) -> None:
    ids = _home()
    manager, staff = str(ids["manager"]), str(ids["staff"])
    code, out, _ = run("admin", "revoke", "--person", manager, "--reason", "left on 30 Nov")
    assert code == 0, out
    with session_scope() as session:
        assert crud.person_by_telegram_id(session, telegram_user_id=ACCOUNT) is None
    one_line_error(["admin", "revoke", "--person", manager], "already revoked")
    one_line_error(["admin", "revoke", "--person", "424242"], "No person 424242")
    one_line_error(["admin", "change-role", "--person", manager, "--role", "staff"], "revoked")

    assert run("admin", "change-role", "--person", staff, "--role", "manager")[0] == 0
    assert _person(ids["staff"]).role == Role.manager
    one_line_error(["admin", "change-role", "--person", staff, "--role", "child"], "Role must be")

    code, out, _ = run("admin", "rebind", "--person", staff)
    assert code == 0
    new_code = out.split("Invite code: ")[1].split()[0]
    with session_scope() as session:  # the revoked manager's old account enrols as the new one
        person = crud.redeem_invite(session, code=new_code, telegram_user_id=ACCOUNT)
        assert person.id == ids["staff"]

    code, out, _ = run("admin", "audit", "--person", manager)
    assert code == 0
    assert "person_revoked" in out
    assert "left on 30 Nov" in out
    code, out, _ = run("admin", "audit", "--record", f"person:{staff}")
    actions = [line.split()[2] for line in out.splitlines()]
    assert actions == ["role_changed", "account_unbound", "enrolled"]
    code, out, _ = run("admin", "audit", "--from", "2001-01-01", "--to", "2001-12-31")
    assert out.strip() == "No audit events match."
    one_line_error(["admin", "audit", "--from", "29/03/2026"], "--from must be a date")
    one_line_error(["admin", "audit", "--record", "incident"], "--record must look like")


def test_subject_access_export_and_erasure_write_owner_only_files_and_record_who(
    flourish_env: dict[str, str], tmp_path: Path
) -> None:
    ids = _home()
    manager = str(ids["manager"])
    as_json, as_pdf, export = tmp_path / "sar.json", tmp_path / "sar.pdf", tmp_path / "out.json"
    export.write_text("old")
    export.chmod(0o644)  # a file that was there before is made owner-only too
    assert run("admin", "subject-access", "--person", manager, "-o", str(as_json))[0] == 0
    assert run("admin", "subject-access", "--person", manager, "-o", str(as_pdf),
               "--format", "pdf")[0] == 0
    assert run("export", "--setting", str(ids["setting"]), "-o", str(export))[0] == 0
    for path in (as_json, as_pdf, export):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    held = json.loads(as_json.read_text())
    assert held["person"]["display_name"] == "Róisín McCarthy-O'Neill"
    assert held["debriefs"][0]["answers"][0]["text"] == "Lily-Rose said 'I want my mum' at 23:58"
    pdf_text = "".join(page.extract_text() for page in PdfReader(as_pdf).pages)
    assert "Róisín McCarthy-O'Neill" in pdf_text
    one_line_error(["export", "--setting", "99"], "No setting 99")
    one_line_error(["admin", "subject-access", "--person", "99", "-o", str(as_json)],
                   "No person 99")
    _, out, _ = run("admin", "audit", "--action", "export")
    assert '"by":' in out
    assert '"incidents": 1' in out

    one_line_error(["admin", "erase-person", "--person", manager], "add --yes")
    assert run("admin", "erase-person", "--person", manager, "--yes")[0] == 0
    assert _person(ids["manager"]).display_name == f"Erased person {manager}"
    _, out, _ = run("admin", "audit", "--action", "person_erased")
    assert f"person:{manager}" in out


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_retention_is_shown_changed_and_applied(flourish_env: dict[str, str]) -> None:
    ids = _home()
    setting = str(ids["setting"])
    code, out, _ = run("admin", "retention", "--setting", setting, "--kind", "invite",
                       "--days", "14", "--apply")
    assert code == 0
    assert "invite 14 days" in out
    assert "audit kept" in out
    assert "Deleted: finished_conversation 0" in out
    one_line_error(["admin", "retention", "--setting", setting, "--kind", "debriefs",
                    "--days", "3"], "Unknown kind")
    one_line_error(["admin", "retention", "--days", "3"], "give --setting, --kind and --days")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_rotate_key_from_the_command_line(
    flourish_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _home()
    new = run("admin", "new-key")[1].strip()
    assert len(new) == 44
    monkeypatch.setenv("FLOURISH_SECRET_KEY", f"{new},{flourish_env['FLOURISH_SECRET_KEY']}")
    get_config.cache_clear()
    key_ring.cache_clear()
    code, out, _ = run("admin", "rotate-key")
    assert code == 0
    assert "remove the old ones" in out
    monkeypatch.setenv("FLOURISH_SECRET_KEY", new)
    get_config.cache_clear()
    key_ring.cache_clear()
    code, out, _ = run("admin", "list")
    assert code == 0
    assert "Róisín McCarthy-O'Neill" in out
    monkeypatch.setenv("FLOURISH_SECRET_KEY", Fernet.generate_key().decode())
    get_config.cache_clear()
    key_ring.cache_clear()
    one_line_error(["admin", "list"], "does not match this database")
