"""Exactly once across crashes: `flourish run` killed with SIGKILL while nudges are being sent, and
two bot processes sharing PostgreSQL. Every due nudge is counted at the Bot API stand-in.

The bot is killed at the worst moment: the stand-in has accepted (counted) a nudge and the bot has
not yet heard back, so it could not record the message id. On restart that row is settled as sent
("unconfirmed", never repeated) and everything else still due goes out once.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from followup_helpers import KillingStandIn, followup_id_of, sends
from sqlmodel import select
from support.bot_process import BotProcess

from storage import crud
from storage import followups as store
from storage.db import session_scope
from storage.models import FollowUp, PersonCreate, Role, SettingCreate, SettingKind
from storage.types import utcnow


@pytest.fixture
def bot_env(telegram_env: dict[str, str]) -> dict[str, str]:
    return {**telegram_env, "NLU_BACKEND": "spacy", "PYTHONUNBUFFERED": "1",
            "FOLLOWUPS_SWEEP_SECONDS": "1", "FOLLOWUPS_LEADER_POLL_SECONDS": "0.5"}


@pytest.fixture
def bots() -> Iterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for bot in started:
        bot.kill()


def seed_due(*, chats: int, per_chat: int) -> list[int]:
    """`chats` enrolled staff, each owed `per_chat` nudges due a minute ago (quiet hours off)."""
    now = utcnow()
    ids = []
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name="Crash House", kind=SettingKind.children_home, quiet_start="00:00",
            quiet_end="00:00"))
        assert setting.id is not None
        people = []
        for number in range(chats):
            person = crud.create_person(session, data=PersonCreate(
                setting_id=setting.id, display_name=f"Staff {number} Test", role=Role.staff))
            person.telegram_user_id = 7000 + number
            people.append(person)
        session.flush()
        for round_ in range(per_chat):
            for person in people:
                assert person.id is not None
                row = store.add_followup(
                    session, kind="reflection", person_id=person.id, setting_id=setting.id,
                    due_at=now - timedelta(minutes=1), key=f"crash:{person.id}:{round_}")
                assert row is not None
                session.flush()
                assert row.id is not None
                ids.append(row.id)
    return ids


def delivered(api: KillingStandIn) -> Counter[int]:
    return Counter(i for i in (followup_id_of(c) for c in sends(api)) if i is not None)


async def wait_for(predicate: object, *, within: float, what: str, bots: list[BotProcess]) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    logs = "\n---\n".join(b.output()[-3000:] for b in bots)
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def rows_by_id() -> dict[int, FollowUp]:
    with session_scope() as session:
        return {r.id: r for r in session.exec(select(FollowUp)) if r.id is not None}


async def test_sigkill_while_sending_then_restart_delivers_every_nudge_exactly_once(
    standin: KillingStandIn, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess]
) -> None:
    ids = seed_due(chats=30, per_chat=3)
    bots.append(BotProcess(bot_env, tmp_path / "first.log"))
    standin.victim, standin.kill_at = bots[0].proc, 25
    bots[0].proc.wait(timeout=90)
    assert bots[0].proc.returncode == -signal.SIGKILL, bots[0].output()
    assert standin.killed_after == 25
    before = delivered(standin)
    assert sum(before.values()) == 25
    assert max(before.values()) == 1
    in_doubt = followup_id_of(sends(standin)[-1])
    assert rows_by_id()[in_doubt].state == store.SENDING  # accepted, but the id never recorded

    bots.append(BotProcess(bot_env, tmp_path / "second.log"))
    await wait_for(lambda: len(delivered(standin)) == len(ids), within=90,
                   what="every nudge after the restart", bots=bots)
    await asyncio.sleep(2.5)  # two more sweeps: nothing else may arrive
    counts = delivered(standin)
    assert set(counts) == set(ids)
    assert [i for i, n in counts.items() if n != 1] == []
    rows = rows_by_id()
    assert rows[in_doubt].state == store.UNCONFIRMED  # settled as sent, not repeated
    assert all(rows[i].state == store.SENT for i in ids if i != in_doubt)
    assert all(rows[i].telegram_message_id for i in ids if i != in_doubt)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_bots_on_postgres_one_leader_the_other_takes_over_without_duplicates(
    standin: KillingStandIn, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess]
) -> None:
    ids = seed_due(chats=20, per_chat=15)  # about 15 s of sending at one a second per chat
    bots.append(BotProcess(bot_env, tmp_path / "one.log"))
    bots.append(BotProcess(bot_env, tmp_path / "two.log"))
    # Both are up when both have set their command menus (just before their schedulers start).
    await wait_for(lambda: len(standin.calls_of("setMyCommands")) >= 2 * 21, within=90,
                   what="both bots started", bots=bots)
    await wait_for(lambda: len(delivered(standin)) >= 5, within=60, what="sending", bots=bots)
    await asyncio.sleep(1.0)
    claimers = {r.claimed_by.split(":")[1] for r in rows_by_id().values() if r.claimed_by}
    assert len(claimers) == 1, f"more than one process sent: {claimers}"
    leader = next(b for b in bots if str(b.proc.pid) in claimers)
    follower = next(b for b in bots if b is not leader)
    bots[:] = [leader, follower]
    assert follower.proc.poll() is None
    a_pid, b_pid = leader.proc.pid, follower.proc.pid
    assert len(delivered(standin)) < len(ids), "the leader finished before the test could kill it"

    killed_at = datetime.now().astimezone()
    standin.victim, standin.kill_at = bots[0].proc, len(sends(standin)) + 1
    bots[0].proc.wait(timeout=30)
    assert bots[0].proc.returncode == -signal.SIGKILL
    await wait_for(lambda: len(delivered(standin)) == len(ids), within=90,
                   what="B to take over and finish", bots=bots)
    await asyncio.sleep(2.0)
    counts = delivered(standin)
    assert set(counts) == set(ids)
    assert [i for i, n in counts.items() if n != 1] == []
    rows = rows_by_id()
    by_a = [r for r in rows.values() if f":{a_pid}:" in (r.claimed_by or "")]
    by_b = [r for r in rows.values() if f":{b_pid}:" in (r.claimed_by or "")]
    assert by_a
    assert by_b
    assert len(by_a) + len(by_b) == len(ids)
    assert all(r.claimed_at is not None and r.claimed_at >= killed_at for r in by_b)
    assert sum(1 for r in rows.values() if r.state == store.UNCONFIRMED) == 1
