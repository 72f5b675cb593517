"""Every migration runs up and down, one step at a time, on SQLite and PostgreSQL, and the schema
it leaves at the top is the one the models describe (so an upgrade never loses a table or column)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (the tables, for SQLModel.metadata)
from storage.migrate import downgrade, head_revision, revisions, upgrade


def tables_and_columns(engine: Engine) -> dict[str, set[str]]:
    inspector = sa.inspect(engine)
    return {name: {c["name"] for c in inspector.get_columns(name)}
            for name in inspector.get_table_names() if name != "alembic_version"}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def test_every_migration_goes_down_and_up_again(db_engine: Engine) -> None:
    steps = revisions()
    assert len(steps) >= 5
    top = tables_and_columns(db_engine)
    downgrade(db_engine, "base")
    assert tables_and_columns(db_engine) == {}
    for number, revision in enumerate(steps):
        upgrade(db_engine, revision)
        assert current_revision(db_engine) == revision
        here = tables_and_columns(db_engine)
        if number:
            downgrade(db_engine, "-1")
            assert current_revision(db_engine) == steps[number - 1]
            upgrade(db_engine, revision)
        assert tables_and_columns(db_engine) == here, f"{revision} did not come back the same"
    assert tables_and_columns(db_engine) == top


def test_the_migrated_schema_is_the_models_schema(db_engine: Engine) -> None:
    expected = {table.name: {c.name for c in table.columns}
                for table in SQLModel.metadata.sorted_tables}
    assert tables_and_columns(db_engine) == expected


def test_the_quick_head_check_agrees_with_alembic(db_engine: Engine) -> None:
    """Start-up skips Alembic when the database is at the head read from the migration files."""
    assert head_revision() == revisions()[-1]
    assert current_revision(db_engine) == head_revision()
    downgrade(db_engine, "-1")
    upgrade(db_engine)  # not at the head: Alembic runs and brings it there
    assert current_revision(db_engine) == head_revision()
