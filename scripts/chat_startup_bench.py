"""Benchmark: how long `flourish chat` takes to show its first question, on a second run.

    uv run python scripts/chat_startup_bench.py [--runs 5]

Runs `flourish chat` once on a fresh data directory (it creates the database and the demo home,
and may train the NLU), then starts it `--runs` more times on the same directory, each a fresh
process, and prints the median and max time from starting the process to the first question
appearing on its standard output. Each run ends by closing its input (the debrief pauses).
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

ROOT = Path(__file__).resolve().parents[1]
FIRST_QUESTION = "how are you feeling right now?"


def one_run(data_dir: Path) -> float:
    """Seconds from starting `flourish chat` to its first question (the process is then stopped)."""
    env = {**os.environ, "FLOURISH_DATA_DIR": str(data_dir), "NLU_BACKEND": "spacy"}
    env.pop("DATABASE_URL", None)
    env.pop("TELEGRAM_BOT_TOKEN", None)
    started = time.perf_counter()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "flourish"), "chat"], cwd=ROOT,
                            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if FIRST_QUESTION in line.lower():
                return time.perf_counter() - started
        raise RuntimeError("flourish chat ended without asking its first question")
    finally:
        proc.kill()
        proc.wait(timeout=10)


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        first = one_run(Path(tmp))
        times = [one_run(Path(tmp)) for _ in range(runs)]
    print(f"flourish chat, first question, on {os.cpu_count()} cores:")
    print(f"  first run (fresh data directory): {first:.2f} s")
    print(f"  next {runs} runs: median {statistics.median(times):.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    main(parser.parse_args().runs)
