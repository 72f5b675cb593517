"""Benchmark: the dashboard's Today and Patterns pages for one setting with 100,000 incidents.

    uv run python scripts/web_bench.py [--incidents 100000] [--requests 200] [--database-url URL]

Fills a fresh database (SQLite in a temporary directory, or a fresh schema of the PostgreSQL
database given) with one home's history: incidents spread over three years, two staff each, their
debriefs, and a signed review and the child's view for all but the last few days and about one in
two hundred older ones (those stay open, as late records do). Then a signed-in manager requests
Today and Patterns (28 days, and 90 days for one child) and one of Patterns' chart images (drawn
once, then served while the numbers are the same) through the real ASGI app in process
(Starlette, the templates, the database), and it prints median and p99 server time, requests per
second and peak memory. CPU time (the whole process: server and in-process client) is printed too,
because on a shared machine the wall-clock tail mostly measures waiting for a core.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402

CHILDREN = ("Robin (bench)", "Kit O'Hara", "Ash (bench)", "Sky (bench)", "Jo (bench)", "Lou (bench)")
STAFF = ("Alex D'Souza", "Jordan Bench", "Sam Bench", "Pat Bench", "Lee Bench", "Max Bench",
         "Nic Bench", "Ola Bench")
FLAGS = ("prone_or_ground_hold", "long_intervention", "many_staff", "injury",
         "isolation_or_seclusion")
TOKEN = "123456:bench-token"  # noqa: S105  (a made-up token for the benchmark)


def seed(*, incidents: int, now: datetime) -> tuple[int, int, list[int]]:
    """One home with `incidents` incidents; returns (setting id, manager's Telegram id, child ids)."""
    import sqlalchemy as sa

    from storage import crud
    from storage.db import get_engine, session_scope
    from storage.models import (
        ChildCreate,
        ChildView,
        Debrief,
        Incident,
        IncidentStaff,
        PersonCreate,
        Review,
        Role,
        SettingCreate,
        SettingKind,
    )

    with session_scope() as s:
        setting = crud.create_setting(s, data=SettingCreate(name="Bench House",
                                                            kind=SettingKind.children_home))
        assert setting.id is not None
        children = [crud.create_child(s, data=ChildCreate(setting_id=setting.id, display_name=n)).id
                    for n in CHILDREN]
        staff = [crud.create_person(s, data=PersonCreate(setting_id=setting.id, display_name=n,
                                                         role=Role.staff)).id for n in STAFF]
        manager = crud.create_person(s, data=PersonCreate(setting_id=setting.id,
                                                          display_name="Morgan Bench",
                                                          role=Role.manager))
        manager.telegram_user_id = 7_100_000_001
        s.add(manager)
        setting_id = setting.id
    rng = random.Random(35)
    # no debrief in the future or in the last quarter of an hour: one just in would (rightly) be
    # re-read by every refresh for ten minutes (storage.insights.LOOK_BACK), each time a change
    settled = now - timedelta(minutes=15)
    span = timedelta(days=3 * 365).total_seconds()
    engine = get_engine()
    batch = 10_000
    next_id = 1
    for start in range(0, incidents, batch):
        rows, people, debriefs, reviews, views = [], [], [], [], []
        for _ in range(min(batch, incidents - start)):
            at = now - timedelta(seconds=rng.random() * span)
            incident_id = next_id
            next_id += 1
            flags = [f for f in FLAGS if rng.random() < 0.08]
            rows.append({"id": incident_id, "setting_id": setting_id,
                         "child_id": rng.choice(children), "occurred_at": at,
                         "reported_by_id": staff[0], "flags": flags, "created_at": at})
            pair = rng.sample(staff, 2)
            for person_id in pair:
                people.append({"incident_id": incident_id, "person_id": person_id})
            recent = at > now - timedelta(days=5)
            closed = not recent and rng.random() > 0.005
            for person_id in pair if closed or rng.random() < 0.5 else pair[:1]:
                debriefs.append({"incident_id": incident_id, "person_id": person_id,
                                 "flow_id": "staff_debrief", "status": "submitted",
                                 "started_at": at, "submitted_at": min(at + timedelta(hours=3),
                                                                       settled)})
            if closed:
                reviews.append({"incident_id": incident_id, "manager_id": manager.id,
                                "outcome": {}, "signed_at": at + timedelta(hours=30),
                                "created_at": at + timedelta(hours=30)})
                views.append({"incident_id": incident_id, "child_id": rows[-1]["child_id"],
                              "mode": "self", "choices": {}, "alerts": [], "ended_early": False,
                              "created_at": at + timedelta(days=2)})
        with engine.begin() as conn:
            conn.execute(sa.insert(Incident), rows)
            conn.execute(sa.insert(IncidentStaff), people)
            conn.execute(sa.insert(Debrief), debriefs)
            conn.execute(sa.insert(Review), reviews)
            conn.execute(sa.insert(ChildView), views)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('incident', 'id'), "
                                 "(SELECT max(id) FROM incident))"))
            conn.execute(sa.text("ANALYZE"))
        else:
            conn.execute(sa.text("ANALYZE"))
    return setting_id, 7_100_000_001, [c for c in children if c is not None]


def measure(client: object, path: str, *, requests: int) -> dict[str, float]:
    """Request `path` repeatedly; server time per request (in process, so no network)."""
    times, cpu = [], []
    for _ in range(requests):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    cpu.sort()
    return {"median_ms": statistics.median(times) * 1000,
            "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000,
            "cpu_median_ms": statistics.median(cpu) * 1000,
            "cpu_p99_ms": cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))] * 1000,
            "per_s": len(times) / sum(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL URL (a fresh schema is made and dropped)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="flourish-web-bench-"))
    schema = None
    os.environ["FLOURISH_DATA_DIR"] = str(workdir)
    os.environ["FLOURISH_SECRET_KEY"] = Fernet.generate_key().decode()
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    import sqlalchemy as sa

    from storage.db import normalise_url

    if args.database_url:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(normalise_url(args.database_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in args.database_url else "?"
        os.environ["DATABASE_URL"] = (f"{args.database_url}{separator}"
                                      f"options=-csearch_path%3D{schema}")
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.db'}"
    try:
        run(args)
    finally:
        if schema:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def run(args: argparse.Namespace) -> None:
    from starlette.testclient import TestClient

    from bot.web.app import WebConfig, create_app
    from bot.web.initdata import sign
    from storage.db import get_engine
    from storage.migrate import upgrade

    upgrade()
    now = datetime.now(UTC)
    started = time.perf_counter()
    _, telegram_id, children = seed(incidents=args.incidents, now=now)
    seeded = time.perf_counter() - started
    app = create_app(config=WebConfig(bot_token=TOKEN, secure_cookies=False))
    fields = {"user": f'{{"id":{telegram_id},"first_name":"Morgan"}}',
              "auth_date": str(int(now.timestamp()))}
    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed = client.post("/auth/telegram", data={"init_data": sign(fields=fields,
                                                                       bot_token=TOKEN)})
        assert signed.status_code == 200, signed.text
        today = client.get("/")
        open_count = today.text.count('class="card incident"')
        results = {}
        for name, path in (("Today", "/"), ("Patterns, 28 days", "/patterns?period=28"),
                           ("Patterns, 90 days, one child",
                            f"/patterns?period=90&child={children[1]}"),
                           ("Patterns chart (PNG), 28 days", "/patterns/chart/weekly.png?period=28")):
            client.get(path)  # warm
            results[name] = measure(client, path, requests=args.requests)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    dialect = get_engine().dialect.name
    print(f"# {dialect}, {args.incidents} incidents in one setting (seeded in {seeded:.1f} s); "
          f"Today lists {open_count} open incidents")
    print(f"# {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print("| page | median | p99 | CPU median | CPU p99 | requests/s |")
    print("|---|---|---|---|---|---|")
    for name, figures in results.items():
        print(f"| {name} | {figures['median_ms']:.1f} ms | {figures['p99_ms']:.1f} ms | "
              f"{figures['cpu_median_ms']:.1f} ms | {figures['cpu_p99_ms']:.1f} ms | "
              f"{figures['per_s']:.1f} |")
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
