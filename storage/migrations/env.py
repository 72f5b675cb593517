"""Alembic environment: migrates the configured database (or the connection handed in)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import storage.insights  # registers the insights tables
import storage.models  # registers the tables
import storage.web  # noqa: F401  (the dashboard's tables)
from storage.db import get_engine

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    with get_engine().connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
