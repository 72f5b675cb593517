"""Benchmark: how long `flourish run` takes to be ready, and how much memory the whole bot uses.

    uv run python scripts/bot_startup_bench.py [--runs 5]

Starts the real bot process against the local Bot API stand-in (tests/support) on a fresh SQLite
database, and prints, over the runs: the time from starting the process to its first getUpdates
(polling, i.e. ready to answer), the time until it has answered a first typed message (an
unknown person's, which needs no NLU), and the process's resident memory then and once the NLU
has loaded in the background (median and max).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
SETTLE_SECONDS = 8


def one_run(api: object, data_dir: Path) -> tuple[float, float, float, float]:
    from support.botapi_standin import BotApiStandIn

    assert isinstance(api, BotApiStandIn)
    env = {**os.environ, "FLOURISH_DATA_DIR": str(data_dir), "TELEGRAM_BOT_TOKEN": api.token,
           "TELEGRAM_BASE_URL": api.url, "NLU_BACKEND": "spacy", "NO_PROXY": "127.0.0.1,localhost"}
    env.pop("DATABASE_URL", None)
    mark = api.mark()
    started = time.perf_counter()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "flourish"), "run"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        api.wait_for(lambda c: c.method == "getUpdates", since=mark, timeout=120)
        ready = time.perf_counter() - started
        before = api.mark()
        api.user(4242, "Bench").send("hello there")  # not enrolled: answered without the NLU
        api.wait_for(lambda c: c.method == "sendMessage", since=before, timeout=120)
        answered = time.perf_counter() - started
        rss = psutil.Process(proc.pid).memory_info().rss / 2**20
        time.sleep(SETTLE_SECONDS)  # the NLU finishes loading in the background meanwhile
        settled = psutil.Process(proc.pid).memory_info().rss / 2**20
        return ready, answered, rss, settled
    finally:
        proc.kill()
        proc.wait(timeout=10)


def main(runs: int) -> None:
    from support.botapi_standin import BotApiStandIn

    subprocess.run([str(Path(sys.executable).parent / "flourish"), "nlu", "train"], check=True,
                   stdout=subprocess.DEVNULL, cwd=ROOT)
    starts: dict[str, list[tuple[float, float, float, float]]] = {"first start": [], "restart": []}
    with BotApiStandIn() as api, tempfile.TemporaryDirectory() as tmp:
        for number in range(runs):
            data_dir = Path(tmp) / f"run{number}"
            starts["first start"].append(one_run(api, data_dir))  # a new database: migrations
            starts["restart"].append(one_run(api, data_dir))  # the same database again
    print(f"flourish run, {runs} starts of each kind on {os.cpu_count()} cores:")
    for kind, figures in starts.items():
        ready, answered, rss, settled = (list(column) for column in zip(*figures, strict=True))
        print(f"{kind}:")
        print(f"  ready (first getUpdates): median {statistics.median(ready):.2f} s, "
              f"max {max(ready):.2f} s")
        print(f"  first message answered:   median {statistics.median(answered):.2f} s, "
              f"max {max(answered):.2f} s")
        print(f"  resident memory then:     median {statistics.median(rss):.0f} MiB, "
              f"max {max(rss):.0f} MiB")
        print(f"  {SETTLE_SECONDS} s later (NLU loaded): median {statistics.median(settled):.0f} "
              f"MiB, max {max(settled):.0f} MiB")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    main(parser.parse_args().runs)
