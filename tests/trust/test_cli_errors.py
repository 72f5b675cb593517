"""The command line when the operator or the machine gets something wrong: one clear line on
stderr, exit code 1, no traceback, nothing written, and no data in the message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FLOURISH = str(Path(sys.executable).parent / "flourish")


def flourish(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FLOURISH, *args], capture_output=True, text=True, env=env, timeout=120,
                          check=False)


def assert_one_line(done: subprocess.CompletedProcess[str], expected: str) -> None:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert expected in lines[0], done.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.timeout(900)  # several process starts; slow on a busy machine
def test_a_broken_environment_is_one_line(flourish_env: dict[str, str], tmp_path: Path) -> None:
    base = {k: v for k, v in flourish_env.items() if k != "DATABASE_URL"}
    add = ["admin", "add-setting", "--name", "Ash Lodge", "--kind", "children_home"]
    assert_one_line(flourish({**base, "DATABASE_URL": "not a url"}, *add),
                    "DATABASE_URL is not a database URL")
    refused = flourish({**base, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/flourish"}, *add)
    assert_one_line(refused, "The database refused: OperationalError")
    assert_one_line(flourish({**base, "INVITE_TTL_HOURS": "soon"}, *add),
                    "not valid: INVITE_TTL_HOURS")
    if os.geteuid() != 0:  # root can write anywhere, so a read-only directory cannot be shown
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert_one_line(flourish({**base, "FLOURISH_DATA_DIR": str(locked / "data")}, *add),
                        "Cannot use")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.timeout(900)  # several process starts; slow on a busy machine
def test_mistakes_in_admin_commands_are_one_line(flourish_env: dict[str, str]) -> None:
    env = flourish_env
    assert flourish(env, "admin", "add-setting", "--name", "Ash Lodge",
                    "--kind", "children_home").returncode == 0
    assert_one_line(flourish(env, "admin", "add-person", "--setting", "1", "--name", "  "),
                    "--name must be between 1 and 200 characters")
    assert_one_line(flourish(env, "admin", "invite", "--setting", "1", "--role", "child",
                             "--child", "4040", "--name", "Kit O'Dea"), "No child 4040")
    assert_one_line(flourish(env, "export", "--setting", "99"), "No setting 99")
    listing = flourish(env, "admin", "list")
    assert "person" not in listing.stdout  # nothing was written by the refused commands
