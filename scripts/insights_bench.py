"""Benchmark: a setting's whole insights page (every pattern flag and every number) over many incidents.

    uv run python scripts/insights_bench.py --incidents 100000 [--database-url URL] [--repeat 30]

Fills one setting with N incidents over three years (ending three days ago; 40 children, 60
staff; facts and tags written in bulk, as `storage.insights.refresh_facts` would leave them),
then times, each `--repeat` times: the pattern flags alone, the insights page (summary of the
last 12 weeks with its flags), and a year's summary. Prints median, p99, throughput and peak
memory, the query plans of every statement the page ran (EXPLAIN QUERY PLAN on SQLite, EXPLAIN
ANALYZE on PostgreSQL), the rate at which `refresh_facts` builds facts from real debrief answers,
and the time to build the PDF report for a year of one home (the demo history). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import atexit
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402

HOLDS = ("standing", "seated", "kneeling", "escort", "ground", "prone", "supine")
RESTRICTIONS = ("locked_door", "blocked_exit", "isolation", "single_separation")
TRIGGERS = ("transition", "demand", "refusal", "peer", "family", "sensory", "unwell", "unclear")
LOCATIONS = ("communal", "corridor", "bedroom", "bed", "bathroom", "classroom", "outdoors",
             "vehicle")
CHUNK = 20_000


def _setup_env(url: str | None) -> str:
    os.environ.setdefault("FLOURISH_SECRET_KEY", Fernet.generate_key().decode())
    if url is None:
        folder = tempfile.mkdtemp(prefix="insights-bench-")
        url = f"sqlite:///{folder}/bench.db"
        os.environ["FLOURISH_DATA_DIR"] = folder
    elif url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        import sqlalchemy as sa

        admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"),
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

        def drop() -> None:  # the schema is this run's own: leave the shared database as it was
            from storage.db import get_engine

            get_engine().dispose()
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()

        atexit.register(drop)
        separator = "&" if "?" in url else "?"
        url = f"{url}{separator}options=-csearch_path%3D{schema}"
    os.environ["DATABASE_URL"] = url
    return url


def _fill(*, incidents: int, now: datetime, seed: int = 12) -> int:
    """One setting with `incidents` incidents over three years; return the setting id."""
    import sqlalchemy as sa
    from sqlmodel import col

    from storage import crud
    from storage.db import get_engine, session_scope
    from storage.insights import IncidentFact, IncidentTag
    from storage.models import (
        ChildCreate,
        Debrief,
        Incident,
        IncidentStaff,
        PersonCreate,
        Review,
        ReviewAction,
        Role,
        SettingCreate,
        SettingKind,
    )

    rng = random.Random(seed)
    with session_scope() as s:
        setting = crud.create_setting(s, data=SettingCreate(name="Bench House",
                                                            kind=SettingKind.children_home))
        assert setting.id is not None
        children = [crud.create_child(s, data=ChildCreate(setting_id=setting.id,
                                                          display_name=f"Bench Child {i}")).id
                    for i in range(40)]
        staff = [crud.create_person(s, data=PersonCreate(setting_id=setting.id,
                                                         display_name=f"Bench Staff {i}",
                                                         role=Role.staff)).id for i in range(60)]
        manager = crud.create_person(s, data=PersonCreate(setting_id=setting.id,
                                                          display_name="Bench Manager",
                                                          role=Role.manager)).id
        setting_id = setting.id
    span = timedelta(days=3 * 365).total_seconds()
    engine = get_engine()
    with engine.connect() as conn:
        last: Any = conn.execute(sa.select(sa.func.max(col(Incident.id)))).scalar_one()
        first_id = int(last or 0) + 1
    start = time.perf_counter()
    for chunk_start in range(0, incidents, CHUNK):
        rows: dict[str, list[dict[str, Any]]] = {k: [] for k in (
            "incident", "staff", "debrief", "review", "action", "fact", "tag")}
        for number in range(chunk_start, min(incidents, chunk_start + CHUNK)):
            incident_id = first_id + number
            at = now - timedelta(days=3, seconds=rng.random() * span)
            child = rng.choice(children)
            people = rng.sample(staff, rng.choice((1, 2, 2, 3)))
            holds = rng.sample(HOLDS, rng.choice((0, 1, 1, 1, 2)))
            restrictions = [rng.choice(RESTRICTIONS)] if rng.random() < 0.15 else []
            triggers = rng.sample(TRIGGERS, rng.choice((1, 1, 2)))
            recorded = min(now, at + timedelta(hours=rng.uniform(0.5, 30)))
            reviewed = at + timedelta(hours=rng.uniform(4, 70)) if rng.random() < 0.95 else None
            reviewed = reviewed if reviewed is not None and reviewed <= now else None
            rows["incident"].append({"id": incident_id, "setting_id": setting_id,
                                     "child_id": child, "occurred_at": at,
                                     "reported_by_id": people[0], "flags": [], "created_at": at})
            rows["staff"] += [{"incident_id": incident_id, "person_id": p} for p in people]
            rows["debrief"].append({"incident_id": incident_id, "person_id": people[0],
                                    "flow_id": "staff_debrief", "status": "submitted",
                                    "started_at": at, "submitted_at": recorded})
            if reviewed is not None:
                rows["review"].append({"incident_id": incident_id, "manager_id": manager,
                                       "outcome": {"restorative": "held"}, "signed_at": reviewed,
                                       "created_at": reviewed})
            local = at.astimezone(UTC)
            rows["fact"].append({
                "incident_id": incident_id, "setting_id": setting_id, "child_id": child,
                "occurred_at": at, "local_minute": local.hour * 60 + local.minute,
                "local_weekday": local.weekday(), "location": rng.choice(LOCATIONS),
                "duration_minutes": rng.choice((1, 2, 3, 5, 8, 12, 25)),
                "staff_count": len(people), "child_injured": rng.random() < 0.05,
                "staff_injured": rng.random() < 0.05,
                "ground_hold": bool(set(holds) & {"ground", "prone", "supine"}),
                "recorded_at": recorded, "reviewed_at": reviewed, "child_spoken_at": reviewed,
                "record_hours": _hours(at, recorded), "review_hours": _hours(at, reviewed),
                "child_spoken_hours": _hours(at, reviewed), "refreshed_at": now})
            values = ([("intervention", "physical_hold")] if holds else []) + [
                ("hold", h) for h in holds] + [("restriction", r) for r in restrictions] + [
                ("trigger", t) for t in triggers] + [("staff", str(p)) for p in people]
            rows["tag"] += [{"incident_id": incident_id, "kind": kind, "value": value,
                             "setting_id": setting_id, "child_id": child, "occurred_at": at}
                            for kind, value in values]
        with engine.begin() as conn:
            conn.execute(sa.insert(Incident), rows["incident"])
            conn.execute(sa.insert(IncidentStaff), rows["staff"])
            conn.execute(sa.insert(Debrief), rows["debrief"])
            conn.execute(sa.insert(Review), rows["review"])
            conn.execute(sa.insert(IncidentFact), rows["fact"])
            conn.execute(sa.insert(IncidentTag), rows["tag"])
            review_ids: list[Any] = conn.execute(sa.select(col(Review.id), col(Review.incident_id),
                                                col(Review.signed_at))
                                      .where(col(Review.incident_id) >= first_id + chunk_start)
                                      .where(sa.column("id") % 5 == 0)).all()  # type: ignore[assignment]
            if review_ids:
                conn.execute(sa.insert(ReviewAction), [
                    {"review_id": r, "incident_id": i, "description": "Bench action",
                     "owner_id": staff[0], "due_at": signed + timedelta(days=7),
                     "done_at": signed + timedelta(days=3) if r % 2 else None,
                     "created_at": signed} for r, i, signed in review_ids])
        done = min(incidents, chunk_start + CHUNK)
        print(f"  filled {done:,} incidents ({time.perf_counter() - start:.0f} s)", flush=True)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # ids were given: move the sequence past them
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('incident', 'id'), "
                                 "(SELECT max(id) FROM incident))")
        conn.exec_driver_sql("ANALYZE")
    return setting_id


def _hours(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / 3600


def _time(label: str, call: Callable[[], Any], *, repeat: int) -> list[float]:
    call()  # warm
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    print(f"{label:<44} median {statistics.median(times):8.1f} ms   p99 {p99:8.1f} ms   "
          f"{1000 / statistics.median(times):6.1f}/s   (n={repeat}; this process's CPU: median "
          f"{statistics.median(cpu):.1f} ms)", flush=True)
    return times


def _plans(call: Callable[[], Any]) -> None:
    """Run `call` once, capturing its SQL, then print each statement's plan."""
    import sqlalchemy as sa

    from storage.db import get_engine

    engine = get_engine()
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and statement not in {s for s, _ in seen}:
            seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    with engine.connect() as conn:
        for statement, parameters in seen:
            if not any(t in statement for t in ("incidentfact", "incidenttag", "debrief",
                                                "review")):
                continue
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            head = " ".join(statement.split())[:150]
            print(f"\n-- {head}...")
            for row in rows:
                print("   ", row[-1] if engine.dialect.name == "sqlite" else row[0])


def _refresh_rate(*, count: int, now: datetime) -> None:
    """How fast refresh_facts builds facts from real debriefs (answers) of a fresh setting."""
    from bot.services.demo_history import Measure, record_incident
    from storage import crud
    from storage import insights as store
    from storage.db import session_scope
    from storage.models import ChildCreate, PersonCreate, Role, SettingCreate, SettingKind

    with session_scope() as s:
        setting = crud.create_setting(s, data=SettingCreate(name="Refresh House",
                                                            kind=SettingKind.children_home))
        assert setting.id is not None
        child = crud.create_child(s, data=ChildCreate(setting_id=setting.id,
                                                      display_name="Refresh Child")).id
        staff = [crud.create_person(s, data=PersonCreate(setting_id=setting.id,
                                                         display_name=f"Refresh {i}",
                                                         role=Role.staff)).id for i in range(2)]
        assert child is not None
        assert None not in staff
        for number in range(count):
            record_incident(s, setting_id=setting.id, child_id=child, reporter_id=staff[0] or 0,
                            others=[staff[1] or 0], occurred_at=now - timedelta(hours=number + 5),
                            measure=Measure(), review_after=None, now=now)
        setting_id = setting.id
    with session_scope() as s:
        start = time.perf_counter()
        built = store.refresh_facts(s, setting_id=setting_id)
        took = time.perf_counter() - start
    print(f"refresh_facts from real debrief answers: {built} incidents in {took:.2f} s "
          f"({built / took:,.0f} incidents/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-plans", action="store_true")
    args = parser.parse_args()
    url = _setup_env(args.database_url)

    from bot.services import insights
    from bot.services.demo_history import generate
    from bot.services.report import build_report
    from storage import crud
    from storage.db import get_engine, session_scope
    from storage.migrate import upgrade
    from storage.models import SettingCreate, SettingKind
    from storage.types import utcnow

    upgrade()
    engine = get_engine()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; database: {engine.dialect.name}"
          f"{' (' + url.split('@')[-1].split('?')[0] + ')' if '@' in url else ''}")
    now = utcnow()
    start = time.perf_counter()
    setting_id = _fill(incidents=args.incidents, now=now)
    print(f"Filled {args.incidents:,} incidents in {time.perf_counter() - start:.0f} s")

    def flags() -> None:
        with session_scope() as s:
            insights.pattern_flags(s, setting_id=setting_id, as_of=now)

    def page() -> None:
        with session_scope() as s:
            insights.summary(s, setting_id=setting_id, start=now - timedelta(weeks=12), end=now,
                             now=now)

    def year() -> None:
        with session_scope() as s:
            insights.summary(s, setting_id=setting_id, start=now - timedelta(days=365), end=now,
                             now=now)

    with session_scope() as s:
        window = insights.summary(s, setting_id=setting_id, start=now - timedelta(weeks=12),
                                  end=now, now=now)
    print(f"Insights page: {window.total:,} incidents in the last 12 weeks, "
          f"{len(window.flags)} pattern flags")
    _time("pattern flags (28 + 28 days, 8-week trend)", flags, repeat=args.repeat)
    _time("insights page (12 weeks, with flags)", page, repeat=args.repeat)
    _time("a year's numbers (with flags)", year, repeat=max(5, args.repeat // 3))
    print(f"Peak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if not args.no_plans:
        print("\nQuery plans of the insights page:")
        _plans(page)
    print()
    _refresh_rate(count=2000, now=now)
    with session_scope() as s:
        home = crud.create_setting(s, data=SettingCreate(name="Oak House (demo)",
                                                         kind=SettingKind.children_home))
        assert home.id is not None
        history = generate(s, setting_id=home.id, months=12, now=now)
        home_id = home.id
    sizes: list[int] = []

    def pdf() -> None:
        with session_scope() as s:
            sizes.append(len(build_report(s, setting_id=home_id, start=now - timedelta(days=365),
                                          end=now, now=now)))

    _time(f"PDF report, a year of one home ({history.incidents} incidents)", pdf, repeat=5)
    print(f"PDF size: {sizes[-1] / 1024:.0f} KiB; peak memory (max RSS): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
