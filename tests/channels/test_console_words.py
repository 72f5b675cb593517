"""The console says things in a terminal's words: choices listed when "Partly" is an answer, and
"Type /debrief" where Telegram says "Send /debrief" (no "Tap", no "Send /" in a terminal)."""

from __future__ import annotations

from bot.console import render
from dialogues.engine import Engine, Inbound
from dialogues.flow import Flow
from dialogues.wording import for_telegram

FLOW = Flow.model_validate({
    "id": "words", "version": 1, "title": "T", "intro": "Hi.", "done": "Done.",
    "questions": [
        {"id": "least", "type": "choice", "short": "Least", "prompt": "Was it the least force?",
         "help": "h", "guidance": "g",
         "options": [{"value": "yes", "label": "Yes"}, {"value": "partly", "label": "Partly"},
                     {"value": "no", "label": "No"}]},
        {"id": "hurt", "type": "yes_no", "short": "Hurt", "prompt": "Was anyone hurt?",
         "help": "h", "guidance": "g"},
        {"id": "what", "type": "multi_choice", "short": "What", "prompt": "What? {Tap} all.",
         "help": "h", "guidance": "g",
         "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
    ]})


def test_a_choice_with_partly_lists_every_answer_and_a_yes_no_says_yes_or_no() -> None:
    engine = Engine(FLOW)
    state, messages = engine.start()
    shown = render(messages[-1])
    assert "  1. Yes\n  2. Partly\n  3. No" in shown
    assert "(yes / no)" not in shown
    state, messages = engine.handle(state, Inbound.pressed("least|v:partly"))
    assert "(yes / no)" in render(messages[-1])


def test_channel_actions_are_in_the_terminals_words_and_telegrams_in_telegram() -> None:
    engine = Engine(FLOW)
    state, _ = engine.start()
    state, _ = engine.handle(state, Inbound.pressed("least|v:yes"))
    state, messages = engine.handle(state, Inbound.pressed("hurt|v:no"))
    assert render(messages[-1]).startswith("What? Choose all.")
    _, paused = engine.handle(state, Inbound.typed("pause"))
    console = render(paused[-1])
    assert "Type /debrief when you're ready" in console
    assert "Send /" not in console
    assert "{" not in console
    assert "Send /debrief when you're ready" in for_telegram(paused[-1].text)
