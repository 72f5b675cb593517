"""Schema migrations (Alembic), run from code so `flourish db upgrade` and tests share one path.

Alembic is imported only when there is something to migrate: a database already at the head
revision (read from the migration files) is checked with one query, which keeps start-up quick.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage.db import get_engine
from storage.keys import ensure_key

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^(down_revision|revision)(?:: [^=]+)? = (?:['\"]([0-9a-f]+)['\"]|None)", re.M)


def alembic_config() -> AlembicConfig:
    """Alembic's configuration, pointing at the migrations inside this package."""
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@cache
def head_revision() -> str | None:
    """The newest revision, read from the migration files (the one no other revision follows)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if value:
                (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine | None = None, revision: str = "head") -> None:
    """Bring the database schema up to `revision`; at the head, check the key against the data."""
    engine = engine or get_engine()
    if revision != "head" or head_revision() is None or current_revision(engine) != head_revision():
        from alembic import command

        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    if revision == "head":
        ensure_key(engine)


def revision(message: str) -> None:
    """Autogenerate a new migration against the configured database (for developers)."""
    from alembic import command

    command.revision(alembic_config(), message=message, autogenerate=True)


def downgrade(engine: Engine | None = None, revision: str = "-1") -> None:
    """Take the database schema down to `revision` (`base` for nothing, `-1` for one step)."""
    from alembic import command

    config = alembic_config()
    with (engine or get_engine()).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]
