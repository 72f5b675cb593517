"""Properties of the dialogue engine under random use (Hypothesis), for every flow.

A tired member of staff presses old buttons, types controls at odd moments, sends stickers and
pastes odd text. Whatever they do, the engine must not raise, must always answer, and must leave
a state that survives storage and resumes to a question, a summary or a clear "finished".
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogues.engine import Engine, Inbound, Outbound, State
from dialogues.flow import load_flow

KINDS = ["children_home", "residential_special_school", "secure_children_home", "school"]
PEOPLE = [{"value": "4021", "label": "Jordan O'Reilly"}, {"value": "5117", "label": "Sam D'Souza"}]
CONTEXTS: dict[str, list[dict[str, Any]]] = {
    "staff_debrief": [
        {"new_incident": True, "setting_kind": kind, "options": {
            "children": [{"value": "903", "label": "Kai O'Neill"},
                         {"value": "77", "label": "Ellie-May D'Arcy"}],
            "staff": [*PEOPLE, {"value": "none", "label": "Just me"}]}}
        for kind in KINDS
    ] + [{"new_incident": False, "incident_id": 8812, "setting_kind": "school",
          "options": {"children": [], "staff": []}}],
    "manager_review": [{"incident_id": 8812, "options": {"owners": PEOPLE}},
                       {"incident_id": 8812, "options": {"owners": []}}],
    "child_view": [{"incident_id": 8812}, {}],
    "child_view_assisted": [{"incident_id": 8812, "options": {"supporters": PEOPLE}}],
    "review_addendum": [{"review_id": 311}],
}
FINISHED = ("submitted", "cancelled")
WORDS = ["back", "skip", "help", "pause", "not sure", "cancel", "stop", "submit", "edit", "yes",
         "no", "y", "nope", "1", "2, 3", "0", "99", "-4", "7pm", "23:59", "00:00", "25:99",
         "yesterday", "10 minutes", "two", "carry on", "Just me", "done", "I don't know"]
TEXT = st.one_of(
    st.sampled_from(WORDS),
    st.text(max_size=40),
    st.text(alphabet=" \t\n\u200b\u00a0", max_size=5),  # whitespace only
    st.text(alphabet="\x00\x07\x1b\u202e\ufeff", min_size=1, max_size=5),  # control characters
    st.just("She said 'leave me alone' and I held her arm. " * 300),  # long
)
FORGED = st.one_of(
    st.text(max_size=80),
    st.builds(lambda a, b: f"{a}|{b}", st.sampled_from(
        ["wellbeing", "child", "summary", "choose_edit", "confirm_cancel", "distress", "x" * 70]),
        st.sampled_from(["v:", "t:", "c:", "done", "keep", "edit:", "submit", "yes", "v:" + "9" * 80,
                         "c:jump", "t:none", "edit:wellbeing", "edit:nope"])),
)


def _buttons(messages: list[Outbound]) -> list[str]:
    return [b.payload for m in messages for row in m.buttons for b in row]


def _check(engine: Engine, before: State, state: State, messages: list[Outbound]) -> State:
    """The invariants after every step; returns the state as a fresh process would load it."""
    assert messages, "every input gets an answer"
    assert all(m.text.strip() for m in messages)
    stored = State.model_validate_json(state.model_dump_json())
    assert stored == state
    assert state.status in ("active", "paused", "summary", "choose_edit", "confirm_cancel",
                            "distress", "submitted", "cancelled")
    if before.status in FINISHED:
        assert state.status == before.status, "a finished conversation stays finished"
    ids = {q.id for q in engine.flow.questions}
    assert set(state.answers) <= ids
    if state.status == "active":
        assert state.current in ids
    if state.status in ("summary", "submitted"):
        assert state.current is None
    resumed, shown = engine.resume(stored)
    assert shown
    if stored.status not in FINISHED:
        assert resumed.status in ("active", "summary", "choose_edit")
        assert any(m.question_id or m.kind == "summary" or m.buttons for m in shown), shown
    return stored


@pytest.mark.parametrize("flow_id", sorted(CONTEXTS))
@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_use_never_raises_and_always_leaves_a_resumable_state(
    flow_id: str, data: st.DataObject
) -> None:
    engine = Engine(load_flow(flow_id))
    context = data.draw(st.sampled_from(CONTEXTS[flow_id]), label="context")
    state, messages = engine.start(context)
    seen: list[str] = _buttons(messages)
    for _ in range(data.draw(st.integers(min_value=1, max_value=60), label="steps")):
        current = _buttons(messages)
        choices = ["text", "forged", "unsupported", "resume"]
        if current:
            choices += ["button", "button", "button"]
        if seen:
            choices.append("stale")
        kind = data.draw(st.sampled_from(choices), label="kind")
        if kind == "button":
            inbound = Inbound.pressed(data.draw(st.sampled_from(current)))
        elif kind == "stale":
            inbound = Inbound.pressed(data.draw(st.sampled_from(seen)))
        elif kind == "forged":
            inbound = Inbound.pressed(data.draw(FORGED))
        elif kind == "unsupported":
            inbound = Inbound.unsupported(data.draw(st.sampled_from(["sticker", "photo", ""])))
        elif kind == "text":
            inbound = Inbound.typed(data.draw(TEXT))
        before = state
        if kind == "resume":
            state, messages = engine.resume(state)
        else:
            state, messages = engine.handle(state, inbound)
        state = _check(engine, before, state, messages)
        seen += _buttons(messages)


def test_pressing_every_shown_button_in_turn_always_reaches_the_end() -> None:
    """Pressing the first button shown, again and again, finishes every flow (no dead end)."""
    for flow_id, contexts in CONTEXTS.items():
        engine = Engine(load_flow(flow_id))
        for context in contexts:
            state, messages = engine.start(context)
            for _ in range(400):
                if state.status in FINISHED:
                    break
                payloads = [p for p in _buttons(messages) if not p.endswith((
                    "c:pause", "c:back", "c:cancel", "c:help", "|edit"))]
                done = [p for p in payloads if p.endswith("|done")]
                if not payloads:  # a free-text question: skip it, or answer it if it must be
                    skipped, messages = engine.handle(state, Inbound.typed("skip"))
                    if skipped.current == state.current and skipped.status == state.status:
                        skipped, messages = engine.handle(state, Inbound.typed(
                            "The time was 23:45, not 22:45."))
                    state = skipped
                else:  # a multi-choice: tick the first option, then Done
                    press = done[0] if done and state.selection else payloads[0]
                    state, messages = engine.handle(state, Inbound.pressed(press))
                    if state.status == "summary":
                        state, messages = engine.handle(state, Inbound.pressed("summary|submit"))
            assert state.status == "submitted", (flow_id, context, messages[-1].text)
