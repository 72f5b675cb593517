"""The `flourish` command: run the bot, chat in a terminal, administer, export, and the NLU."""

from __future__ import annotations

import logging
import sys
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

import typer

from bot.followups_cli import app as followups_app
from nlu.result import Interpreter, ParseResult
from storage.config import get_config

app = typer.Typer(help="Flourish: reflective debriefs after restraint or restriction.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
admin_app = typer.Typer(help="Settings, children, people and invite codes.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(followups_app, name="followups")


def _add_nlu_commands() -> None:
    """`flourish nlu ...`: added unless the command is one that never needs it (quicker start)."""
    from nlu.cli import app as nlu_app

    app.add_typer(nlu_app, name="nlu")


QUICK_COMMANDS = ("run", "chat")  # started often, and timed: they skip importing the NLU's CLI
if (sys.argv[1:2] or [""])[0] not in QUICK_COMMANDS:
    _add_nlu_commands()


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"
    pdf = "pdf"


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _name(text: str) -> str:
    """A display name as given, trimmed; an empty one is refused."""
    name = " ".join(text.split())
    if not name or len(name) > 200:
        raise _fail("--name must be between 1 and 200 characters.")
    return name


def _schedule(*, timezone: str, quiet_start: str, quiet_end: str) -> None:
    """Refuse a time zone or quiet hours the follow-ups could not use (said plainly)."""
    from bot.followups.schedule import Policy, PolicyError

    try:
        Policy.build(timezone=timezone, quiet_start=quiet_start, quiet_end=quiet_end)
    except PolicyError as exc:
        raise _fail(f"{exc}. Nothing was changed.") from exc


def _prepare_database() -> None:
    from storage.crypto import KeyProblem
    from storage.migrate import upgrade

    try:
        upgrade()
    except KeyProblem as exc:  # one clear line: the message names the key's source, never the key
        raise _fail(str(exc)) from None


# --- db -----------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    _prepare_database()
    typer.echo("Database is up to date.")


@db_app.command("backup")
def db_backup(
    output: Annotated[Path, typer.Option("--output", "-o", help="The backup file to write")],
) -> None:
    """Back up the PostgreSQL database (pg_dump, custom format, owner-only file)."""
    from storage.backup import BackupError, backup

    try:
        written = backup(get_config().resolved_database_url, output)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"Backed up to {written} ({written.stat().st_size} bytes). Its free text is "
               "encrypted: keep FLOURISH_SECRET_KEY safe, and apart from the backups.")


@db_app.command("restore")
def db_restore(
    source: Annotated[Path, typer.Argument(help="A file made by `flourish db backup`")],
    yes: Annotated[bool, typer.Option("--yes", help="Replace the database's data: no question")]
    = False,
) -> None:
    """Replace the database's Flourish data with a backup (stop the workers first)."""
    from storage.backup import BackupError, restore

    if not yes:
        typer.confirm("This replaces every Flourish table in the database with the backup's. "
                      "Go on?", abort=True)
    try:
        restore(get_config().resolved_database_url, source)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    _prepare_database()  # an older backup is brought up to this version; the key is checked
    typer.echo("Restored; the database is up to date and its key checked.")


# --- chat ---------------------------------------------------------------------------------------


@app.command()
def chat(
    person_id: Annotated[int | None, typer.Option("--person", help="Talk as this person id")] = None,
    command: Annotated[str | None, typer.Option(
        "--command", help="Open with this command: debrief, review, childview or tell "
                          "(default: tell for a child, else debrief)")] = None,
    plain: Annotated[bool, typer.Option(help="Use plain words only, without the NLU")] = False,
    history: Annotated[bool, typer.Option(
        help="Give a new demo home six months of synthetic incidents with planted patterns "
             "(see `flourish demo-data`)")] = True,
) -> None:
    """Try Flourish in this terminal (every flow, as any person), on the local database with demo data."""
    from bot.console import run_chat
    from bot.services.conversations import Conversations
    from bot.services.demo import seed_demo
    from bot.services.demo_history import generate
    from storage import crud
    from storage.db import session_scope
    from storage.models import Role

    _prepare_database()
    with session_scope() as session:
        if not crud.list_settings(session):
            setting_id = seed_demo(session)
            typer.echo("Created a demo home with synthetic names (Oak House).")
            if history:
                made = generate(session, setting_id=setting_id, months=6)
                typer.echo(f"Added {made.incidents} past incidents with patterns to see "
                           "(a manager's review shows them; `flourish demo-data` explains them).")
        if person_id is not None:
            person = crud.get_person(session, person_id=person_id)
        else:
            settings = crud.list_settings(session)
            staff = crud.list_people(session, setting_id=settings[0].id or 0, roles=(Role.staff,))
            person = staff[0] if staff else None
    if person is None:
        raise _fail("No such person. See `flourish admin list`.")
    nlu = None if plain else LoadedLater()  # starts loading once the first question is shown
    raise typer.Exit(run_chat(person=person, conversations=Conversations(interpreter=nlu),
                              command=command, on_ready=nlu.start if nlu else None))


def _interpreter(*, background: bool = False) -> Interpreter:
    from nlu.backends import get_interpreter

    config = get_config()
    return get_interpreter(config.nlu_backend, rasa_url=config.rasa_url, background=background)


class LoadedLater:
    """The NLU, loaded in a background thread once `start()` is called (at the latest, at the
    first message it must read): a channel starts it once it is ready, so loading spaCy does not
    slow down its own start."""

    def __init__(self) -> None:
        self._inner: Interpreter | None = None

    def start(self) -> None:
        """Begin loading (once)."""
        if self._inner is None:
            self._inner = _interpreter(background=True)

    def parse(self, text: str) -> ParseResult:
        """Read one message (waits for the load to finish)."""
        self.start()
        assert self._inner is not None
        return self._inner.parse(text)


# --- run ----------------------------------------------------------------------------------------


@app.command()
def run(
    webhook_url: Annotated[str | None, typer.Option(help="Public HTTPS URL for webhook mode")] = None,
    listen: Annotated[str, typer.Option(help="Webhook listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Webhook listen port")] = 8443,
    secret_token: Annotated[str | None, typer.Option(
        help="Webhook secret Telegram must send (default: derived from the bot token)")] = None,
    web: Annotated[bool, typer.Option(
        "--web", help="With --webhook-url: also serve the dashboard on the same port")] = False,
) -> None:
    """Run the Telegram bot (polling, or a webhook worker with --webhook-url: run several on one
    PostgreSQL database behind a reverse proxy, each on its own --port; see deploy/README.md)."""
    config = get_config()
    if config.telegram_bot_token is None:
        typer.echo(
            "TELEGRAM_BOT_TOKEN is not set.\n"
            "To get one: open Telegram, talk to @BotFather, send /newbot and follow the steps,\n"
            "then run:  TELEGRAM_BOT_TOKEN=<token> flourish run\n"
            "To try the debrief without Telegram:  flourish chat"
        )
        raise typer.Exit(code=2)
    from bot.log_hygiene import redact_logs, token_secrets

    redact_logs([*token_secrets(config.telegram_bot_token.get_secret_value()),
                 *([secret_token] if secret_token else [])])
    _prepare_database()
    from bot.telegram import run_bot
    from bot.telegram.app import TokenRejected
    from bot.telegram.web import run_webhook

    if web and webhook_url is None:
        raise _fail("--web needs --webhook-url (with polling, run `flourish web` beside the bot)")
    # The NLU loads while the bot connects (after the bot's own imports, so they don't compete):
    # buttons and commands are answered at once, and the first free-text answer waits for it.
    nlu = LoadedLater()
    try:
        if webhook_url is None:
            run_bot(config=config, interpreter=nlu, on_ready=nlu.start)
        else:
            run_webhook(config=config, interpreter=nlu, on_ready=nlu.start,
                        webhook_url=webhook_url, host=listen, port=port,
                        secret_token=secret_token, dashboard=web,
                        path=urlparse(webhook_url).path or "/telegram")
    except TokenRejected as exc:
        raise _fail(str(exc)) from None


@app.command()
def web(
    host: Annotated[str, typer.Option(help="Listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Listen port")] = 8080,
    insecure_cookies: Annotated[bool, typer.Option(
        help="Allow the session cookie over plain HTTP (only for trying it on this computer)")] = False,
) -> None:
    """Serve the dashboard alone (run the bot with polling beside it); /healthz answers 200."""
    import uvicorn

    from bot.web.app import WebConfig, create_app

    _prepare_database()
    config = get_config()
    token = config.telegram_bot_token.get_secret_value() if config.telegram_bot_token else None
    app = create_app(config=WebConfig(bot_token=token, secure_cookies=not insecure_cookies))
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")


# --- export -------------------------------------------------------------------------------------


def _day(text: str | None, *, option: str) -> date | None:
    """A --from/--to date (YYYY-MM-DD)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _fail(f"{option} must be a date like 2026-03-29, not {text!r}.") from None


@app.command()
def export(
    format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.json,
    setting_id: Annotated[int | None, typer.Option("--setting")] = None,
    start: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last day (included), YYYY-MM-DD")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Export incidents and their debriefs for inspection (JSON, CSV, or the PDF report)."""
    from bot.cli_admin import exporter, write_private
    from bot.services.export import PeriodError, export_records, to_csv, to_json, whole_days
    from storage import crud
    from storage.db import session_scope
    from storage.types import utcnow

    _prepare_database()
    with session_scope() as session:
        setting = crud.get_setting(session, setting_id=setting_id) if setting_id is not None else None
        zone = setting.timezone if setting else "Europe/London"
    if setting_id is not None and setting is None:
        raise _fail(f"No setting {setting_id}. See `flourish admin list`.")
    try:
        first, until = whole_days(first=_day(start, option="--from"),
                                  last=_day(end, option="--to"), timezone=zone)
    except PeriodError:
        raise _fail("--to must not be before --from.") from None
    if format is ExportFormat.pdf:
        from bot.services.report import build_report

        if setting_id is None:
            raise _fail("The PDF report is for one setting: give --setting ID.")
        if output is None:
            raise _fail("Give a file for the PDF: -o report.pdf")
        now = utcnow()
        with session_scope() as session:
            data = build_report(session, setting_id=setting_id, now=now,
                                start=first or now - timedelta(days=365), end=until or now)
            crud.record_audit(session, actor_id=None, action="export", object_type="setting",
                              object_id=setting_id, detail={"by": exporter(), "format": "pdf",
                                                            "to": "file"})
        write_private(output, data)
        typer.echo(f"Wrote the inspection report to {output} (readable by you only)")
        return
    with session_scope() as session:
        records = export_records(session, setting_id=setting_id, start=first, end=until)
        crud.record_audit(session, actor_id=None, action="export", object_type="setting",
                          object_id=setting_id, detail={"by": exporter(), "format": str(format),
                                                        "incidents": len(records),
                                                        "to": "file" if output else "stdout"})
    text = to_json(records) if format is ExportFormat.json else to_csv(records)
    if output is None:
        sys.stdout.write(text + ("\n" if not text.endswith("\n") else ""))
    else:
        write_private(output, text.encode("utf-8"))
        typer.echo(f"Wrote {len(records)} incidents to {output} (readable by you only)")


@app.command("demo-data")
def demo_data(
    setting_id: Annotated[int, typer.Option("--setting", help="the setting to add them to")],
    months: Annotated[int, typer.Option(min=1, max=60)] = 6,
) -> None:
    """Add synthetic children, staff and months of incidents with planted patterns (demo only)."""
    from bot.services.demo_history import PLANTED, generate
    from storage.db import session_scope

    _prepare_database()
    with session_scope() as session:
        try:
            history = generate(session, setting_id=setting_id, months=months)
        except ValueError as exc:
            raise _fail(str(exc)) from None
    typer.echo(f"Added {history.incidents} synthetic incidents over {months} months to setting "
               f"{setting_id}, with {len(history.children)} children and {len(history.staff)} "
               f"staff (all names end in (demo)).")
    typer.echo("Planted patterns: " + ", ".join(PLANTED))


# --- admin --------------------------------------------------------------------------------------


@admin_app.command("add-setting")
def add_setting(
    name: Annotated[str, typer.Option(help="The setting's name")],
    kind: Annotated[str, typer.Option(help="children_home, residential_special_school, "
                                           "secure_children_home or school")],
    timezone: Annotated[str, typer.Option(help="A time zone name")] = "Europe/London",
    quiet_start: Annotated[str, typer.Option(help="Quiet hours start, HH:MM")] = "21:00",
    quiet_end: Annotated[str, typer.Option(help="Quiet hours end, HH:MM")] = "07:00",
) -> None:
    """Add a setting (a home or a school)."""
    from storage import crud
    from storage.db import session_scope
    from storage.models import SettingCreate, SettingKind

    if kind not in SettingKind.__members__:
        raise _fail(f"Unknown kind {kind!r}. Choose one of: {', '.join(SettingKind)}")
    name = _name(name)
    _schedule(timezone=timezone, quiet_start=quiet_start, quiet_end=quiet_end)
    _prepare_database()
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name=name, kind=SettingKind(kind), timezone=timezone, quiet_start=quiet_start,
            quiet_end=quiet_end))
    typer.echo(f"Added setting {setting.id}: {name}")


@admin_app.command("edit-setting")
def edit_setting(
    setting_id: Annotated[int, typer.Option("--setting")],
    name: Annotated[str | None, typer.Option(help="A new name")] = None,
    kind: Annotated[str | None, typer.Option(help="A new kind")] = None,
    timezone: Annotated[str | None, typer.Option(help="A time zone name, like Europe/London")] = None,
    quiet_start: Annotated[str | None, typer.Option(help="Quiet hours start, HH:MM")] = None,
    quiet_end: Annotated[str | None, typer.Option(help="Quiet hours end, HH:MM")] = None,
    delete_chat: Annotated[bool | None, typer.Option(
        "--delete-chat/--keep-chat", help="Delete a debrief's questions from the chat after submit")]
    = None,
) -> None:
    """Change a setting's name, kind, time zone, quiet hours or chat clean-up (checked first)."""
    from storage import crud
    from storage.db import session_scope
    from storage.models import SettingKind

    if kind is not None and kind not in SettingKind.__members__:
        raise _fail(f"Unknown kind {kind!r}. Choose one of: {', '.join(SettingKind)}")
    _prepare_database()
    with session_scope() as session:
        setting = crud.get_setting(session, setting_id=setting_id)
        if setting is None:
            raise _fail(f"No setting {setting_id}. See `flourish admin list`.")
        _schedule(timezone=timezone or setting.timezone,
                  quiet_start=quiet_start or setting.quiet_start,
                  quiet_end=quiet_end or setting.quiet_end)
        changed = []
        for field, value in (("name", _name(name) if name is not None else None),
                             ("kind", SettingKind(kind) if kind is not None else None),
                             ("timezone", timezone), ("quiet_start", quiet_start),
                             ("quiet_end", quiet_end), ("delete_chat_after_submit", delete_chat)):
            if value is not None and getattr(setting, field) != value:
                setattr(setting, field, value)
                changed.append(field)
        if not changed:
            typer.echo(f"Setting {setting_id} already had those values; nothing changed.")
            return
        session.add(setting)
        crud.record_audit(session, actor_id=None, action="setting_edited", object_type="setting",
                          object_id=setting_id, detail={"fields": changed})
    typer.echo(f"Changed setting {setting_id}: {', '.join(changed)}.")


@admin_app.command("add-child")
def add_child(
    setting_id: Annotated[int, typer.Option("--setting")],
    name: Annotated[str, typer.Option(help="A pseudonymous display name, not a full name")],
    key_worker_id: Annotated[int | None, typer.Option("--key-worker")] = None,
    communication: Annotated[str | None, typer.Option(help="How the child communicates")] = None,
) -> None:
    """Add a child to a setting."""
    from storage import crud
    from storage.db import session_scope
    from storage.models import ChildCreate, Role

    name = _name(name)
    _prepare_database()
    with session_scope() as session:
        if crud.get_setting(session, setting_id=setting_id) is None:
            raise _fail(f"No setting {setting_id}.")
        if key_worker_id is not None and key_worker_id not in {
                p.id for p in crud.list_people(session, setting_id=setting_id,
                                               roles=(Role.staff, Role.manager))}:
            raise _fail(f"No staff member {key_worker_id} in setting {setting_id} to be the key "
                        "worker. See `flourish admin list`.")
        child = crud.create_child(session, data=ChildCreate(
            setting_id=setting_id, display_name=name, key_worker_id=key_worker_id,
            communication_needs=communication))
    typer.echo(f"Added child {child.id}")


@admin_app.command("add-person")
def add_person(
    setting_id: Annotated[int, typer.Option("--setting")],
    name: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="staff, manager or admin")] = "staff",
) -> None:
    """Add a member of staff, a manager or an admin."""
    from storage import crud
    from storage.db import session_scope
    from storage.models import PersonCreate, Role

    if role not in ("staff", "manager", "admin"):
        raise _fail("Role must be staff, manager or admin.")
    name = _name(name)
    _prepare_database()
    with session_scope() as session:
        if crud.get_setting(session, setting_id=setting_id) is None:
            raise _fail(f"No setting {setting_id}.")
        person = crud.create_person(session, data=PersonCreate(
            setting_id=setting_id, display_name=name, role=Role(role)))
    typer.echo(f"Added person {person.id}")


@admin_app.command("list")
def list_all() -> None:
    """List settings, people and children (ids and display names)."""
    from storage import crud
    from storage.db import session_scope

    _prepare_database()
    with session_scope() as session:
        for setting in crud.list_settings(session):
            assert setting.id is not None
            typer.echo(f"setting {setting.id}: {setting.name} ({setting.kind})")
            for person in crud.list_people(session, setting_id=setting.id):
                enrolled = "enrolled" if person.telegram_user_id else "not enrolled"
                typer.echo(f"  person {person.id}: {person.display_name} [{person.role}] "
                           f"{enrolled}")
            for child in crud.list_children(session, setting_id=setting.id):
                typer.echo(f"  child {child.id}: {child.display_name}")


@admin_app.command("invite")
def invite(
    setting_id: Annotated[int, typer.Option("--setting")],
    role: Annotated[str, typer.Option(help="staff, manager, admin or child")] = "staff",
    name: Annotated[str | None, typer.Option(help="Name of a new person to invite")] = None,
    person_id: Annotated[int | None, typer.Option("--person", help="Invite an existing person")] = None,
    child_id: Annotated[int | None, typer.Option("--child", help="For --role child")] = None,
    bot_username: Annotated[str | None, typer.Option(help="The bot's @username for the link")] = None,
) -> None:
    """Create a single-use invite code and its deep link."""
    from storage import crud
    from storage.db import session_scope
    from storage.models import PersonCreate, Role

    if role not in Role.__members__:
        raise _fail("Role must be staff, manager, admin or child.")
    if role == "child" and child_id is None and person_id is None:
        raise _fail("A child invite needs --child ID.")
    if name is not None:
        name = _name(name)
    config = get_config()
    _prepare_database()
    with session_scope() as session:
        if crud.get_setting(session, setting_id=setting_id) is None:
            raise _fail(f"No setting {setting_id}.")
        if child_id is not None and child_id not in {
                c.id for c in crud.list_children(session, setting_id=setting_id)}:
            raise _fail(f"No child {child_id} in setting {setting_id}. See `flourish admin list`.")
        if person_id is not None:
            person = crud.get_person(session, person_id=person_id)
            if person is None or person.setting_id != setting_id:
                raise _fail(f"No person {person_id} in setting {setting_id}.")
        else:
            person = crud.create_person(session, data=PersonCreate(
                setting_id=setting_id, display_name=name or f"New {role}", role=Role(role),
                child_id=child_id))
        assert person.id is not None
        code = crud.create_invite(session, person_id=person.id,
                                  ttl=timedelta(hours=config.invite_ttl_hours))
    username = bot_username or _bot_username()
    typer.echo(f"Invite code: {code}  (single use, expires in {config.invite_ttl_hours} h)")
    typer.echo(f"Link: https://t.me/{username}?start={code}")


def _bot_username() -> str:
    """The bot's username from Telegram (getMe), or a placeholder without a token."""
    config = get_config()
    if config.telegram_bot_token is None:
        return "<your_bot>"
    from bot.telegram import fetch_bot_username

    try:
        return fetch_bot_username(config)
    except Exception as exc:  # any network or API failure: the code is still valid
        typer.secho(f"Could not ask Telegram for the bot's name ({type(exc).__name__}); "
                    "use --bot-username.", err=True)
        return "<your_bot>"


def _add_admin_commands() -> None:
    from bot.cli_admin import register

    register(admin_app, prepare=_prepare_database)


_add_admin_commands()


def main() -> None:
    try:
        logging.basicConfig(level=get_config().log_level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        for noisy in ("alembic", "httpx", "apscheduler"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        app()
    except Exception as exc:  # an operator's mistake or a broken environment: one line, exit 1
        from bot.cli_admin import one_line

        typer.secho(one_line(exc), fg=typer.colors.RED, err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
