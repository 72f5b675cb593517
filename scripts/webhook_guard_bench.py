"""Webhook guard benchmark: what large bodies cost `flourish run --webhook-url` (a real process,
uvicorn on a real socket, the Bot API stand-in as Telegram).

    uv run python scripts/webhook_guard_bench.py [--mb 50] [--requests 5]

Sends `--requests` bodies of `--mb` megabytes with a wrong secret (refused with 403 before the body
is read) and as many with the right secret (refused with 413: no update is that large), then one
ordinary update, which must still be answered. Prints the bot's resident memory before and after
(VmRSS) and its peak (VmHWM), the time to each refusal, and `uptime`. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from cryptography.fernet import Fernet  # noqa: E402
from support.botapi_standin import TOKEN, BotApiStandIn  # noqa: E402

FLOURISH = Path(sys.executable).parent / "flourish"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET = "bench-webhook-secret"  # noqa: S105  (made up for this run)


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def settled_memory(pid: int, *, quiet: float = 4.0, limit: float = 120.0) -> float:
    """VmRSS once it has stopped growing for `quiet` seconds (the NLU loads after start)."""
    deadline, last, since = time.monotonic() + limit, 0.0, time.monotonic()
    while time.monotonic() < deadline:
        rss, _ = memory_mb(pid)
        if abs(rss - last) > 1.0:
            last, since = rss, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return rss
        time.sleep(0.5)
    return last


def big_post(port: int, secret: str, megabytes: int) -> tuple[int, float]:
    """POST a body of `megabytes` MB, sending as much of it as the server takes; (status, seconds
    until the status line came)."""
    size = megabytes * 1024 * 1024
    head = (f"POST /telegram HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"{HEADER}: {secret}\r\nContent-Length: {size}\r\n\r\n").encode()
    chunk = b"x" * 65536
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(head)
        conn.settimeout(0.0)
        sent, answer = 0, b""
        while sent < size and b"\r\n" not in answer:
            with contextlib.suppress(BlockingIOError):
                answer += conn.recv(4096)
            try:
                sent += conn.send(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                time.sleep(0.001)
        conn.settimeout(30)
        while b"\r\n" not in answer:
            answer += conn.recv(4096)
    return int(answer.split()[1]), time.monotonic() - started


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--requests", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, BotApiStandIn() as api:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
               "FLOURISH_DATA_DIR": f"{tmp}/data", "TELEGRAM_BOT_TOKEN": TOKEN,
               "TELEGRAM_BASE_URL": api.url, "FOLLOWUPS_ENABLED": "false",
               "FLOURISH_SECRET_KEY": Fernet.generate_key().decode()}
        subprocess.run([str(FLOURISH), "db", "upgrade"], env=env, check=True, cwd=ROOT,
                       capture_output=True)
        port = free_port()
        bot = subprocess.Popen([str(FLOURISH), "run", "--webhook-url",
                                "https://bot.example.test/telegram", "--listen", "127.0.0.1",
                                "--port", str(port), "--secret-token", SECRET],
                               env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            api.wait_for(lambda c: c.method == "setWebhook", timeout=120)
            before = settled_memory(bot.pid)
            results: dict[str, list[tuple[int, float]]] = {"wrong secret": [], "right secret": []}
            for _ in range(args.requests):
                results["wrong secret"].append(big_post(port, "guessed", args.mb))
                results["right secret"].append(big_post(port, SECRET, args.mb))
            after, peak = memory_mb(bot.pid)
            mark = api.mark()
            update = {"update_id": 5_000_001, "message": {
                "message_id": 1, "date": int(time.time()),
                "chat": {"id": 7_777_001, "type": "private"},
                "from": {"id": 7_777_001, "is_bot": False, "first_name": "Bench"},
                "text": "/start"}}
            body = json.dumps(update).encode()
            with socket.create_connection(("127.0.0.1", port)) as conn:
                conn.sendall((f"POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Type: "
                              f"application/json\r\n{HEADER}: {SECRET}\r\nContent-Length: "
                              f"{len(body)}\r\n\r\n").encode() + body)
                conn.recv(4096)
            api.wait_for(lambda c: c.method == "sendMessage", since=mark, timeout=60)
        finally:
            bot.kill()
            bot.wait()
    print(f"{args.requests} x {args.mb} MB bodies, each with a wrong and with the right secret")
    for name, runs in results.items():
        codes = sorted({code for code, _ in runs})
        seconds = [s for _, s in runs]
        print(f"  {name}: HTTP {codes}, answered in median {statistics.median(seconds) * 1000:.0f}"
              f" ms, max {max(seconds) * 1000:.0f} ms")
    print(f"  bot memory: {before:.0f} MB before, {after:.0f} MB after, peak {peak:.0f} MB")
    print("  an ordinary update afterwards: answered")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
