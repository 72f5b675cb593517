"""`flourish nlu parse` as a real process: one JSON object per input line, DESIGN.md shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], model_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"FLOURISH_NLU_MODEL_DIR": str(model_dir), "NLU_BACKEND": "spacy"}
    return subprocess.run([sys.executable, "-m", "nlu", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120, check=False)


def test_parse_arguments_print_one_json_per_text(model_dir: Path) -> None:
    proc = run(["parse", "me n Dave took her to the floor approx 4 mins no injuries no prn",
                "can we skip this"], model_dir)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"text", "intent", "entities", "facts", "flags"}
    assert set(first["intent"]) == {"name", "confidence"}
    assert set(first["entities"][0]) == {"entity", "value", "start", "end", "negated"}
    assert first["facts"]["staff_count"] == 2
    assert first["facts"]["duration_minutes"] == 4.0
    assert first["facts"]["injury"] == {"child": False, "staff": False}
    assert first["flags"] == ["prone_or_ground_hold"]
    assert second["intent"]["name"] == "skip"


def test_parse_reads_one_text_per_stdin_line(model_dir: Path) -> None:
    stdin = "yes\n\nwe held her face down in her bedroom\n😢\n"
    proc = run(["parse"], model_dir, stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    assert [r["text"] for r in rows] == ["yes", "", "we held her face down in her bedroom", "😢"]
    assert rows[0]["intent"]["name"] == "affirm"
    assert rows[2]["flags"] == ["prone_or_ground_hold", "restraint_in_bedroom"]


def test_evaluate_prints_the_scores(model_dir: Path) -> None:
    proc = run(["evaluate", "--json"], model_dir)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["intent_accuracy"] >= 0.95
    assert report["flag_micro"]["f1"] >= 0.95
    assert {"intent_macro_f1", "entities", "flags", "confusion"} <= set(report)
