"""Several `flourish run --webhook-url` workers as real processes, and a reverse proxy's part in
front of them: for tests and benchmarks of several workers on one PostgreSQL database.

    workers = [Worker.start(env, tmp_path / "a.log"), Worker.start(env, tmp_path / "b.log")]
    await wait_healthy(workers)
    proxy = Proxy([w.url for w in workers])
    await proxy.deliver(update)           # like nginx: the next worker if one fails, until a 200
    await proxy.to_all(update)            # the same update to every worker at once (a retry storm)

Each worker process gets `application_name=<name>` on its PostgreSQL connections, so a test can
cut exactly its own connections (`cut_connections`) on a server other work shares.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from support.bot_process import BotProcess

SECRET = "workers-test-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HOOK_PATH = "/telegram"


def free_port() -> int:
    """A TCP port nobody is listening on just now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def with_application_name(database_url: str, name: str) -> str:
    """The database URL with `application_name` set, so a test can find its own connections."""
    separator = "&" if "?" in database_url else "?"
    return f"{database_url}{separator}application_name={name}"


@dataclass
class Worker:
    """One webhook worker process on its own port."""

    process: BotProcess
    port: int

    @classmethod
    def start(cls, env: dict[str, str], log: Path) -> Worker:
        port = free_port()
        process = BotProcess(env, log, "--webhook-url", f"https://bot.example.test{HOOK_PATH}",
                             "--listen", "127.0.0.1", "--port", str(port),
                             "--secret-token", SECRET)
        return cls(process, port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.proc.pid

    def alive(self) -> bool:
        return self.process.proc.poll() is None


async def wait_healthy(workers: list[Worker], *, within: float = 90.0) -> None:
    """Wait until every worker answers /healthz with 200 (its webhook is then being served)."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(trust_env=False, timeout=2) as client:
        for worker in workers:
            while True:
                try:
                    if (await client.get(f"{worker.url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or not worker.alive():
                    raise AssertionError(f"worker on {worker.port} never became healthy:\n"
                                         f"{worker.process.output()[-3000:]}")
                await asyncio.sleep(0.1)


class Proxy:
    """What a reverse proxy and Telegram do together: POST an update to a worker; on a dropped
    connection or a 5xx, try the next worker (and keep trying, as Telegram redelivers) until one
    answers 200. Counts the attempts that did not get a 200."""

    def __init__(self, urls: list[str], *, timeout: float = 30.0) -> None:
        self.urls = list(urls)
        self.timeout = timeout
        self.failed_attempts = 0
        self._next = itertools.cycle(range(len(urls)))
        self._client = httpx.AsyncClient(trust_env=False, timeout=timeout)

    async def close(self) -> None:
        await self._client.aclose()

    async def post(self, url: str, update: dict[str, Any]) -> int | None:
        """One attempt: the HTTP status, or None when the connection failed."""
        try:
            response = await self._client.post(f"{url}{HOOK_PATH}", json=update,
                                               headers={SECRET_HEADER: SECRET})
        except httpx.TransportError:
            return None
        return response.status_code

    async def deliver(self, update: dict[str, Any], *, first: int | None = None,
                      within: float = 60.0) -> None:
        """Deliver until a worker answers 200 (starting with worker `first`, else round robin)."""
        index = next(self._next) if first is None else first
        deadline = time.monotonic() + within
        while True:
            status = await self.post(self.urls[index % len(self.urls)], update)
            if status == 200:
                return
            if status is not None and status < 500:
                raise AssertionError(f"update {update['update_id']} refused with {status}")
            self.failed_attempts += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"update {update['update_id']} never got a 200")
            index += 1
            await asyncio.sleep(0.05)

    async def to_all(self, update: dict[str, Any]) -> None:
        """The same update to every worker at once; each copy must end in a 200."""
        await asyncio.gather(*(self.deliver(update, first=i) for i in range(len(self.urls))))


def cut_connections(admin_url: str, application_name: str) -> int:
    """`pg_terminate_backend` for every connection with this application name (only this test's);
    returns how many were cut."""
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return len(conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                {"name": application_name}).all())
    finally:
        engine.dispose()
