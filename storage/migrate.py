"""Schema migrations (Alembic), run from code so `flourish db upgrade` and tests share one path."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Engine

from storage.db import get_engine
from storage.keys import ensure_key

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> AlembicConfig:
    """Alembic's configuration, pointing at the migrations inside this package."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine | None = None, revision: str = "head") -> None:
    """Bring the database schema up to `revision`; at the head, check the key against the data."""
    config = alembic_config()
    engine = engine or get_engine()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    if revision == "head":
        ensure_key(engine)


def revision(message: str) -> None:
    """Autogenerate a new migration against the configured database (for developers)."""
    command.revision(alembic_config(), message=message, autogenerate=True)


def downgrade(engine: Engine | None = None, revision: str = "-1") -> None:
    """Take the database schema down to `revision` (`base` for nothing, `-1` for one step)."""
    config = alembic_config()
    with (engine or get_engine()).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]
