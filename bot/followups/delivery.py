"""Sends due follow-ups to Telegram exactly once, within Telegram's rate limits.

For each due row: wait for a slot in the process's one Telegram budget (`bot.followups.limiter`:
about 30 messages a second overall, one a second per chat, replies to people in a conversation
first), then claim the row (pending -> sending, with a fresh claim token, committed: the write-ahead
record), then call sendMessage, then record the message id (sending -> sent). Nothing slow happens
between the claim's commit and the request, so the only moment of doubt is a crash after Telegram
accepted the message and before its id is stored; `storage.followups.reconcile_claimed` settles those
rows on the next start (routine nudges are not repeated, safeguarding alerts are).

The platform's answers, as a `Sender` reports them: `RetryLater` puts the row back for later and
pauses sending; `Undeliverable` (the person blocked the bot, no such chat) closes it; `InDoubt` (a
timeout, a broken connection after the request left) is treated like a crash; `NotSent` (no
connection was made) is retried with a backoff. Nothing here knows python-telegram-bot: the
Telegram channel provides the `Sender` (`bot.telegram.followups.TelegramSender`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from bot.followups import messages, planner
from bot.followups.limiter import NUDGE, RateLimiter
from bot.followups.schedule import Clock, Kind, Policy, PolicyError, system_clock
from storage import followups as store
from storage.db import session_scope
from storage.models import FollowUp

log = logging.getLogger(__name__)

SET_ASIDE = timedelta(hours=1)  # a row that cannot go now (its setting broken) is tried again then
CHAIN_KINDS = frozenset({Kind.debrief_reminder.value, Kind.debrief_overdue.value,
                         Kind.review_reminder.value, Kind.childview_reminder.value})


Buttons = Sequence[Sequence[tuple[str, str]]]  # rows of (label, callback data)


class Sender(Protocol):
    """Sends one nudge to a chat and returns the platform's message id (a channel provides it)."""

    async def send(self, *, chat_id: int, text: str, buttons: Buttons,
                   photo: bytes | None = None) -> int | None: ...


class RetryLater(Exception):
    """The platform asked us to wait this many seconds before sending anything."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class Undeliverable(Exception):
    """The message can never arrive (`outcome`: blocked, bad_request)."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class NotSent(Exception):
    """The request never reached the platform (no connection was made): safe to send again."""


class InDoubt(Exception):
    """The request may have reached the platform (a timeout, a connection lost mid-way)."""


def process_identity() -> str:
    """A name for this process's claims: host, pid and a random part (unique per start)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class _Sent:
    """A nudge Telegram accepted, not yet recorded."""

    followup_id: int
    token: str
    message_id: int | None
    kind: str


@dataclass
class DeliveryReport:
    """What one pass of the deliverer did."""

    sent: int = 0
    held: int = 0
    superseded: int = 0
    undeliverable: int = 0
    retried: int = 0
    in_doubt: int = 0
    sent_ids: list[int] = field(default_factory=list)


class Deliverer:
    """Delivers due follow-ups; one per process, used only while this process is the leader."""

    def __init__(
        self,
        *,
        engine: Engine,
        sender: Sender,
        clock: Clock = system_clock,
        limiter: RateLimiter | None = None,
        claimed_by: str | None = None,
        still_leader: Callable[[], bool] = lambda: True,
        batch: int = 100,
        patterns: messages.PatternNotes | None = None,
    ) -> None:
        self.engine = engine
        self.patterns = patterns
        self.sender = sender
        self.clock = clock
        self.limiter = limiter or RateLimiter()
        self.claimed_by = claimed_by or process_identity()
        self.still_leader = still_leader
        self.batch = batch

    def reconcile(self) -> list[FollowUp]:
        """Settle rows another (dead) sender left claimed; see `store.reconcile_claimed`."""
        with session_scope(self.engine) as session:
            rows = store.reconcile_claimed(session, claimed_by=self.claimed_by, now=self.clock())
        if rows:
            log.warning("settled %d follow-ups left claimed by a stopped sender", len(rows))
        return rows

    async def deliver_due(self) -> DeliveryReport:
        """Send everything due now, pacing by the rate limiter, until nothing due is left."""
        report = DeliveryReport()
        while True:
            now = self.clock()
            with session_scope(self.engine) as session:
                candidates = store.due_candidates(session, now=now, limit=self.batch)
                todo = self._triage(session, candidates, now, report)
            if not candidates:
                break
            progressed = await self._send_all(todo, report)
            if (todo and not progressed) or not self.still_leader():
                break
        return report

    # --- internals ----------------------------------------------------------------------------

    def _triage(self, session: Any, candidates: list[tuple[FollowUp, int | None]], now: datetime,
                report: DeliveryReport) -> list[tuple[int, int]]:
        """Hold routine rows in quiet hours, close superseded and unreachable rows; the rest to send."""
        policies: dict[int | None, Policy | None] = {}
        latest: dict[tuple[int | None, str, int], int] = {}
        for row, _chat in candidates:
            if row.kind in CHAIN_KINDS:
                chain_key = (row.incident_id, row.kind + str(row.detail.get("staff_id", "")),
                             row.person_id)
                latest[chain_key] = max(latest.get(chain_key, 0), row.id or 0)
        todo: list[tuple[int, int]] = []
        for row, chat in candidates:
            assert row.id is not None
            if row.setting_id not in policies:
                policies[row.setting_id] = self._policy(session, row.setting_id, now)
            policy = policies[row.setting_id]
            if policy is None and not row.urgent:  # the setting is broken: set its nudges aside
                row.due_at = now + SET_ASIDE
                session.add(row)
                report.held += 1
                continue
            policy = policy or Policy()  # a safeguarding alert goes whatever its setting's state
            if not row.urgent and policy.in_quiet_hours(now):
                row.due_at = policy.hold(now)
                session.add(row)
                report.held += 1
                continue
            if row.kind in CHAIN_KINDS:
                chain_key = (row.incident_id, row.kind + str(row.detail.get("staff_id", "")),
                             row.person_id)
                if row.id < latest[chain_key]:  # a later reminder of the chain is due too
                    store.finish(session, followup_id=row.id, token=None, state=store.SUPERSEDED,
                                 outcome="later_reminder_due", now=now)
                    report.superseded += 1
                    continue
            if chat is None:
                store.finish(session, followup_id=row.id, token=None, state=store.UNDELIVERABLE,
                             outcome="not_enrolled", now=now)
                report.undeliverable += 1
                continue
            todo.append((row.id, chat))
        return todo

    @staticmethod
    def _policy(session: Any, setting_id: int | None, now: datetime) -> Policy | None:
        """The setting's policy; None (and the admins told) when its stored data is unusable."""
        if setting_id is None:
            return Policy()
        try:
            return planner.policy_for(session, setting_id=setting_id)
        except PolicyError as exc:
            planner.setting_broken(session, setting_id=setting_id, problem=str(exc), now=now)
            return None

    async def _send_all(self, todo: list[tuple[int, int]], report: DeliveryReport) -> bool:
        """Send a batch, picking at each step a row whose chat may have a message now.

        Strictly one at a time, so after a crash at most one row is in doubt. The record of a
        sent nudge shares its transaction with the claim of the next one when no wait comes in
        between (one commit per nudge instead of two)."""
        waiting = list(todo)
        progressed = False
        cache: dict[tuple[str, int | None], Any] = {}
        unrecorded: _Sent | None = None
        try:
            while waiting:
                if not self.still_leader():
                    break
                index = next((i for i, (_, chat) in enumerate(waiting)
                              if self.limiter.chat_ready_in(chat) == 0.0), None)
                if index is None:
                    self._record(unrecorded, report)
                    unrecorded = None
                    await asyncio.sleep(min(self.limiter.chat_ready_in(c) for _, c in waiting))
                    continue
                followup_id, chat = waiting.pop(index)
                if self.limiter.reserve(chat, NUDGE) > 0 or self.limiter.waiting():
                    self._record(unrecorded, report)  # never hold a record over a wait
                    unrecorded = None
                started_at = await self.limiter.acquire(chat, priority=NUDGE)  # replies first
                try:
                    token = secrets.token_hex(4)
                    try:
                        with session_scope(self.engine) as session:
                            if unrecorded is not None:
                                self._mark(session, unrecorded)
                            row = store.claim(session, followup_id=followup_id, token=token,
                                              claimed_by=self.claimed_by, now=self.clock())
                            nudge = messages.render(session, row=row, token=token, cache=cache,
                                                    patterns=self.patterns) if row else None
                    except Exception as exc:  # one bad row never stops the others
                        self._record(unrecorded, report)  # its record was rolled back with the claim
                        unrecorded = None
                        self._set_aside(followup_id, exc, report)
                        continue
                    if unrecorded is not None:
                        self._count(unrecorded, report)
                        unrecorded = None
                    if row is None or nudge is None:
                        continue
                    progressed = True
                    unrecorded = await self._send_one(row, chat, token, nudge, report)
                finally:  # the next message to this chat counts from the answer
                    self.limiter.finished(chat, started_at)
        finally:
            self._record(unrecorded, report)
        return progressed

    def _set_aside(self, followup_id: int, exc: Exception, report: DeliveryReport) -> None:
        """A row that cannot be prepared: logged by id and error type only, tried again later."""
        log.warning("follow-up %s set aside: it could not be prepared (%s)", followup_id,
                    type(exc).__name__)
        now = self.clock()
        with session_scope(self.engine) as session:
            row = store.get_followup(session, followup_id=followup_id)
            if row is not None and row.state == store.PENDING:
                row.due_at = now + SET_ASIDE
                row.outcome = f"set_aside:{type(exc).__name__}"[:40]
                session.add(row)
        report.held += 1

    def _record(self, sent: _Sent | None, report: DeliveryReport) -> None:
        """Record a sent nudge in its own transaction."""
        if sent is None:
            return
        with session_scope(self.engine) as session:
            self._mark(session, sent)
        self._count(sent, report)

    def _mark(self, session: Any, sent: _Sent) -> None:
        store.mark_sent(session, followup_id=sent.followup_id, token=sent.token,
                        message_id=sent.message_id, now=self.clock())
        if sent.kind == Kind.digest.value:
            planner.ensure_digests(session, now=self.clock())

    @staticmethod
    def _count(sent: _Sent, report: DeliveryReport) -> None:
        report.sent += 1
        report.sent_ids.append(sent.followup_id)

    async def _send_one(self, row: FollowUp, chat: int, token: str, nudge: messages.Nudge,
                        report: DeliveryReport) -> _Sent | None:
        """Send it; on success return what to record, else settle the row here."""
        assert row.id is not None
        try:
            if nudge.photo is None:
                message_id = await self.sender.send(chat_id=chat, text=nudge.text,
                                                    buttons=nudge.buttons)
            else:
                message_id = await self.sender.send(chat_id=chat, text=nudge.text,
                                                    buttons=nudge.buttons, photo=nudge.photo)
        except RetryLater as exc:
            self.limiter.pause(exc.seconds)
            self._settle(row.id, token, "release", report, due_in=exc.seconds, outcome="retry_after")
            return None
        except Undeliverable as exc:
            if exc.outcome != "blocked":
                log.warning("follow-up %s not accepted: %s", row.id, exc.outcome)
            self._settle(row.id, token, store.UNDELIVERABLE, report, outcome=exc.outcome)
            return None
        except NotSent:
            backoff = min(600.0, 5.0 * 2 ** min(row.attempts, 7))
            self._settle(row.id, token, "release", report, due_in=backoff, outcome="not_sent")
            return None
        except InDoubt:
            if row.urgent:  # in doubt: an alert is sent again rather than risk losing it
                self._settle(row.id, token, "release", report, due_in=5, outcome="in_doubt")
            else:  # in doubt: a routine nudge is not repeated
                self._settle(row.id, token, store.UNCONFIRMED, report, outcome="in_doubt")
            return None
        return _Sent(row.id, token, message_id, row.kind)

    def _settle(self, followup_id: int, token: str, state: str, report: DeliveryReport, *,
                outcome: str, due_in: float = 0.0) -> None:
        now = self.clock()
        with session_scope(self.engine) as session:
            if state == "release":
                store.release(session, followup_id=followup_id, token=token,
                              due_at=now + timedelta(seconds=due_in), outcome=outcome)
                report.retried += 1
            else:
                store.finish(session, followup_id=followup_id, token=token, state=state,
                             outcome=outcome, now=now)
                if state == store.UNCONFIRMED:
                    report.in_doubt += 1
                else:
                    report.undeliverable += 1
