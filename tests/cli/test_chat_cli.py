"""`flourish chat` as a real process: a newcomer's whole debrief through stdin, then the export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.services import insights
from bot.services.demo_history import PLANTED
from storage import crud
from storage.db import session_scope

FLOURISH = str(Path(sys.executable).parent / "flourish")

# The terminal chat is the same engine and service as tests/bot/test_debrief_service.py, which runs
# on both databases; here the point is the real process and its stdin, so SQLite is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# What a member of staff answers to each question, recognised by its prompt (the NLU may fill
# some questions from the free-text description, so the order of prompts is not fixed).
REPLIES = {
    "how are you feeling right now?": "1",
    "Which child is this about?": "1",
    "When did it happen?": "yesterday",
    "Roughly what time did it start?": "14:05",
    "Where did it happen?": "bedroom",
    "What did you use?": "1",
    "Who else was involved?": "Jordan Demo",
    "What was happening for the child before this?": "He was tired and didn't want to stop his game",
    "What seemed to set it off?": "1, 3",
    "Before stepping in, what did you try?": "talking, space",
    "Why did you need to step in?": "1",
    "In your own words, what happened?":
        "me and Jordan held him standing in the doorway for about two minutes",
    "Which hold or holds were used?": "standing",
    "About how long did it last": "2",
    "How many staff were hands-on": "2",
    "I noted:": "yes",
    "Was the child hurt at all": "no",
    "Was any member of staff hurt?": "no",
    "How did it end, and how is the child now?": "He settled on his bed with his headphones",
    "What did the child say": "He said he was angry with me",
    "Looking back, was this the least restrictive": "yes",
    "What could make this less likely": "Give a five minute warning before screens off",
    "Here's your debrief.": "submit",
}


def converse(
    env: dict[str, str], *, stop_after: int | None = None, first: dict[str, list[str]] | None = None
) -> tuple[str, list[str]]:
    """Run `flourish chat`, answering each prompt as it appears; return the output and prompts.

    `first` gives inputs to send to a prompt before its usual answer (to try bad input).
    """
    pending = {marker: list(inputs) for marker, inputs in (first or {}).items()}
    process = subprocess.Popen([FLOURISH, "chat", "--no-history"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdin is not None
    assert process.stdout is not None
    transcript: list[str] = []
    block: list[str] = []
    asked: list[str] = []
    for line in process.stdout:
        transcript.append(line)
        if line.rstrip("\n") != "> ":
            block.append(line)
            continue
        text = "".join(block)
        block = []
        found = [(text.rfind(marker), marker) for marker in REPLIES if marker in text]
        assert found, f"no answer for prompt: {text!r}"
        marker = max(found)[1]
        asked.append(marker)
        if stop_after is not None and len(asked) > stop_after:
            process.stdin.close()
            continue
        queued = pending.get(marker)
        process.stdin.write((queued.pop(0) if queued else REPLIES[marker]) + "\n")
        process.stdin.flush()
    assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    return "".join(transcript), asked


def export(env: dict[str, str]) -> list[dict]:  # type: ignore[type-arg]
    done = subprocess.run([FLOURISH, "export", "--format", "json"], capture_output=True,
                          text=True, env=env, timeout=60, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_newcomer_completes_a_debrief_in_the_terminal(flourish_env: dict[str, str]) -> None:
    output, asked = converse(flourish_env)
    assert "Created a demo home" in output
    assert "Receipt: debrief 1 submitted." in output
    assert asked[0] == "how are you feeling right now?"
    assert asked[-1] == "Here's your debrief."
    records = export(flourish_env)
    assert len(records) == 1
    answers = records[0]["debriefs"][0]["answers"]
    assert answers["location"]["value"] == "bedroom"
    assert answers["child_experience"]["value"] == "He said he was angry with me"
    assert answers["next_time"]["value"] == "Give a five minute warning before screens off"
    assert answers["staff_count"]["value"] == 2
    assert answers["duration"]["value"] == 2
    assert "restraint_in_bedroom" in records[0]["flags"]


def test_end_of_input_midway_pauses_and_loses_nothing(flourish_env: dict[str, str]) -> None:
    first, asked = converse(flourish_env, stop_after=8)
    assert "Paused: your answers are saved" in first
    assert export(flourish_env) == []
    second, asked_again = converse(flourish_env)
    assert "Welcome back" in second
    assert asked_again[0] == asked[8], "carries on at exactly the question that was open"
    assert "Receipt: debrief" in second
    answers = export(flourish_env)[0]["debriefs"][0]["answers"]
    assert answers["communication"]["value"] == "He was tired and didn't want to stop his game"
    assert "wellbeing" not in answers, "a staff member's own check-in is not part of the record"


def test_bad_input_gets_clear_messages_and_loses_nothing(flourish_env: dict[str, str]) -> None:
    output, _ = converse(flourish_env, first={
        "how are you feeling right now?": ["", "7", "🙂🙂🙂"],
        "Roughly what time did it start?": ["25:99"],
        "What was happening for the child before this?": ["y" * 10_000],
        "What seemed to set it off?": ["12", "Ёлка 木"],
        "In your own words, what happened?": ["We held him."],
        "About how long did it last": ["forever"],
        "What could make this less likely": ["Ёлка 木 — 💡 more warning"],
    })
    assert "I didn't get any words there." in output
    assert "Please choose one of the buttons, or type its number." in output
    assert "Please give a time of day" in output
    assert "I couldn't match that to the choices" in output
    assert "Please give a length of time" in output
    assert "Receipt: debrief" in output
    answers = export(flourish_env)[0]["debriefs"][0]["answers"]
    assert answers["communication"]["value"] == "y" * 10_000
    assert answers["next_time"]["value"] == "Ёлка 木 — 💡 more warning"
    assert answers["incident_time"]["value"] == "14:05"


def test_a_new_demo_home_has_months_of_history_with_patterns_to_see(
        flourish_env: dict[str, str], db_engine: Engine) -> None:
    done = subprocess.run([FLOURISH, "chat", "--plain"], input="", capture_output=True, text=True,
                          env=flourish_env, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "Created a demo home" in done.stdout
    assert "past incidents with patterns to see" in done.stdout
    records = export(flourish_env)
    assert len(records) > 40
    assert len({r["child"] for r in records}) >= 5
    with session_scope() as s:
        setting = crud.list_settings(s)[0]
        assert setting.id is not None
        found = {f.name for f in insights.pattern_flags(s, setting_id=setting.id)}
    assert set(PLANTED) <= found
