"""Start-up recovery runs once, not on every restart of one of several workers: a worker starting
while another is running on the same PostgreSQL schema is told so; when every worker has gone
(stopped, or killed: the server drops its connection), the next one recovers again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage.presence import Presence

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


def test_only_a_worker_starting_alone_recovers(db_engine: Engine) -> None:
    first, second = Presence(db_engine), Presence(db_engine)
    assert first.join() is True
    assert second.join() is False  # the first is running
    first.leave()
    third = Presence(db_engine)
    assert third.join() is False  # the second still is
    second.leave()
    third.leave()
    survivor = Presence(db_engine)
    assert survivor.join() is True
    survivor.leave()


def test_a_worker_whose_connection_died_no_longer_counts(db_engine: Engine) -> None:
    dead = Presence(db_engine)
    assert dead.join() is True
    assert dead._conn is not None
    pid = dead._conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    with db_engine.connect() as conn:  # as when its process is killed: the server ends it
        # (waiting up to 10 s for the backend to be gone: the signal alone returns at once)
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid, 10000)"),
                            {"pid": pid}).scalar()
    restarted = Presence(db_engine)
    assert restarted.join() is True
    restarted.leave()
