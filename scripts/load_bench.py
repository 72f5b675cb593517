"""Load benchmark: many staff finishing full debriefs at the same time, through `flourish run` as a
real process and the local Bot API stand-in enforcing Telegram's flood limits (30 messages a
second in all, one a second per chat, 429 with retry_after beyond them).

    uv run python scripts/load_bench.py [--users 200] [--think 1.0] [--database-url URL]
                                        [--workers 1] [--json]

Each simulated member of staff sends /debrief and answers whatever question comes (the first
option, ticks one option then Done, types a sentence where words are asked for, skips what can be
skipped), then submits, pausing about `--think` seconds (0.5x to 1.5x, seeded) before each action.
Prints:
- reply latency, p50 / p99: *inside the bot* (from the update being handed to the bot, by
  getUpdates, to the bot's first attempt at the call that shows the next question or the receipt)
  and *as the user sees it* (from the user's action to that call being accepted by "Telegram");
- Bot API calls per step and per debrief, method by method (accepted, and refused with 429);
- steps per second, errors (must be 0), and a check that every debrief (and every answer in it)
  was stored exactly once.

`--webhook` runs `--workers N` webhook workers (`flourish run --webhook-url ... --port P`, N processes
as in deploy/) behind a reverse proxy's part played by this script (round robin; the next worker
when one fails), each update POSTed as Telegram would; without it, one process polls. Several
workers need `--webhook` and PostgreSQL. The database defaults to a fresh SQLite file; give
`--database-url postgresql+psycopg://...` for PostgreSQL (it must be an empty database or schema:
the script migrates it). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

WORDS = "She said 'stop' at 23:59 and we stepped back; we sat with her in the lounge after."
NOT_A_STEP = {"getUpdates", "getMe", "deleteWebhook", "getWebhookInfo", "setWebhook"}


@dataclass
class Step:
    """One user action and when its answer came."""

    kind: str  # command, press, typed
    acted: float
    update_id: int
    delivered: float | None = None
    attempted: float | None = None
    shown: float | None = None


@dataclass
class Staff:
    """A simulated member of staff working through one debrief."""

    user_id: int
    person_id: int
    steps: list[Step] = field(default_factory=list)
    answered: set[str] = field(default_factory=set)
    receipt: bool = False
    error: str | None = None


def is_answer(call: Any) -> bool:
    """A call that shows the user their next question, or the receipt."""
    if call.method not in ("sendMessage", "editMessageText"):
        return False
    data = call.button_data()
    if any("|c:" in d or d == "summary|submit" for d in data):
        return True
    return "Receipt:" in str(call.params.get("text", ""))


def choose(call: Any) -> tuple[str, str, str | None]:
    """What the person does next: ("press", payload, scope) or ("type", words, scope)."""
    markup = call.reply_markup() or {}
    buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
    data = [b.get("callback_data", "") for b in buttons]
    if "summary|submit" in data:
        return "press", "summary|submit", None
    scope = next((d.split("|")[0] for d in data if "|c:" in d), None)
    values = [d for d in data if "|v:" in d or "|t:" in d]
    done = [d for d in data if d.endswith("|done")]
    ticked = any(str(b.get("text", "")).startswith("✅") for b in buttons)
    if done and ticked:
        return "press", done[0], scope
    if values:
        return "press", values[0], scope
    if any(d.endswith("|c:skip") for d in data):
        return "type", "skip", scope
    return "type", WORDS, scope


async def run_staff(api: Any, staff: Staff, inbox: asyncio.Queue[Any], rng: random.Random,
                    think: float, within: float) -> None:
    """One person's whole debrief: /debrief, every question, Submit, the receipt."""
    user = api.user(staff.user_id, f"Staff {staff.user_id}")
    action: tuple[str, str, str | None] = ("type", "/debrief", None)
    for _ in range(120):
        await asyncio.sleep(think * rng.uniform(0.5, 1.5))
        while not inbox.empty():  # whatever came late for the step before is not an answer
            inbox.get_nowait()
        how, what, scope = action
        acted = time.monotonic()
        update = user.press(what) if how == "press" else user.send(what)
        step = Step("command" if what.startswith("/") else how, acted, update["update_id"])
        staff.steps.append(step)
        answer = None
        deadline = acted + within
        while answer is None:
            call = await asyncio.wait_for(inbox.get(), timeout=max(0.1, deadline - time.monotonic()))
            if not is_answer(call):
                continue
            if step.attempted is None:
                step.attempted = call.at
            if call.status == 200:
                answer = call
        step.shown = time.monotonic()
        step.delivered = api.delivered.get(step.update_id)
        if scope is not None and what not in ("skip",):
            staff.answered.add(scope)
        if "Receipt:" in str(answer.params.get("text", "")):
            staff.receipt = True
            return
        action = choose(answer)
    raise AssertionError("the debrief never ended")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def setup_database(users: int) -> list[tuple[int, int]]:
    """Migrate, then settings with staff (synthetic names) enrolled; (telegram id, person id)."""
    from storage import crud
    from storage.db import session_scope
    from storage.migrate import upgrade
    from storage.models import ChildCreate, PersonCreate, Role, SettingCreate, SettingKind

    upgrade()
    people = []
    with session_scope() as session:
        settings = []
        for name, kind in (("Oak Lodge", SettingKind.children_home),
                           ("St Brigid's School", SettingKind.residential_special_school),
                           ("Hill View", SettingKind.children_home)):
            setting = crud.create_setting(session, data=SettingCreate(name=name, kind=kind))
            assert setting.id is not None
            crud.create_child(session, data=ChildCreate(setting_id=setting.id,
                                                        display_name="Robin O'Neill"))
            settings.append(setting.id)
        for n in range(users):
            person = crud.create_person(session, data=PersonCreate(
                setting_id=settings[n % len(settings)], display_name=f"Staff O'Load {n}",
                role=Role.staff))
            person.telegram_user_id = 7_300_000 + 37 * n
            session.add(person)
            session.flush()
            assert person.id is not None
            people.append((person.telegram_user_id, person.id))
    return people


def push_updates(api: Any, proxy: Any) -> None:
    """Webhook mode: every update a simulated person makes is POSTed through the proxy at once,
    as Telegram does (`api.delivered` then records when it was handed over)."""
    loop = asyncio.get_running_loop()
    inject = api.inject
    pushing: set[asyncio.Task[None]] = set()

    def inject_and_push(update: dict[str, Any]) -> dict[str, Any]:
        update = inject(update)
        api.delivered.setdefault(update["update_id"], time.monotonic())
        task = loop.create_task(proxy.deliver(update))
        pushing.add(task)
        task.add_done_callback(pushing.discard)
        return update

    api.inject = inject_and_push


def start_bot(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`flourish run` (this tree's code, through `python -m`), its output appended to a log."""
    with log_path.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def stored(people: list[Staff]) -> dict[str, Any]:
    """What the database holds: submitted debriefs per person, answers per debrief."""
    from sqlmodel import select

    from storage.db import session_scope
    from storage.models import Answer, Debrief

    with session_scope() as session:
        debriefs = session.exec(select(Debrief)).all()
        answers = session.exec(select(Answer)).all()
    by_person = Counter(d.person_id for d in debriefs if d.submitted_at is not None)
    questions: dict[int, list[str]] = defaultdict(list)
    for answer in answers:
        questions[answer.debrief_id].append(answer.question_id)
    debrief_of = {d.person_id: d.id for d in debriefs if d.submitted_at is not None}
    missing = [s.person_id for s in people
               if not s.answered <= set(questions.get(debrief_of.get(s.person_id, -1), []))]
    return {
        "staff": len(people),
        "exactly_one_debrief": sum(1 for s in people if by_person.get(s.person_id) == 1),
        "debriefs_submitted": sum(by_person.values()),
        "answers": len(answers),
        "answers_duplicated": sum(len(q) - len(set(q)) for q in questions.values()),
        "staff_with_an_answer_missing": len(missing),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from cryptography.fernet import Fernet

    data = Path(tempfile.mkdtemp(prefix="flourish-load-"))
    database_url = args.database_url or f"sqlite:///{data / 'load.db'}"
    env = {**os.environ, "FLOURISH_DATA_DIR": str(data), "DATABASE_URL": database_url,
           "FLOURISH_SECRET_KEY": os.environ.get("FLOURISH_SECRET_KEY")
           or Fernet.generate_key().decode(), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
           "NLU_BACKEND": "spacy"}
    os.environ.update(env)
    from support.botapi_standin import TOKEN, BotApiStandIn, Limits

    from storage.config import get_config

    get_config.cache_clear()
    people = [Staff(u, p) for u, p in setup_database(args.users)]
    if args.workers != 1 and not args.webhook:
        raise SystemExit("several workers need --webhook (and PostgreSQL)")
    api = BotApiStandIn(limits=Limits())
    api.start()
    env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=api.url)
    log_path = data / "bot.log"
    processes = []
    proxy = None
    try:
        started = time.monotonic()
        if args.webhook:
            from support.workers import Proxy, Worker, wait_healthy

            env["TELEGRAM_WORKERS"] = str(args.workers)  # each keeps to its share of the budget
            workers = [Worker.start(env, data / f"worker{n}.log") for n in range(args.workers)]
            processes.extend(w.process.proc for w in workers)
            await wait_healthy(workers, within=120)
            proxy = Proxy([w.url for w in workers], timeout=args.within)
            push_updates(api, proxy)
            log_path = data / "worker0.log"
        else:
            processes.extend(start_bot(env, log_path) for _ in range(args.workers))
            while not any(c.method == "getUpdates" for c in api.calls):
                if time.monotonic() - started > 120 or processes[0].poll() is not None:
                    raise SystemExit(f"the bot did not start:\n{log_path.read_text()[-3000:]}")
                await asyncio.sleep(0.1)
        ready = time.monotonic() - started
        await asyncio.sleep(args.warmup)  # its start-up work (menus, NLU loading) settles
        loop = asyncio.get_running_loop()
        inboxes: dict[int, asyncio.Queue[Any]] = {s.user_id: asyncio.Queue() for s in people}

        def listen(call: Any) -> None:
            inbox = inboxes.get(call.chat_id)
            if inbox is not None:
                loop.call_soon_threadsafe(inbox.put_nowait, call)

        api.listeners.append(listen)
        mark = api.mark()
        limited_before = api.limited
        rng = random.Random(args.seed)
        began = time.monotonic()
        results = await asyncio.gather(*(run_staff(
            api, s, inboxes[s.user_id], random.Random(rng.random()), args.think, args.within)
            for s in people), return_exceptions=True)
        elapsed = time.monotonic() - began
        await asyncio.sleep(2.0)  # the last clean-ups (deletions after the last submits)
        calls = [c for c in api.since(mark) if c.method not in NOT_A_STEP]
        limited = api.limited - limited_before
    finally:
        if proxy is not None:
            await proxy.close()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        api.stop()
    for staff, result in zip(people, results, strict=True):
        if isinstance(result, BaseException):
            staff.error = f"{type(result).__name__}: {result}"[:200]
    steps = [st for s in people for st in s.steps if st.shown is not None]
    user_seen = [st.shown - st.acted for st in steps if st.shown is not None]
    inside = [st.attempted - st.delivered for st in steps
              if st.attempted is not None and st.delivered is not None]
    accepted = Counter(c.method for c in calls if c.status == 200)
    refused = Counter(c.method for c in calls if c.status == 429)
    failed = Counter(c.method for c in calls if c.status not in (200, 429))
    finished = sum(1 for s in people if s.receipt)
    kept = stored(people)
    submitted = kept["debriefs_submitted"]
    report = {
        "users": args.users, "workers": args.workers, "think_s": args.think,
        "mode": "webhook" if args.webhook else "polling",
        "proxy_retries": proxy.failed_attempts if proxy is not None else 0,
        "database": database_url.split(":", 1)[0], "bot_ready_s": round(ready, 1),
        "elapsed_s": round(elapsed, 1), "steps": len(steps),
        "steps_per_s": round(len(steps) / elapsed, 2), "debriefs_finished": finished,
        "errors": sum(1 for s in people if s.error) + sum(failed.values()),
        "error_examples": sorted({s.error for s in people if s.error})[:3] + [
            f"{m} answered {c.status}" for m in failed for c in calls if c.method == m][:3],
        "user_seen_ms": {"p50": round(statistics.median(user_seen) * 1000),
                         "p99": round(percentile(user_seen, 0.99) * 1000)} if user_seen else {},
        "inside_bot_ms": {"p50": round(statistics.median(inside) * 1000),
                          "p99": round(percentile(inside, 0.99) * 1000)} if inside else {},
        "calls_accepted": sum(accepted.values()), "calls_refused_429": limited,
        "calls_per_step": round(sum(accepted.values()) / max(1, len(steps)), 2),
        "calls_per_debrief": round(sum(accepted.values()) / max(1, submitted), 1),
        "by_method_per_debrief": {m: round(n / max(1, submitted), 2)
                                  for m, n in accepted.most_common()},
        "refused_by_method": dict(refused.most_common()),
        "stored": kept,
        "bot_log": str(log_path),
    }
    return report


def show(report: dict[str, Any]) -> None:
    print(f"{report['users']} staff, {report['workers']} worker(s) ({report['mode']}), "
          f"{report['database']}, think "
          f"{report['think_s']} s; stand-in limits: 30 msg/s overall, 1 msg/s per chat")
    print(f"  bot ready in {report['bot_ready_s']} s; load ran {report['elapsed_s']} s")
    print(f"  steps {report['steps']}, {report['steps_per_s']} steps/s; debriefs finished "
          f"(receipt seen) {report['debriefs_finished']}/{report['users']}, submitted "
          f"{report['stored']['debriefs_submitted']}; errors {report['errors']} "
          f"{report['error_examples'] or ''}")
    print(f"  reply latency p50/p99: inside the bot {report['inside_bot_ms']} ms; "
          f"as the user sees it {report['user_seen_ms']} ms")
    print(f"  Bot API calls accepted {report['calls_accepted']} (+{report['calls_refused_429']} "
          f"refused with 429): {report['calls_per_step']} per step, "
          f"{report['calls_per_debrief']} per submitted debrief")
    for method, per in report["by_method_per_debrief"].items():
        print(f"    {method:24s} {per:7.2f} per debrief")
    if report["refused_by_method"]:
        print(f"    refused with 429: {report['refused_by_method']}")
    s = report["stored"]
    ok = (s["exactly_one_debrief"] == s["staff"] and s["answers_duplicated"] == 0
          and s["staff_with_an_answer_missing"] == 0)
    print(f"  stored exactly once: {'yes' if ok else 'NO'} ({s['exactly_one_debrief']}/{s['staff']}"
          f" staff with exactly one submitted debrief, {s['answers']} answers, "
          f"{s['answers_duplicated']} duplicated, {s['staff_with_an_answer_missing']} staff with "
          f"an answer missing)")
    print(f"  machine: {os.cpu_count()} cores; uptime: "
          f"{subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean seconds a person takes before each action")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--webhook", action="store_true",
                        help="webhook workers behind a proxy (as deployed) instead of polling")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--within", type=float, default=300.0,
                        help="seconds a person waits for an answer before it counts as an error")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    result = asyncio.run(main(args))
    if args.json:
        print(json.dumps(result, indent=2))
    show(result)
