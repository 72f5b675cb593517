"""`flourish admin` and `scripts/start` as a newcomer would run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FLOURISH = str(Path(sys.executable).parent / "flourish")
ROOT = Path(__file__).resolve().parents[2]


def flourish(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FLOURISH, *args], capture_output=True, text=True, env=env, timeout=120,
                          check=False)


def test_admin_sets_up_a_setting_people_and_children(flourish_env: dict[str, str]) -> None:
    added = flourish(flourish_env, "admin", "add-setting", "--name", "Birch School (test)",
                     "--kind", "residential_special_school")
    assert added.returncode == 0, added.stderr
    assert "Added setting 1" in added.stdout
    assert flourish(flourish_env, "admin", "add-person", "--setting", "1", "--name", "Casey Test",
                    "--role", "manager").returncode == 0
    assert flourish(flourish_env, "admin", "add-child", "--setting", "1", "--name", "Sky (test)",
                    "--key-worker", "1").returncode == 0
    listing = flourish(flourish_env, "admin", "list")
    assert "setting 1: Birch School (test) (residential_special_school)" in listing.stdout
    assert "person 1: Casey Test [manager] not enrolled" in listing.stdout
    assert "child 1: Sky (test)" in listing.stdout


def test_admin_explains_mistakes_without_a_traceback(flourish_env: dict[str, str]) -> None:
    wrong_kind = flourish(flourish_env, "admin", "add-setting", "--name", "X", "--kind", "castle")
    assert wrong_kind.returncode != 0
    assert "Unknown kind 'castle'" in wrong_kind.stderr
    no_setting = flourish(flourish_env, "admin", "add-child", "--setting", "9", "--name", "Y")
    assert no_setting.returncode != 0
    assert "No setting 9" in no_setting.stderr
    assert "Traceback" not in wrong_kind.stderr + no_setting.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_start_without_a_token_opens_the_console_chat(flourish_env: dict[str, str]) -> None:
    env = {k: v for k, v in flourish_env.items() if k != "TELEGRAM_BOT_TOKEN"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run([str(ROOT / "scripts" / "start")], input="2\n", capture_output=True,
                          text=True, env=env, timeout=600, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "starting the console chat" in done.stdout
    assert "Which child is this about?" in done.stdout
    assert "Paused: your answers are saved" in done.stdout
