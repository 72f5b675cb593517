"""`flourish run` as a real process, for tests that kill it and start it again."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

FLOURISH = Path(sys.executable).parent / "flourish"
ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    """`flourish run ...` in a subprocess, its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen([str(FLOURISH), "run", *args], cwd=ROOT, env=env,
                                         stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: no clean-up, as when a machine loses power."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")
