"""Database engines and sessions for SQLite (default) and PostgreSQL (`DATABASE_URL`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.config import get_config


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain `postgresql://` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(get_config().db_lock_timeout_seconds * 1000)}")
    cursor.close()


def _postgres_timeouts(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
    """Every PostgreSQL session gives up on a statement or a lock wait after the configured time."""
    config = get_config()
    timeouts = (f"-c statement_timeout={int(config.db_statement_timeout_seconds * 1000)} "
                f"-c lock_timeout={int(config.db_lock_timeout_seconds * 1000)}")
    params["options"] = f"{params.get('options', '')} {timeouts}".strip()


def is_timeout(exc: BaseException) -> bool:
    """Whether a database error means "gave up waiting" (a statement or lock timeout, or SQLite
    busy), so the person can be told honestly that it didn't save and to send it again."""
    if not isinstance(exc, sa.exc.OperationalError):
        return False
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("57014", "55P03") or "database is locked" in str(exc.orig)


def is_disconnect(exc: BaseException) -> bool:
    """Whether a database error means the connection was lost (the server restarted, or the
    connection was cut): nothing of that transaction was stored, and trying again can work."""
    return isinstance(exc, sa.exc.DBAPIError) and bool(exc.connection_invalidated)


def _create_private_file(path: Path) -> None:
    """Create the SQLite file (and its directory) owner-only; SQLite gives its WAL the same mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str) -> Engine:
    """An engine for `url`, creating the SQLite file's directory if needed."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            _create_private_file(Path(path))
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    size = get_config().db_pool_size
    engine = sa.create_engine(url, pool_pre_ping=True, pool_size=size, max_overflow=size)
    if engine.dialect.name == "postgresql":
        sa.event.listen(engine, "do_connect", _postgres_timeouts)
    return engine


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    return make_engine(get_config().resolved_database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def ping(session: Session) -> None:
    """Ask the database to answer (a health check); raises if it cannot."""
    session.execute(sa.text("SELECT 1"))
