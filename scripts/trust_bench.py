"""Benchmark: the costs of issue 14's safeguards, on SQLite or PostgreSQL.

    uv run python scripts/trust_bench.py [--database-url URL] [--incidents 200] [--staff 10]

- submits racing on one incident (flags merged under the incident's row lock): each submit's
  latency, median and p99, and submits per second, with `--staff` threads at a barrier;
- `rotate-key` over every encrypted value: values per second;
- invite redemption (HMAC under every key, the throttle's audit query): median and p99;
- the retention job over the whole database: seconds;
and the process's peak memory. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import resource
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--staff", type=int, default=10)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="flourish-trust-bench-")
    old_key = Fernet.generate_key().decode()
    os.environ.update(FLOURISH_DATA_DIR=tmp, FLOURISH_SECRET_KEY=old_key)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url

    from sqlmodel import select

    from storage import crud
    from storage.config import get_config
    from storage.crypto import key_ring
    from storage.db import get_engine, session_scope
    from storage.keys import rotate_keys
    from storage.migrate import upgrade
    from storage.models import (
        ChildCreate,
        Incident,
        PersonCreate,
        Role,
        SettingCreate,
        SettingKind,
    )
    from storage.retention import apply_retention

    upgrade()
    engine = get_engine()
    print(f"database: {engine.dialect.name}; machine: {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    with session_scope() as session:
        setting = crud.create_setting(session, data=SettingCreate(
            name="Bench's House", kind=SettingKind.children_home))
        assert setting.id is not None
        child = crud.create_child(session, data=ChildCreate(setting_id=setting.id,
                                                            display_name="Bench O'Child"))
        staff = [crud.create_person(session, data=PersonCreate(
            setting_id=setting.id, display_name=f"Bench D'Staff {i}", role=Role.staff))
            for i in range(args.staff)]
        setting_id, child_id = setting.id, child.id
        staff_ids = [p.id for p in staff]
    assert child_id is not None

    latencies: list[float] = []
    lock = threading.Lock()
    started = time.perf_counter()
    for number in range(args.incidents):
        with session_scope() as session:
            incident = crud.create_incident(
                session, setting_id=setting_id, child_id=child_id,
                occurred_at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC) + timedelta(hours=number),
                reported_by_id=staff_ids[0] or 0, staff_ids=[i or 0 for i in staff_ids[1:]])
            incident_id = incident.id
        barrier = threading.Barrier(args.staff)

        def submit(index: int, incident_id: int | None = incident_id,
                   barrier: threading.Barrier = barrier) -> None:
            with session_scope() as session:
                found = session.get(Incident, incident_id)
                assert found is not None
                barrier.wait()
                began = time.perf_counter()
                crud.save_debrief(session, incident=found, person_id=staff_ids[index] or 0,
                                  flow_id="staff_debrief", flags=[f"flag_{index}"], answers=[
                                      {"question_id": "describe", "status": "answered",
                                       "text": "She said 'no' at 23:59 and we stepped back."}])
                session.commit()
            with lock:
                latencies.append(time.perf_counter() - began)

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(args.staff)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    elapsed = time.perf_counter() - started
    with session_scope() as session:
        complete = sum(len(i.flags) == args.staff for i in session.exec(select(Incident)))
    print(f"racing submits: {len(latencies)} in {elapsed:.1f} s "
          f"({len(latencies) / elapsed:.0f}/s), {args.staff} at once per incident; "
          f"{_ms(latencies)}; incidents with every flag: {complete}/{args.incidents}")

    new_key = Fernet.generate_key().decode()
    os.environ["FLOURISH_SECRET_KEY"] = f"{new_key},{old_key}"
    get_config.cache_clear()
    key_ring.cache_clear()
    began = time.perf_counter()
    done = rotate_keys(engine)
    spent = time.perf_counter() - began
    print(f"rotate-key: {done.rotated} values in {spent:.2f} s ({done.rotated / spent:.0f}/s)")

    redeem: list[float] = []
    with session_scope() as session:
        codes = [crud.create_invite(session, person_id=staff_ids[i % args.staff] or 0,
                                    ttl=timedelta(hours=72)) for i in range(200)]
    for number, code in enumerate(codes):
        began = time.perf_counter()
        with session_scope() as session, contextlib.suppress(crud.InviteError):
            crud.redeem_invite(session, code=code, telegram_user_id=900_000 + number)
        redeem.append(time.perf_counter() - began)
    print(f"invite redemption: {len(redeem)} codes; {_ms(redeem)}")

    began = time.perf_counter()
    with session_scope() as session:
        apply_retention(session)
    print(f"retention job over the whole database: {time.perf_counter() - began:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:.0f} MB")
    engine.dispose()


if __name__ == "__main__":
    main()
