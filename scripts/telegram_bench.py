"""Benchmark: how quickly the Telegram bot answers a button press, through python-telegram-bot's real
Application and HTTP client against the local Bot API stand-in (tests/support), on SQLite.

    uv run python scripts/telegram_bench.py [--steps 200] [--users 20] [--no-rate-limiter]

Prints the median and p99 latency from an update being offered to the bot to the next question
arriving, the throughput with many people pressing at once, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")


async def main(steps: int, users: int, rate_limiter: bool) -> None:
    from cryptography.fernet import Fernet

    data = Path(tempfile.mkdtemp(prefix="flourish-bench-"))
    os.environ.update(FLOURISH_DATA_DIR=str(data), DATABASE_URL=f"sqlite:///{data / 'bench.db'}",
                      FLOURISH_SECRET_KEY=Fernet.generate_key().decode())
    from support.botapi_standin import TOKEN, BotApiStandIn
    from support.telegram_fixtures import run_application

    from bot.telegram import build_application
    from storage import crud
    from storage.config import get_config
    from storage.db import session_scope
    from storage.migrate import upgrade
    from storage.models import ChildCreate, PersonCreate, Role, SettingCreate, SettingKind

    upgrade()
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name="Bench House", kind=SettingKind.children_home))
        assert setting.id is not None
        crud.create_child(session, data=ChildCreate(setting_id=setting.id, display_name="Kid B"))
        people = [crud.create_person(session, data=PersonCreate(
            setting_id=setting.id, display_name=f"Staff {n}", role=Role.staff))
            for n in range(users)]
        for n, person in enumerate(people):
            person.telegram_user_id = 10_000 + n
            session.add(person)

    with BotApiStandIn() as api:
        os.environ.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=api.url)
        get_config.cache_clear()
        app = build_application(config=get_config(), interpreter=None, rate_limiter=rate_limiter)
        async with run_application(app):
            fakes = [api.user(10_000 + n, f"S{n}") for n in range(users)]

            asked: dict[int, str] = {}  # the question each person's chat is on

            async def step(user_id: int, inject: object) -> float:
                mark = api.mark()
                started = time.perf_counter()
                inject()  # type: ignore[operator]
                # the next question: a new message, or the pressed one edited into it
                calls = await api.await_for(lambda c: c.method in ("sendMessage", "editMessageText")
                                            and c.params.get("chat_id") == user_id
                                            and any("|c:" in d for d in c.button_data()),
                                            since=mark, within=30)
                elapsed = time.perf_counter() - started
                asked[user_id] = next(d for d in calls[0].button_data() if "|c:" in d).split("|")[0]
                return elapsed

            def answer_or_back(user_id: int) -> str:
                """Answer the first question, or go back to it from the second."""
                scope = asked[user_id]
                return "wellbeing|v:ok" if scope == "wellbeing" else f"{scope}|c:back"

            for fake in fakes:
                await step(fake.id, lambda fake=fake: fake.send("/debrief"))
            one = fakes[0]
            latencies = []
            for _ in range(steps):
                data_ = answer_or_back(one.id)
                latencies.append(await step(one.id, lambda d=data_: one.press(d)))
            latencies.sort()
            median = statistics.median(latencies) * 1000
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
            print(f"button press -> next question, one person, {steps} presses: "
                  f"median {median:.1f} ms, p99 {p99:.1f} ms")

            rounds = 10
            started = time.perf_counter()
            for _ in range(rounds):
                presses = [(f, answer_or_back(f.id)) for f in fakes]
                await asyncio.gather(*(step(f.id, lambda f=f, d=d: f.press(d)) for f, d in presses))
            elapsed = time.perf_counter() - started
            print(f"{users} people pressing at once, {rounds} rounds: "
                  f"{users * rounds / elapsed:.1f} presses answered per second")
    rss = psutil.Process().memory_info().rss / 2**20
    print(f"process memory (RSS) at the end: {rss:.0f} MiB; machine: {os.cpu_count()} cores")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--no-rate-limiter", action="store_true",
                        help="set Telegram's rate limiter aside: the bot's own cost")
    args = parser.parse_args()
    asyncio.run(main(args.steps, args.users, not args.no_rate_limiter))
