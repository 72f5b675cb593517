"""`flourish followups ...`: see and change a setting's follow-up schedule, and what is waiting."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Follow-ups: the regulation-35 reminders, nudges and escalations.",
                  no_args_is_help=True)


@app.command("policy")
def policy(
    setting_id: Annotated[int, typer.Option("--setting")],
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="NAME=VALUE, e.g. review_reminder=30h, debrief_reminder=2h,8h, "
                      "digest_day=friday, digest_time=16:00, snooze=90m")] = None,
    reset: Annotated[bool, typer.Option(help="Go back to the default schedule")] = False,
) -> None:
    """Show a setting's follow-up schedule, or change it with --set (checked before it is saved)."""
    from bot.followups import planner
    from bot.followups.schedule import Kind, PolicyError, format_duration
    from storage import crud
    from storage import followups as store
    from storage.db import session_scope
    from storage.migrate import upgrade

    upgrade()
    with session_scope() as session:
        if crud.get_setting(session, setting_id=setting_id) is None:
            typer.secho(f"No setting {setting_id}.", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=1)
        overrides = {} if reset else store.policy_overrides(session, setting_id=setting_id)
        for item in set_ or []:
            name, _, value = item.partition("=")
            if not value:
                typer.secho(f"{item!r}: use NAME=VALUE", fg=typer.colors.RED, err=True)
                raise typer.Exit(code=1)
            overrides[name.strip()] = [v.strip() for v in value.split(",")] if "," in value \
                else value.strip()
        try:
            current = planner.policy_for(session, setting_id=setting_id).with_overrides(overrides)
        except PolicyError as exc:
            typer.secho(str(exc), fg=typer.colors.RED, err=True)
            raise typer.Exit(code=1) from None
        if set_ or reset:
            store.set_policy_overrides(session, setting_id=setting_id, overrides=overrides)
    typer.echo(f"Time zone {current.timezone}; quiet hours {current.quiet_start:%H:%M}-"
               f"{current.quiet_end:%H:%M} (safeguarding alerts are never held)")
    for kind in Kind:
        offsets = current.offsets.get(kind)
        if offsets:
            typer.echo(f"  {kind.value:<22} T0 + " + ", ".join(format_duration(o) for o in offsets))
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    typer.echo(f"  {'digest':<22} {days[current.digest_weekday]} {current.digest_time:%H:%M}")
    typer.echo(f"  {'snooze':<22} {format_duration(current.snooze)}")


@app.command("status")
def status() -> None:
    """How many follow-ups are in each state, and when the next one is due."""
    from storage import followups as store
    from storage.db import session_scope
    from storage.migrate import upgrade

    upgrade()
    with session_scope() as session:
        counts = store.counts_by_state(session)
        next_due = store.next_due_at(session)
    for state, count in sorted(counts.items()):
        typer.echo(f"{state:<14} {count}")
    typer.echo(f"next due: {next_due:%Y-%m-%d %H:%M} UTC" if next_due else "nothing pending")
