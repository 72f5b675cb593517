"""`flourish admin` commands for people's access, keys, rights, retention and the audit trail.

Kept apart from bot/cli.py so that the commands an admin uses on a bad day (a leaver, a lost key,
a subject access request) sit together. Every failure is one line on stderr and exit code 1; every
file written holds personal data, so it is created readable by its owner only.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from storage.config import get_config

_prepare: Callable[[], None] = lambda: None  # noqa: E731  (set by register)


class AccessFormat(StrEnum):
    json = "json"
    pdf = "pdf"


def fail(message: str) -> typer.Exit:
    """Print one clear line on stderr and return the exit to raise."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def one_line(exc: BaseException) -> str:
    """An unexpected failure of a command as one line that names no data: the database refusing,
    a directory that cannot be written, a setting that cannot be read."""
    import pydantic
    import sqlalchemy as sa

    if isinstance(exc, sa.exc.ArgumentError):
        return "DATABASE_URL is not a database URL (like postgresql://user@host/flourish)."
    if isinstance(exc, sa.exc.DBAPIError):
        first = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        return f"The database refused: {type(exc.orig).__name__}: {first[:300]}"
    if isinstance(exc, pydantic.ValidationError):
        fields = ", ".join(str(e["loc"][0]).upper() for e in exc.errors() if e.get("loc"))
        return f"A setting in the environment is not valid: {fields or 'see --help'}."
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return f"Cannot use{where}: {exc.strerror or type(exc).__name__}."
    return f"Flourish stopped: {type(exc).__name__}. Nothing more was done."


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable and writable by its owner only (also if it existed before)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise fail(f"Cannot write {path}: {exc.strerror}.") from None
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def exporter() -> str:
    """Who ran this command, for the audit trail (the operating-system account)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _day(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    except ValueError:
        raise fail(f"{option} must be a date like 2026-03-29.") from None


# --- people ---------------------------------------------------------------------------------------


def revoke(
    person_id: Annotated[int, typer.Option("--person", help="The person to switch off")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit trail)")] = "",
) -> None:
    """Switch a person's access off at once (a leaver); their records stay."""
    from storage.accounts import AccountError, revoke_person
    from storage.db import session_scope

    _prepare()
    try:
        with session_scope() as session:
            revoke_person(session, person_id=person_id, reason=reason)
    except AccountError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"Revoked person {person_id}: their next message or button press is refused.")


def change_role(
    person_id: Annotated[int, typer.Option("--person")],
    role: Annotated[str, typer.Option(help="staff, manager or admin")],
) -> None:
    """Give a person another role, at once."""
    from storage.accounts import AccountError
    from storage.accounts import change_role as change
    from storage.db import session_scope
    from storage.models import Role

    if role not in ("staff", "manager", "admin"):
        raise fail("Role must be staff, manager or admin.")
    _prepare()
    try:
        with session_scope() as session:
            change(session, person_id=person_id, role=Role(role))
    except AccountError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"Person {person_id} is now {role}.")


def rebind(
    person_id: Annotated[int, typer.Option("--person")],
    bot_username: Annotated[str, typer.Option(help="The bot's @username for the link")] = (
        "<your_bot>"),
) -> None:
    """Unbind a person's Telegram account (a lost or new phone) and make a new invite."""
    from storage.accounts import AccountError, rebind_person
    from storage.db import session_scope

    _prepare()
    hours = get_config().invite_ttl_hours
    try:
        with session_scope() as session:
            code = rebind_person(session, person_id=person_id, ttl=timedelta(hours=hours))
    except AccountError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"Person {person_id}'s old account is unbound. Invite code: {code}  "
               f"(single use, expires in {hours} h)")
    typer.echo(f"Link: https://t.me/{bot_username}?start={code}")


# --- keys -----------------------------------------------------------------------------------------


def new_key() -> None:
    """Print a fresh encryption key (to put first in FLOURISH_SECRET_KEY before rotate-key)."""
    from storage.crypto import new_key as make

    typer.echo(make())


def rotate_key() -> None:
    """Re-encrypt everything under the first key; safe to run again if interrupted."""
    from storage.crud import record_audit
    from storage.crypto import KeyProblem
    from storage.db import get_engine, session_scope
    from storage.keys import rotate_keys

    _prepare()
    try:
        done = rotate_keys(get_engine())
    except KeyProblem as exc:
        raise fail(str(exc)) from None
    with session_scope() as session:
        record_audit(session, actor_id=None, action="key_rotated",
                     detail={"by": exporter(), "rotated": done.rotated})
    typer.echo(f"Re-encrypted {done.rotated} values ({done.already} were already under the new "
               "key). Every value now opens with the first key alone: remove the old ones.")


# --- rights and retention -------------------------------------------------------------------------


def erase_person(
    person_id: Annotated[int, typer.Option("--person")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone")] = False,
) -> None:
    """Erase a person's name, account, invites and conversation copies; their records stay."""
    from storage.db import session_scope
    from storage.retention import RetentionError
    from storage.retention import erase_person as erase

    if not yes:
        raise fail("This cannot be undone: add --yes to erase the person.")
    _prepare()
    try:
        with session_scope() as session:
            erase(session, person_id=person_id, actor_id=None)
    except RetentionError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"Erased person {person_id}. The records they made about children are kept "
               "(regulation 36), under 'Erased person'.")


def _pdf(held: dict[str, Any]) -> bytes:
    """A plain PDF of a subject access answer (every key and value, in order)."""
    import matplotlib
    from fpdf import FPDF

    pdf = FPDF()
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    pdf.add_font("DejaVu", fname=str(font))
    pdf.add_page()
    pdf.set_font("DejaVu", size=14)
    pdf.multi_cell(0, 8, "What Flourish holds about you", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)

    def put(value: Any, indent: int) -> None:
        pad = "    " * indent
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, (dict, list)):
                    pdf.multi_cell(0, 5, f"{pad}{key}:", new_x="LMARGIN", new_y="NEXT")
                    put(item, indent + 1)
                else:
                    pdf.multi_cell(0, 5, f"{pad}{key}: {item}", new_x="LMARGIN", new_y="NEXT")
        elif isinstance(value, list):
            for number, item in enumerate(value, start=1):
                pdf.multi_cell(0, 5, f"{pad}#{number}", new_x="LMARGIN", new_y="NEXT")
                put(item, indent + 1)
            if not value:
                pdf.multi_cell(0, 5, f"{pad}(none)", new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.multi_cell(0, 5, f"{pad}{value}", new_x="LMARGIN", new_y="NEXT")

    put(json.loads(json.dumps(held, default=str)), 0)
    return bytes(pdf.output())


def subject_access(
    person_id: Annotated[int, typer.Option("--person")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write")],
    format: Annotated[AccessFormat, typer.Option("--format", "-f")] = AccessFormat.json,
) -> None:
    """Everything held about one person, as JSON or PDF, written owner-only."""
    from storage.crud import record_audit
    from storage.db import session_scope
    from storage.retention import RetentionError
    from storage.retention import subject_access as gather

    _prepare()
    try:
        with session_scope() as session:
            held = gather(session, person_id=person_id)
            record_audit(session, actor_id=None, action="subject_access", object_type="person",
                         object_id=person_id, detail={"by": exporter(), "format": str(format)})
    except RetentionError as exc:
        raise fail(str(exc)) from None
    data = (_pdf(held) if format is AccessFormat.pdf
            else json.dumps(held, default=str, indent=2, ensure_ascii=False).encode("utf-8"))
    write_private(output, data)
    typer.echo(f"Wrote everything held about person {person_id} to {output} (owner-only).")


def retention(
    setting_id: Annotated[int | None, typer.Option("--setting", help="Change this setting's")] = None,
    kind: Annotated[str | None, typer.Option(help="finished_conversation, "
                                                  "cancelled_conversation, invite or audit")] = None,
    days: Annotated[int | None, typer.Option(help="Days to keep (0: keep for ever)")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Delete what is past its period now")] = False,
) -> None:
    """Show or change retention periods, or apply them now."""
    from storage import crud
    from storage.db import session_scope
    from storage.retention import RetentionError, apply_retention, retention_days, set_retention

    _prepare()
    try:
        with session_scope() as session:
            if setting_id is not None and kind is not None:
                set_retention(session, setting_id=setting_id, kind=kind,
                              days=None if days == 0 else days)
            elif kind is not None or days is not None:
                raise RetentionError("To change a period give --setting, --kind and --days.")
            if apply:
                counts = apply_retention(session)
                typer.echo("Deleted: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
            for setting in crud.list_settings(session):
                assert setting.id is not None
                periods = retention_days(session, setting_id=setting.id)
                typer.echo(f"setting {setting.id}: " + ", ".join(
                    f"{k} {'kept' if v is None else f'{v} days'}" for k, v in periods.items()))
    except RetentionError as exc:
        raise fail(str(exc)) from None


def audit(
    person_id: Annotated[int | None, typer.Option("--person", help="By or about this person")] = None,
    record: Annotated[str | None, typer.Option(help="A record, like incident:12 or debrief:40")] = None,
    since: Annotated[str | None, typer.Option("--from", help="From this date (UTC)")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Up to this date (UTC), inclusive")] = None,
    action: Annotated[str | None, typer.Option(help="Actions starting with this")] = None,
) -> None:
    """Show the audit trail: who did, read or was refused what, and when."""
    from storage.audit import audit_trail
    from storage.db import session_scope

    object_type = object_id = None
    if record is not None:
        kind, _, number = record.partition(":")
        if not kind or not number.isdigit() or len(number) > 12:
            raise fail("--record must look like incident:12.")
        object_type, object_id = kind, int(number)
    start, end = _day(since, "--from"), _day(until, "--to")
    _prepare()
    with session_scope() as session:
        events = audit_trail(session, person_id=person_id, object_type=object_type,
                             object_id=object_id, since=start,
                             until=end + timedelta(days=1) if end else None, action=action)
    for event in events:
        what = f"{event.object_type}:{event.object_id}" if event.object_type else "-"
        actor = f"person {event.actor_id}" if event.actor_id is not None else "-"
        detail = json.dumps(event.detail, sort_keys=True) if event.detail else ""
        typer.echo(f"{event.at:%Y-%m-%d %H:%M:%S}Z  {event.action:<22} {what:<16} {actor:<12} "
                   f"{detail}".rstrip())
    if not events:
        typer.echo("No audit events match.")


def register(admin: typer.Typer, *, prepare: Callable[[], None]) -> None:
    """Add these commands to `flourish admin`; `prepare` migrates and checks the key first."""
    global _prepare
    _prepare = prepare
    commands: list[tuple[str, Callable[..., None]]] = [
        ("revoke", revoke), ("change-role", change_role), ("rebind", rebind),
        ("new-key", new_key), ("rotate-key", rotate_key), ("erase-person", erase_person),
        ("subject-access", subject_access), ("retention", retention), ("audit", audit)]
    for name, command in commands:
        admin.command(name)(command)
