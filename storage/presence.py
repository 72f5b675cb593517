"""Which workers are running on this database, so start-up recovery runs once, not on every
restart of one of several workers.

Each worker holds a shared PostgreSQL advisory lock for as long as it runs, on a connection of its
own (the server releases it the moment the process dies). A worker starting up first tries the
same lock exclusively: it gets it only if no other worker is running, and then the start-up
recovery (chat clean-ups and summaries a crash interrupted) is its to do. On SQLite there is one
process, which always recovers.
"""

from __future__ import annotations

import contextlib
import logging

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)
_KEY = ("SELECT hashtextextended('flourish-workers:' || current_database() || ':' "
        "|| current_schema(), 0)")


class Presence:
    """This worker's presence on the database (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None

    def join(self) -> bool:
        """Mark this worker as running; True if no other worker was (recovery is then ours)."""
        if self.engine.dialect.name != "postgresql":
            return True
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        key = conn.execute(sa.text(_KEY)).scalar()
        alone = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
                     .scalar())
        conn.execute(sa.text("SELECT pg_advisory_lock_shared(:key)"), {"key": key})
        if alone:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        self._conn = conn
        return alone

    def leave(self) -> None:
        """This worker stops: its connection is closed, not pooled, so its locks go with it."""
        if self._conn is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                self._conn.invalidate()
                self._conn.close()
            self._conn = None
