"""One held lock must not freeze everyone: writers give up with a timeout the bot can explain,
and readers carry on, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage import crud
from storage.config import get_config
from storage.db import get_engine, is_timeout, session_scope
from storage.models import PersonCreate, Role, SettingCreate, SettingKind


def _rename(setting_id: int) -> None:
    with session_scope() as session:
        found = crud.get_setting(session, setting_id=setting_id)
        assert found is not None
        found.name = "Oak's End (renamed)"
        session.add(found)
        session.flush()


@pytest.fixture
def short_timeouts(flourish_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("DB_LOCK_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_SECONDS", "1")
    get_engine().dispose()
    get_config.cache_clear()
    get_engine.cache_clear()
    return get_engine()


def test_a_held_lock_times_out_writers_honestly_and_readers_carry_on(
    short_timeouts: Engine,
) -> None:
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name="Oak's End", kind=SettingKind.children_home))
        assert setting.id is not None
        setting_id = setting.id
        crud.create_person(session, data=PersonCreate(
            setting_id=setting_id, display_name="Dara O'Shea", role=Role.staff))
    holder = short_timeouts.connect()
    transaction = holder.begin()
    holder.execute(sa.text("UPDATE setting SET name = name WHERE id = :id"), {"id": setting_id})
    safety = threading.Timer(30, transaction.rollback)  # never hang the suite if timeouts fail
    safety.start()
    try:
        with pytest.raises(sa.exc.OperationalError) as caught:
            _rename(setting_id)
        assert is_timeout(caught.value), caught.value
        with session_scope() as session:  # a reader, like /privacy, is not held up
            assert [p.display_name for p in crud.list_people(session, setting_id=setting_id)] == [
                "Dara O'Shea"]
    finally:
        safety.cancel()
        transaction.rollback()
        holder.close()


def test_a_slow_statement_is_stopped_on_postgresql(short_timeouts: Engine) -> None:
    if short_timeouts.dialect.name != "postgresql":
        with short_timeouts.connect() as conn:
            assert conn.execute(sa.text("PRAGMA busy_timeout")).scalar() == 1000
        return
    with short_timeouts.connect() as conn:
        assert conn.execute(sa.text("SHOW lock_timeout")).scalar() == "1s"
        with pytest.raises(sa.exc.OperationalError) as caught:
            conn.execute(sa.text("SELECT pg_sleep(5)"))
    assert is_timeout(caught.value)
    assert not is_timeout(ValueError("disk is full"))
