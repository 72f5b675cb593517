"""Flows are data: questions with types, options, conditions and the guidance point each serves.

A flow is loaded from YAML in `dialogues/flows/` and validated here, so a typo in a flow fails at
load time, not in front of a tired member of staff.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dialogues import buttons
from nlu import catalogue

FLOWS_DIR = Path(__file__).parent / "flows"
MAX_PROMPT_WORDS = 50
MAX_PAYLOAD_BYTES = buttons.MAX_PAYLOAD_BYTES  # Telegram's limit on callback data
CONTROLS = ("back", "skip", "unsure", "help", "pause", "stop")
DEFAULT_CONTROLS = ["back", "skip", "unsure", "help", "pause"]
# Words and button labels the engine itself says; a flow may reword any of them (a child's flow
# needs much simpler words than a tired adult's).
DEFAULT_LABELS: dict[str, str] = {
    "back": "⬅️ Back", "skip": "Skip", "unsure": "Not sure", "help": "❓ Help", "pause": "⏸ Pause",
    "stop": "🛑 Stop", "keep": "Keep that answer", "done": "Done ✔️", "yes": "Yes", "no": "No",
    "submit": "✅ Submit", "edit": "✏️ Change an answer",
}
DEFAULT_MESSAGES: dict[str, str] = {
    "finished": "This one is already finished. Thank you.",
    "welcome_back": "Welcome back. Here is where we were:",
    "unsupported": "I can only read words and button presses here. "
                   "Please answer in words or use the buttons.",
    "edited": "Changing a message after sending it doesn't change my notes. To change an answer, "
              "go ⬅️ Back to it, or change it from the summary at the end.",
    "stale": "That button was for an earlier question, so nothing changed.",
    "pick_one": "Pick at least one, or {press} Skip.",
    "empty": "I didn't get any words there.",
    "choose": "Please choose one of the buttons, or type its number.",
    "choose_many": "I couldn't match that to the choices. {Tap} the ones that apply, "
                   "then Done (or type their numbers, like 1, 3).",
    "yes_no": "Please answer yes or no (or use the buttons).",
    "first_question": "This is the first question, so there's nothing to go back to.",
    "required": "I need this one for the record, so it can't be skipped. If you're stuck, "
                "{press} Pause and ask your manager.",
    "paused": "Paused. Everything so far is saved. {Send:debrief} when you're ready and we'll "
              "carry on from exactly here.",
    "cancel_confirm": "Cancel this debrief? The answers you've given so far will not be submitted.",
    "cancelled": "Cancelled. Nothing from it has been submitted.",
    "stopped": "Stopped. Thank you for what you shared.",
    "late_record": "Thank you for recording this. It's more than 24 hours since it happened, and "
                   "regulation 35 asks for the record within 24 hours, so the record will show "
                   "when it was made. A full, honest record is what matters most.",
    "kept_story": "Thank you. I've kept that as your account of what happened (you can change it "
                  "at the end), and I'll use it to fill in what I can.",
    "kept_note": "I couldn't match that to the choices, so I've kept your words as a note with "
                 "this question. Please {tap} what fits best too, or Skip.",
    "summary_intro": "Here's your debrief. Check it, change anything, then submit.",
}
# Slots a text may name, with the words a flow uses unless it or the conversation says otherwise
# (a manager's own support is not "your manager"; see dialogues/wording.py).
DEFAULT_WORDS: dict[str, str] = {
    "checkin_person": "your manager", "support_person": "your manager or a colleague",
}


class QuestionType(StrEnum):
    """The names a flow may give as a question's `type`; each is a class in dialogues/kinds.py."""

    choice = "choice"
    multi_choice = "multi_choice"
    yes_no = "yes_no"
    text = "text"
    number = "number"
    duration = "duration"
    time = "time"
    date = "date"
    confirm_noted = "confirm_noted"


class Condition(BaseModel):
    """All given parts must hold for the question (or option) to apply."""

    model_config = ConfigDict(extra="forbid")

    setting_kind_in: list[str] | None = None
    context_true: str | None = None
    context_false: str | None = None
    answered: str | None = None
    answer_in: dict[str, list[Any]] | None = None
    answer_includes_any: dict[str, list[str]] | None = None
    any_of: list[Condition] | None = None

    def holds(self, *, context: dict[str, Any], answers: dict[str, Any]) -> bool:
        """Whether this condition is met by the conversation so far."""
        if self.setting_kind_in is not None and context.get("setting_kind") not in (
            self.setting_kind_in
        ):
            return False
        if self.context_true is not None and not context.get(self.context_true):
            return False
        if self.context_false is not None and context.get(self.context_false):
            return False
        if self.answered is not None and answers.get(self.answered) in (None, "", []):
            return False
        for question_id, allowed in (self.answer_in or {}).items():
            if answers.get(question_id) not in allowed:
                return False
        for question_id, wanted in (self.answer_includes_any or {}).items():
            given = answers.get(question_id)
            if not isinstance(given, list) or not set(given) & set(wanted):
                return False
        if self.any_of is not None:
            return any(c.holds(context=context, answers=answers) for c in self.any_of)
        return True


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str
    label: str
    words: list[str] = Field(default_factory=list)  # other ways people name it; "calm*" any ending
    reply: str | None = None
    when: Condition | None = None
    alert: str | None = None  # a safeguarding alert (a name in nlu.catalogue) raised when chosen

    @model_validator(mode="after")
    def _known_alert(self) -> Option:
        if self.alert is not None and self.alert not in catalogue.BY_NAME:
            raise ValueError(f"option {self.value!r}: unknown alert {self.alert!r} (nlu/catalogue.py)")
        return self


class ActionPart(BaseModel):
    """A question that is part of a follow-up action: its number and which part (what, who, when)."""

    model_config = ConfigDict(extra="forbid")

    number: int
    part: Literal["what", "owner", "due"]


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    type: QuestionType
    prompt: str
    short: str
    help: str
    guidance: str
    options: list[Option] = Field(default_factory=list)
    options_from: str | None = None
    when: Condition | None = None
    fact: str | None = None
    nlu_prefill: bool = False
    required: bool = False
    min: float | None = None
    max: float | None = None
    placeholder: str | None = None
    moment: Literal["day", "date", "time"] | None = None
    from_story: bool = False  # filled from the options the account names in its words
    note_for: str | None = None  # a follow-up whose text is kept as the note of that answer
    side_by_side: bool = True  # shown beside colleagues' answers in a review (not private ones)
    review_title: str | None = None  # the short title as a manager reads it about someone else
    said_by_child: bool = False  # the child's own words, set against what staff say they said
    action: ActionPart | None = None  # part of an action with an owner and a due date

    @model_validator(mode="after")
    def _check(self) -> Question:
        words = len(self.prompt.split())
        if words > MAX_PROMPT_WORDS:
            raise ValueError(f"{self.id}: prompt has {words} words (at most {MAX_PROMPT_WORDS})")
        from dialogues.kinds import KINDS  # the types' module reads flows' options: imported late

        if self.type not in KINDS:
            raise ValueError(f"{self.id}: no question type {self.type!r} in dialogues/kinds.py")
        if KINDS[self.type].needs_options and not (self.options or self.options_from):
            raise ValueError(f"{self.id}: a {self.type} question needs options")
        for option in self.options:
            try:
                buttons.press(self.id, buttons.Kind.toggle, option.value)
            except ValueError:
                raise ValueError(f"{self.id}: option {option.value!r} makes a payload over "
                                 f"{buttons.MAX_PAYLOAD_BYTES} bytes") from None
        return self


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    version: int
    title: str
    intro: str
    done: str
    audience: str = "staff"
    questions: list[Question]
    controls: list[str] = Field(default_factory=lambda: list(DEFAULT_CONTROLS))
    labels: dict[str, str] = Field(default_factory=dict)
    messages: dict[str, str] = Field(default_factory=dict)
    words: dict[str, str] = Field(default_factory=dict)  # defaults of `{slots}` a context may fill
    control_words: dict[str, str] = Field(default_factory=dict)
    show_summary: bool = True

    @model_validator(mode="after")
    def _known_words(self) -> Flow:
        for name, given, known in (("controls", self.controls, CONTROLS),
                                   ("control_words", self.control_words.values(), CONTROLS),
                                   ("labels", self.labels, DEFAULT_LABELS),
                                   ("messages", self.messages, DEFAULT_MESSAGES)):
            unknown = sorted(set(given) - set(known))
            if unknown:
                raise ValueError(f"{self.id}: unknown {name}: {unknown}")
        return self

    def message(self, key: str) -> str:
        """One of the engine's own messages, in this flow's words."""
        return self.messages.get(key, DEFAULT_MESSAGES[key])

    def label(self, key: str) -> str:
        """One of the engine's own button labels, in this flow's words."""
        return self.labels.get(key, DEFAULT_LABELS[key])

    @model_validator(mode="after")
    def _unique_ids(self) -> Flow:
        ids = [q.id for q in self.questions]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ValueError(f"duplicate question ids: {sorted(duplicates)}")
        return self

    def question(self, question_id: str) -> Question:
        """The question with this id."""
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def actions(self) -> list[dict[str, str]]:
        """The flow's actions in order, each its parts ("what", "owner", "due") -> question id."""
        numbered: dict[int, dict[str, str]] = {}
        for question in self.questions:
            if question.action is not None:
                numbered.setdefault(question.action.number, {})[question.action.part] = question.id
        return [numbered[n] for n in sorted(numbered)]

    def index(self, question_id: str) -> int:
        """The position of a question in the flow."""
        return [q.id for q in self.questions].index(question_id)


def load_flow_file(path: Path) -> Flow:
    """Read and validate one flow file."""
    with path.open(encoding="utf-8") as handle:
        return Flow.model_validate(yaml.safe_load(handle))


@lru_cache
def load_flow(flow_id: str) -> Flow:
    """The flow with this id from `dialogues/flows/`."""
    return load_flow_file(FLOWS_DIR / f"{flow_id}.yml")
