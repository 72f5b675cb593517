"""Benchmark: N follow-ups falling due in the same minute, delivered to a local Bot API stand-in.

    uv run python scripts/followups_bench.py --count 10000 --chats 2000 [--database-url URL]

Runs the real scheduler (APScheduler alarm clock, claim, python-telegram-bot's HTTP stack) against
the stand-in from tests/support, then checks at the stand-in that every nudge arrived exactly once
and that Telegram's limits held (at most 30 messages in any second, one a second per chat), and
prints what the scheduler adds beyond the rate limit: each nudge's lateness against its ideal slot
(due time + i/30 s), median and p99; throughput; peak memory. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import socketserver
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402


def _seed(engine: object, *, count: int, chats: int, due_at: datetime) -> None:
    from storage import crud
    from storage.db import session_scope
    from storage.models import (
        ChildCreate,
        FollowUp,
        PersonCreate,
        Role,
        SettingCreate,
        SettingKind,
    )

    with session_scope(engine) as session:  # type: ignore[arg-type]
        # Quiet hours off, so the benchmark does not depend on the time of day it runs.
        setting = crud.create_setting(session, data=SettingCreate(
            name="Bench House", kind=SettingKind.children_home, quiet_start="00:00",
            quiet_end="00:00"))
        assert setting.id is not None
        child = crud.create_child(session, data=ChildCreate(setting_id=setting.id,
                                                            display_name="Bench Child"))
        people = []
        for number in range(chats):
            person = crud.create_person(session, data=PersonCreate(
                setting_id=setting.id, display_name=f"Bench Person {number}", role=Role.staff))
            person.telegram_user_id = 500_000 + number
            people.append(person)
        session.flush()
        assert child.id is not None
        incident = crud.create_incident(session, setting_id=setting.id, child_id=child.id,
                                        occurred_at=due_at - timedelta(hours=36),
                                        reported_by_id=people[0].id or 0, staff_ids=[])
        rows = [dict(kind="review_reminder", person_id=people[i % chats].id, due_at=due_at,
                     key=f"bench:{i}", setting_id=setting.id, incident_id=incident.id,
                     deadline_at=due_at + timedelta(hours=12), urgent=False, detail={},
                     state="pending", attempts=0, created_at=due_at)
                for i in range(count)]
        session.execute(FollowUp.__table__.insert(), rows)  # type: ignore[attr-defined]


def _timing_limiter() -> type:
    from bot.followups.limiter import RateLimiter

    class TimingLimiter(RateLimiter):
        """Records, for each nudge the limiter did not hold back, the time since the previous one
        left: the scheduler's own cost per nudge."""

        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)  # type: ignore[arg-type]
            self.cycles: list[float] = []
            self._last = 0.0
            self._held = True

        def reserve(self, chat_id: int | None, priority: int = 0) -> float:
            delay = super().reserve(chat_id, priority)
            self._held = self._held or delay > 0
            return delay

        def started(self, chat_id: int | None) -> None:
            now = self.monotonic()
            if not self._held and self._last:
                self.cycles.append(now - self._last)
            self._last, self._held = now, False
            super().started(chat_id)

    return TimingLimiter


async def _run(args: argparse.Namespace) -> int:
    # The stand-in answers in two writes; without TCP_NODELAY, Nagle's algorithm and delayed ACKs
    # add ~40 ms to every call on loopback, which would be measured as the scheduler's.
    socketserver.StreamRequestHandler.disable_nagle_algorithm = True
    from support.botapi_standin import TOKEN, BotApiStandIn
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot.followups.scheduler import FollowUpScheduler
    from bot.telegram.followups import TelegramSender
    from storage import followups as store
    from storage.config import get_config
    from storage.db import get_engine, session_scope
    from storage.migrate import upgrade

    TimingLimiter = _timing_limiter()
    get_config.cache_clear()
    engine = get_engine()
    upgrade(engine)
    now = datetime.now(UTC)
    due_at = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if (due_at - now).total_seconds() > 40:  # keep the wait short: the same minute, 20 s on
        due_at = now + timedelta(seconds=20)
    started = time.perf_counter()
    _seed(engine, count=args.count, chats=args.chats, due_at=due_at)
    print(f"seeded {args.count} follow-ups for {args.chats} chats in "
          f"{time.perf_counter() - started:.1f} s, due at {due_at:%H:%M:%S} UTC")
    rss_before = _rss_mb()
    with BotApiStandIn() as api:
        bot = Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url,
                  request=HTTPXRequest(connection_pool_size=16))
        async with bot:
            limiter = TimingLimiter(overall=int(args.rate))
            scheduler = FollowUpScheduler(engine=engine, sender=TelegramSender(bot), sweep_seconds=30,
                                          limiter=limiter)
            await scheduler.start()
            due_mono = time.monotonic() + (due_at - datetime.now(UTC)).total_seconds()
            deadline = time.monotonic() + args.count / args.rate * 2 + 120
            while time.monotonic() < deadline:
                await asyncio.sleep(1.0)
                with session_scope(engine) as session:
                    counts = store.counts_by_state(session)
                if counts.get("pending", 0) == 0 and counts.get("sending", 0) == 0:
                    break
            await scheduler.stop()
        calls = [c for c in api.calls if c.method == "sendMessage"]
    rss_after = _rss_mb()
    return _report(args, calls, due_mono, rss_before, rss_after, counts, limiter.cycles)


def _report(args: argparse.Namespace, calls: list, due_mono: float, rss_before: float,  # type: ignore[type-arg]
            rss_after: float, counts: dict[str, int], cycles: list[float]) -> int:
    ids = Counter(int(c.button_data()[0].split(":")[2]) for c in calls)
    repeated = sum(1 for n in ids.values() if n > 1)
    lost = args.count - len(ids)
    times = sorted(c.at for c in calls)
    interval = 1.0 / args.rate
    lateness = [at - (due_mono + i * interval) for i, at in enumerate(times)]
    window_max, left = 0, 0
    for right in range(len(times)):
        while times[right] - times[left] >= 1.0:
            left += 1
        window_max = max(window_max, right - left + 1)
    per_chat: dict[int, list[float]] = defaultdict(list)
    for c in calls:
        per_chat[int(c.params["chat_id"])].append(c.at)
    gaps = [b - a for ts in per_chat.values() for a, b in zip(sorted(ts), sorted(ts)[1:], strict=False)]
    total = times[-1] - due_mono if times else float("nan")
    steps = cycles
    print(f"delivered {len(ids)}/{args.count}; repeated {repeated}; lost {lost}; states {counts}")
    print(f"most messages in any 1 s window: {window_max} (limit {args.rate:.0f}); "
          f"smallest gap in one chat: {min(gaps) if gaps else float('nan'):.3f} s (limit 1 s)")
    print(f"first nudge {times[0] - due_mono:.3f} s after the due time; last {total:.1f} s "
          f"(ideal {args.count * interval:.1f} s); throughput {len(times) / total:.2f} msg/s")
    print(f"lateness against the ideal slot: median {statistics.median(lateness):.3f} s, "
          f"p99 {_pct(lateness, 99):.3f} s, max {max(lateness):.3f} s")
    print(f"scheduler time per nudge when not held by the limiter (record, claim, render, "
          f"send; {len(steps)} samples): median "
          f"{statistics.median(steps) * 1000:.2f} ms, p99 {_pct(steps, 99) * 1000:.2f} ms; "
          f"overall {(total - args.count * interval) / args.count * 1000:.2f} ms per nudge "
          "beyond the rate limit")
    print(f"memory: peak RSS {rss_after:.0f} MB (before the run {rss_before:.0f} MB)")
    print(f"machine: {os.cpu_count()} CPUs, {_cpu()}, {_mem_gb():.0f} GiB, Python "
          f"{platform.python_version()}, database {args.database_url or 'SQLite'}")
    ok = repeated == 0 and lost == 0 and window_max <= args.rate and (not gaps or min(gaps) >= 0.99)
    print("RESULT:", "ok" if ok else "FAILED")
    return 0 if ok else 1


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _mem_gb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=2_000)
    parser.add_argument("--rate", type=int, default=30, help="messages a second overall")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="flourish-bench-")
    os.environ["FLOURISH_DATA_DIR"] = data
    os.environ.setdefault("FLOURISH_SECRET_KEY", Fernet.generate_key().decode())
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    return asyncio.run(_run(args))


if __name__ == "__main__":
    raise SystemExit(main())
