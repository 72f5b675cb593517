"""Benchmark: how many inputs a typical staff debrief takes, and roughly how long on a phone.

    uv run python scripts/debrief_turns.py [--no-nlu] [--verbose]

Drives the real staff debrief flow through the engine (with the embedded NLU unless --no-nlu) with
one scripted, realistic incident: a tired member of staff who taps where there are buttons and types
a sentence or two where asked. The script answers whatever question the flow asks next, so the same
script measures the flow before and after a change. Prints the number of inputs (taps and typed
messages), the questions asked, and an estimate of the minutes it takes on a phone: 6 s to read a
question and tap, 4 s for each further tap on the same message, and for a typed answer 8 s to read
plus 3 characters a second to type. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dialogues.engine import Engine, Inbound, State
from dialogues.flow import QuestionType, load_flow

READ_AND_TAP_S = 6.0
EXTRA_TAP_S = 4.0
READ_S = 8.0
TYPED_CHARS_PER_S = 3.0

CONTEXT: dict[str, Any] = {
    "new_incident": True,
    "setting_kind": "children_home",
    "timezone": "Europe/London",
    "now": datetime(2026, 11, 18, 19, 5, tzinfo=UTC).isoformat(),
    "options": {
        "children": [{"value": "41", "label": "Robin O'Neill (demo)"},
                     {"value": "17", "label": "Kit Adeyemi (demo)"}],
        "staff": [{"value": "23", "label": "Sam D'Souza (demo)"},
                  {"value": "none", "label": "Just me"}],
    },
}

STORY = ("Robin was really upset after his phone call with his mum was cut short, he threw a chair "
         "across the lounge and went for Kit. We talked to him calmly and gave him space but he "
         "kept going so me and Sam held him standing in the lounge for about 3 mins until he "
         "calmed, no marks on anyone.")

# What the person does at each question: ("press", [values]) taps, ("type", text) types.
SCRIPT: dict[str, tuple[str, Any]] = {
    "wellbeing": ("press", ["shaken"]),
    "child": ("press", ["41"]),
    "incident_day": ("press", ["today"]),
    "incident_time": ("type", "about 5.40pm"),
    "location": ("press", ["communal"]),
    "interventions": ("press", ["physical_hold"]),
    "other_staff": ("press", ["23"]),
    "communication": ("type", "He was upset after the call with his mum was cut short, "
                              "I think he felt let down and wanted someone to listen."),
    "triggers": ("press", ["family"]),
    "tried_first": ("press", ["talking", "space", "distraction"]),
    "necessity": ("press", ["injury_others", "property"]),
    "describe": ("type", STORY),
    "hold_types": ("press", ["standing"]),
    "restrictions": ("press", ["blocked_exit"]),
    "equipment": ("press", ["harness"]),
    "duration": ("type", "3"),
    "staff_count": ("type", "2"),
    "noted_confirm": ("press", ["yes"]),
    "child_injured": ("press", ["no"]),
    "staff_injured": ("press", ["no"]),
    "injury_details": ("type", "none"),
    "ending": ("type", "He calmed once we let go and sat with Sam, now settled watching TV."),
    "child_experience": ("type", "He said we always take his mum's side. Seemed embarrassed after."),
    "least_restrictive": ("press", ["yes"]),
    "next_time": ("type", "Tell him before contact if a call might be cut short."),
}
# What is true, for the person to check what the flow noted from their story.
TRUTH: dict[str, Any] = {"location": "communal", "interventions": ["physical_hold"],
                         "hold_types": ["standing"], "duration": 3, "staff_count": 2,
                         "child_injured": False, "staff_injured": False}
# What the person types when the flow refuses the first answer and asks again.
RETRY: dict[str, str] = {"incident_time": "17:40"}


def _true(engine: Engine, question_id: str, value: Any) -> bool:
    """Whether a noted answer is what really happened, by the script."""
    if question_id in TRUTH:
        return bool(TRUTH[question_id] == value)
    how, what = SCRIPT[question_id]
    question = engine.flow.question(question_id)
    if question.type is QuestionType.multi_choice:
        return set(value) == set(what)
    return how == "press" and value == what[0]


def run(*, use_nlu: bool, verbose: bool) -> dict[str, Any]:
    """Drive one debrief to submission; count inputs and estimate seconds."""
    interpreter = None
    if use_nlu:
        from nlu.embedded import default_interpreter
        interpreter = default_interpreter()
    engine = Engine(load_flow("staff_debrief"), interpreter)
    state, messages = engine.start(dict(CONTEXT))
    inputs = 0
    seconds = 0.0
    step_ms: list[float] = []
    asked: list[str] = []
    while state.status == "active":
        question = engine.flow.question(state.current or "")
        asked.append(question.id)
        how, what = SCRIPT[question.id]
        if asked.count(question.id) > 1 and question.id in RETRY:
            how, what = "type", RETRY[question.id]
        if question.type is QuestionType.confirm_noted:
            wrong = [q for q, r in state.answers.items()
                     if r.source == "nlu" and not _true(engine, q, r.value)]
            if any(b.payload.endswith("|done") for m in messages for row in m.buttons for b in row):
                steps = [Inbound.pressed(f"{question.id}|t:{q}") for q in wrong]
                steps.append(Inbound.pressed(f"{question.id}|v:yes" if not wrong else f"{question.id}|done"))
                how, what = "ticks", steps
            else:
                what = ["no" if wrong else "yes"]
        steps: list[Inbound] = []
        if how == "ticks":
            steps = what
            seconds += READ_AND_TAP_S * 2 + EXTRA_TAP_S * (len(steps) - 1)  # a longer message to read
        elif how == "type":
            steps.append(Inbound.typed(what))
            seconds += READ_S + len(what) / TYPED_CHARS_PER_S
        elif question.type is QuestionType.multi_choice:
            ticked = set(state.selection)  # shown already ticked: tap only what differs
            steps += [Inbound.pressed(f"{question.id}|t:{v}")
                      for v in [*what, *state.selection] if (v in what) != (v in ticked)]
            steps.append(Inbound.pressed(f"{question.id}|done"))
            seconds += READ_AND_TAP_S + EXTRA_TAP_S * (len(steps) - 1)
        else:
            steps.append(Inbound.pressed(f"{question.id}|v:{what[0]}"))
            seconds += READ_AND_TAP_S
        for inbound in steps:
            started = time.perf_counter()
            state, messages = engine.handle(state, inbound)
            step_ms.append((time.perf_counter() - started) * 1000)
            inputs += 1
            if verbose:
                print(f"  {question.id}: {inbound.text[:60]!r} -> {messages[0].text[:70]!r}")
        if len(asked) > 80:
            raise SystemExit("the script is going round in circles")
    assert state.status == "summary", state.status
    state, _ = engine.handle(state, Inbound.pressed("summary|submit"))
    inputs += 1
    seconds += READ_AND_TAP_S * 2  # reading the summary takes longer than one question
    assert state.status == "submitted"
    return {"inputs": inputs, "questions": len(asked), "minutes": seconds / 60, "asked": asked,
            "state": state, "step_ms": step_ms}


def main() -> None:
    """Print the inputs and minutes of the scripted debrief."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-nlu", action="store_true", help="plain words only, no NLU")
    parser.add_argument("--verbose", action="store_true", help="print every input and reply")
    args = parser.parse_args()
    result = run(use_nlu=not args.no_nlu, verbose=args.verbose)
    state: State = result["state"]
    print(f"questions asked: {result['questions']} ({', '.join(result['asked'])})")
    print(f"inputs (taps + typed messages, including submit): {result['inputs']}")
    print(f"estimated time on a phone: {result['minutes']:.1f} min")
    print(f"answers stored: {len(state.answers)}")
    rounds = [run(use_nlu=not args.no_nlu, verbose=False)["step_ms"] for _ in range(20)]
    steps = sorted(ms for one in rounds for ms in one)
    p99 = steps[min(len(steps) - 1, int(len(steps) * 0.99))]
    print(f"engine step (20 more debriefs, {len(steps)} steps): median "
          f"{statistics.median(steps):.2f} ms, p99 {p99:.2f} ms, "
          f"{len(steps) / (sum(steps) / 1000):.0f} steps/s; peak memory "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
