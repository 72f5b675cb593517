"""The alarm clock: APScheduler wakes the deliverer at the next due time, and sweeps regularly.

The database holds every follow-up; this module only decides *when to look*. On start it settles
rows a dead sender left claimed, then delivers everything that fell due while the bot was down
(held to the end of quiet hours if need be). Only one process sends at a time: on PostgreSQL the
leader holds `pg_try_advisory_lock` on a dedicated connection (released by the server the moment
that process dies, so a follower's next poll takes over); on SQLite an exclusive lock on a file
beside the database does the same for processes on one machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Connection, Engine

from bot.followups import planner
from bot.followups.delivery import Deliverer, DeliveryReport, Sender
from bot.followups.limiter import RateLimiter
from bot.followups.messages import PatternNotes
from bot.followups.schedule import Clock, system_clock
from storage import followups as store
from storage.db import session_scope
from storage.retention import apply_retention

log = logging.getLogger(__name__)
RETENTION_EVERY = timedelta(days=1)

LOCK_NAME = "flourish-followups"


class Leadership:
    """Whether this process is the one that sends follow-ups."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._file: IO[bytes] | None = None
        self.is_leader = False

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        """Become the leader if nobody else is; True if this process is (or already was)."""
        if self.is_leader:
            return self.still_leader()
        if self.postgres:
            self.is_leader = self._acquire_pg()
        else:
            self.is_leader = self._acquire_file()
        if self.is_leader:
            log.info("this process now sends follow-ups")
        return self.is_leader

    def still_leader(self) -> bool:
        """Check the lock is still ours (on PostgreSQL, that its connection is alive)."""
        if not self.is_leader:
            return False
        if self._conn is None:
            return True
        try:
            self._conn.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError:
            log.warning("lost the follow-up leader lock's connection")
            self._drop_conn()
            self.is_leader = False
        return self.is_leader

    def release(self) -> None:
        """Stop being the leader."""
        if self._conn is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                self._conn.execute(sa.text("SELECT pg_advisory_unlock_all()"))
            self._drop_conn()
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        self.is_leader = False

    def _acquire_pg(self) -> bool:
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = self._conn.execute(sa.text(
                "SELECT pg_try_advisory_lock(hashtextextended(:name || current_database() || ':' "
                "|| current_schema(), 0))"), {"name": LOCK_NAME + ":"}).scalar()
        except sa.exc.DBAPIError:
            self._drop_conn()
            return False
        return bool(got)

    def _drop_conn(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.invalidate()
                self._conn.close()
        self._conn = None

    def _acquire_file(self) -> bool:
        database = self.engine.url.database
        if not database or database == ":memory:":
            return True
        if self._file is None:
            self._file = Path(f"{database}.followups.lock").open("ab")  # noqa: SIM115
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


class FollowUpScheduler:
    """Runs inside the bot process: leader election, reconcile, deliver, and wake at the next due."""

    def __init__(
        self,
        *,
        engine: Engine,
        sender: Sender,
        clock: Clock = system_clock,
        sweep_seconds: float = 30.0,
        leader_poll_seconds: float = 5.0,
        limiter: RateLimiter | None = None,
        patterns: PatternNotes | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.sweep_seconds = sweep_seconds
        self.leader_poll_seconds = leader_poll_seconds
        self.leadership = Leadership(engine)
        self.deliverer = Deliverer(engine=engine, sender=sender, clock=clock, limiter=limiter,
                                   still_leader=self.leadership.still_leader, patterns=patterns)
        self._lock = asyncio.Lock()
        self._again = False
        self._reconciled = False
        self._retention_at: datetime | None = None  # the leader applies retention once a day
        self._scheduler: AsyncIOScheduler | None = None
        self._ticks: set[asyncio.Task[DeliveryReport | None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.total = DeliveryReport()

    async def start(self) -> None:
        """Start the alarm clock: a first tick now, a sweep every `sweep_seconds`."""
        self._loop = asyncio.get_running_loop()
        scheduler = AsyncIOScheduler(timezone=UTC, event_loop=self._loop)
        scheduler.add_job(self._kick, "interval", seconds=self.sweep_seconds, id="followups-sweep",
                          next_run_time=datetime.now(UTC), coalesce=True, max_instances=1,
                          misfire_grace_time=None)
        scheduler.add_job(self._poll_leader, "interval", seconds=self.leader_poll_seconds,
                          id="followups-leader", coalesce=True, max_instances=1,
                          misfire_grace_time=None)
        scheduler.start()
        self._scheduler = scheduler
        planner.add_wake_hook(self.poke)

    async def stop(self) -> None:
        """Stop waking; let messages in flight finish; give up leadership."""
        planner.remove_wake_hook(self.poke)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        async with self._lock:  # let a message in flight finish and be recorded
            self.leadership.release()

    def poke(self) -> None:
        """Look again soon: something was just planned (safe from any thread)."""
        if self._loop is None or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._wake_now)

    def _wake_now(self) -> None:
        if self._scheduler is not None:
            self._start_tick()

    def _wake_at(self, when: datetime) -> None:
        if self._scheduler is None:
            return
        self._scheduler.add_job(self._kick, "date", run_date=when, id="followups-wake",
                                replace_existing=True, misfire_grace_time=None)

    async def _kick(self) -> None:
        """The scheduler's job: start a tick and return at once.

        APScheduler skips a job whose previous run of the same id is still going ("maximum number
        of running instances reached"), so a wake-up that ran the tick itself could be lost while
        a tick runs; a job that only starts one is never still running, and `tick` itself asks
        for another look when one is already under way.
        """
        self._start_tick()

    def _start_tick(self) -> None:
        task = asyncio.get_running_loop().create_task(self.tick())
        self._ticks.add(task)  # keep a reference until it ends
        task.add_done_callback(self._ticks.discard)

    async def _poll_leader(self) -> None:
        """A follower checks whether the leader has gone; the leader checks it still leads."""
        was = self.leadership.is_leader
        now = self.leadership.try_acquire()
        if now and not was:
            await self.tick()

    async def tick(self) -> DeliveryReport | None:
        """One look: if this process leads, settle, plan digests, deliver what is due."""
        if self._lock.locked():
            self._again = True
            return None
        async with self._lock:
            report = None
            while True:
                self._again = False
                if not self.leadership.try_acquire():
                    self._reconciled = False  # settle again whenever leadership comes back
                    return report
                if not self._reconciled:
                    self.deliverer.reconcile()
                    self._reconciled = True
                with session_scope(self.engine) as session:
                    planner.ensure_digests(session, now=self.clock())
                self._apply_retention()
                report = await self.deliverer.deliver_due()
                self._add(report)
                if not self._again:
                    break
            with session_scope(self.engine) as session:
                next_due = store.next_due_at(session)
            if next_due is not None and self._scheduler is not None:
                # The scheduler wakes by the real clock; with a test clock, the sweep still runs.
                delay = max(0.0, (next_due - self.clock()).total_seconds())
                self._wake_at(datetime.now(UTC) + timedelta(seconds=min(delay, self.sweep_seconds)))
            return report

    def _apply_retention(self) -> None:
        """Once a day: delete the working copies past each setting's retention period."""
        now = self.clock()
        if self._retention_at is not None and now - self._retention_at < RETENTION_EVERY:
            return
        self._retention_at = now
        with session_scope(self.engine) as session:
            counts = apply_retention(session, now=now)
        if any(counts.values()):
            log.info("retention: deleted %s", ", ".join(f"{k} {v}" for k, v in counts.items()))

    def _add(self, report: DeliveryReport) -> None:
        for name in ("sent", "held", "superseded", "undeliverable", "retried", "in_doubt"):
            setattr(self.total, name, getattr(self.total, name) + getattr(report, name))
        if report.sent:
            log.info("follow-ups: %d sent", report.sent)
