"""The `flourish` command: run the bot, chat in a terminal, administer, export, and the NLU."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bot.followups_cli import app as followups_app
from nlu.result import Interpreter
from storage.config import get_config

app = typer.Typer(help="Flourish: reflective debriefs after restraint or restriction.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
admin_app = typer.Typer(help="Settings, children, people and invite codes.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(followups_app, name="followups")


def _add_nlu_commands() -> None:
    from nlu.cli import app as nlu_app

    app.add_typer(nlu_app, name="nlu")


_add_nlu_commands()


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _prepare_database() -> None:
    from storage.migrate import upgrade

    upgrade()


# --- db -----------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    _prepare_database()
    typer.echo("Database is up to date.")


# --- chat ---------------------------------------------------------------------------------------


@app.command()
def chat(
    person_id: Annotated[int | None, typer.Option("--person", help="Talk as this person id")] = None,
    command: Annotated[str | None, typer.Option(
        "--command", help="Open with this command: debrief, review, childview or tell "
                          "(default: tell for a child, else debrief)")] = None,
    plain: Annotated[bool, typer.Option(help="Use plain words only, without the NLU")] = False,
) -> None:
    """Try Flourish in this terminal (every flow, as any person), on the local database with demo data."""
    from bot.console import run_chat
    from bot.services.conversations import Conversations
    from bot.services.demo import seed_demo
    from storage import crud
    from storage.db import session_scope
    from storage.models import Role

    _prepare_database()
    with session_scope() as session:
        if not crud.list_settings(session):
            seed_demo(session)
            typer.echo("Created a demo home with synthetic names (Oak House).")
        if person_id is not None:
            person = crud.get_person(session, person_id=person_id)
        else:
            settings = crud.list_settings(session)
            staff = crud.list_people(session, setting_id=settings[0].id or 0, roles=(Role.staff,))
            person = staff[0] if staff else None
    if person is None:
        raise _fail("No such person. See `flourish admin list`.")
    interpreter = None if plain else _interpreter()
    raise typer.Exit(run_chat(person=person, conversations=Conversations(interpreter=interpreter),
                              command=command))


def _interpreter(*, background: bool = False) -> Interpreter:
    from nlu.backends import get_interpreter

    config = get_config()
    return get_interpreter(config.nlu_backend, rasa_url=config.rasa_url, background=background)


# --- run ----------------------------------------------------------------------------------------


@app.command()
def run(
    webhook_url: Annotated[str | None, typer.Option(help="Public HTTPS URL for webhook mode")] = None,
    listen: Annotated[str, typer.Option(help="Webhook listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Webhook listen port")] = 8443,
    secret_token: Annotated[str | None, typer.Option(
        help="Webhook secret Telegram must send (default: derived from the bot token)")] = None,
) -> None:
    """Run the Telegram bot (polling, or a webhook with --webhook-url)."""
    config = get_config()
    if config.telegram_bot_token is None:
        typer.echo(
            "TELEGRAM_BOT_TOKEN is not set.\n"
            "To get one: open Telegram, talk to @BotFather, send /newbot and follow the steps,\n"
            "then run:  TELEGRAM_BOT_TOKEN=<token> flourish run\n"
            "To try the debrief without Telegram:  flourish chat"
        )
        raise typer.Exit(code=2)
    _prepare_database()
    from bot.telegram import run_bot

    # The NLU loads while the bot connects (after the bot's own imports, so they don't compete):
    # buttons and commands are answered at once, and the first free-text answer waits for it.
    run_bot(config=config, interpreter=_interpreter(background=True), webhook_url=webhook_url,
            listen=listen, port=port, secret_token=secret_token)


# --- export -------------------------------------------------------------------------------------


@app.command()
def export(
    format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.json,
    setting_id: Annotated[int | None, typer.Option("--setting")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Export incidents and their debriefs for inspection."""
    from bot.services.export import export_records, to_csv, to_json
    from storage.db import session_scope

    _prepare_database()
    with session_scope() as session:
        records = export_records(session, setting_id=setting_id)
    text = to_json(records) if format is ExportFormat.json else to_csv(records)
    if output is None:
        sys.stdout.write(text + ("\n" if not text.endswith("\n") else ""))
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {len(records)} incidents to {output}")


# --- admin --------------------------------------------------------------------------------------


@admin_app.command("add-setting")
def add_setting(
    name: Annotated[str, typer.Option(help="The setting's name")],
    kind: Annotated[str, typer.Option(help="children_home, residential_special_school, "
                                           "secure_children_home or school")],
    timezone: Annotated[str, typer.Option()] = "Europe/London",
) -> None:
    """Add a setting (a home or a school)."""
    from storage import crud
    from storage.db import session_scope
    from storage.models import SettingCreate, SettingKind

    if kind not in SettingKind.__members__:
        raise _fail(f"Unknown kind {kind!r}. Choose one of: {', '.join(SettingKind)}")
    _prepare_database()
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name=name, kind=SettingKind(kind), timezone=timezone))
    typer.echo(f"Added setting {setting.id}: {name}")


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
    from storage.models import ChildCreate

    _prepare_database()
    with session_scope() as session:
        if crud.get_setting(session, setting_id=setting_id) is None:
            raise _fail(f"No setting {setting_id}.")
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
    config = get_config()
    _prepare_database()
    with session_scope() as session:
        if crud.get_setting(session, setting_id=setting_id) is None:
            raise _fail(f"No setting {setting_id}.")
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


def main() -> None:
    logging.basicConfig(level=get_config().log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "httpx", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    app()


if __name__ == "__main__":
    main()
