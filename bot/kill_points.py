"""Test-only kill points: `FLOURISH_TEST_KILL_AT=<point>` makes the process kill itself (SIGKILL)
when a submit reaches that point, so the crash test stops the bot exactly there, not by timing.

Unset (always, in production) it does nothing. The points, in order: `before_step` (the press
arrived), `before_commit` (the record is written but not committed), `after_commit`, `after_delete`
(the chat's questions and answers deleted), `after_receipt` (the receipt sent, not yet noted).
"""

from __future__ import annotations

import os
import signal

POINTS = ("before_step", "before_commit", "after_commit", "after_delete", "after_receipt")


def kill_point(name: str) -> None:
    """Die here, without any clean-up, if the test asked for this point."""
    if os.environ.get("FLOURISH_TEST_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
