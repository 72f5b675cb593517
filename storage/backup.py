"""Backups of the PostgreSQL database, with PostgreSQL's own tools (`pg_dump`, `pg_restore`).

A backup is one file in pg_dump's custom format, readable by its owner only. Free text in it is
still encrypted: a restore is only useful with the same `FLOURISH_SECRET_KEY` (keep the key
somewhere else than the backups). When `DATABASE_URL` sets a schema (`options=-csearch_path=...`),
only that schema is backed up and restored, so other schemas in the same database are untouched.
The password travels in `PGPASSWORD`, never on a command line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import sqlalchemy as sa

from storage.db import normalise_url

_SEARCH_PATH = re.compile(r"-c\s*search_path=([A-Za-z0-9_]+)")


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message is one line, without the password."""


def _target(database_url: str) -> tuple[str, dict[str, str], str | None]:
    """pg_dump's connection URI (no driver, no password), its environment, and the schema."""
    url = sa.engine.make_url(normalise_url(database_url))
    if url.get_backend_name() != "postgresql":
        raise BackupError("Backups here are for PostgreSQL. For SQLite, copy the database file "
                          "while Flourish is stopped (or use `sqlite3 flourish.db .backup FILE`).")
    options = str(url.query.get("options", ""))
    found = _SEARCH_PATH.search(options)
    env = {**os.environ}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    keep = {k: v for k, v in url.query.items() if k in ("sslmode", "sslrootcert", "options")}
    plain = url.set(drivername="postgresql", password=None, query=keep)
    return plain.render_as_string(hide_password=False), env, found.group(1) if found else None


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt install postgresql-client).")
    done = subprocess.run([tool, *command[1:]], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{what} failed: {last}")


def backup(database_url: str, output: Path) -> Path:
    """Write a backup of the database (or of its schema) to `output`, owner-only."""
    uri, env, schema = _target(database_url)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.touch(mode=0o600)
    output.chmod(0o600)
    command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={output}"]
    if schema is not None:
        command.append(f"--schema={schema}")
    _run([*command, uri], env, "pg_dump")
    return output


def restore(database_url: str, source: Path) -> None:
    """Replace the database's Flourish tables (or its schema) with those in a backup, in one
    transaction: if anything fails, nothing changes."""
    if not source.is_file():
        raise BackupError(f"No backup at {source}.")
    uri, env, _ = _target(database_url)
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--exit-on-error", "--single-transaction", f"--dbname={uri}", str(source)],
         env, "pg_restore")
