"""Question types, each one registered thing: how a typed answer is read, which buttons ask it, and
how an answer reads back, in one small class per type.

Adding a question type is a class here registered with `@registered`, and its name in
`flow.QuestionType` (so a flow's YAML can say `type: <name>`). The engine asks the type, never
the type's name: what it does with a type follows from the class's attributes and methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from dialogues import buttons, values
from dialogues.buttons import Button, Kind
from nlu.result import ParseResult

if TYPE_CHECKING:
    from dialogues.flow import Option, Question

MAX_SHOWN_TEXT = 120


@dataclass
class Asking:
    """What a type needs from the conversation to read or ask a question."""

    options: list[Option] = field(default_factory=list)
    selection: list[str] = field(default_factory=list)
    label: Callable[[str], str] = str  # one of the flow's own button labels
    message: Callable[[str], str] = str  # one of the flow's own messages
    read: Callable[[str], ParseResult | None] = lambda _text: None  # the NLU, if there is one
    noted: list[tuple[str, str]] = field(default_factory=list)  # (question id, "short: answer")


class QuestionKind:
    """A question type. The defaults are a free-text question's."""

    name: ClassVar[str]
    needs_options: ClassVar[bool] = False  # a flow must give it options (or `options_from`)
    picks: ClassVar[bool] = False  # answered by choosing among options; typed words are matched
    many: ClassVar[bool] = False  # several options may be ticked; the value is a list
    yes_or_no: ClassVar[bool] = False  # the value is True or False
    checks_noted: ClassVar[bool] = False  # confirms the answers the NLU noted from the account
    free_text: ClassVar[bool] = False  # the answer is the person's own words

    def read(self, question: Question, text: str, asking: Asking) -> tuple[Any, str | None]:
        """The value of a typed answer, or a reason to ask again."""
        return text, None

    def prompt(self, question: Question, text: str, asking: Asking) -> str:
        """The question's words as asked (a type may add a hint)."""
        return f"{text}\n({question.placeholder})" if question.placeholder else text

    def buttons(self, question: Question, asking: Asking) -> list[list[Button]]:
        """The rows of buttons that answer it (controls are added by the engine)."""
        return []

    def shown(self, question: Question, value: Any, labels: dict[str, str]) -> str:
        """An answer as a person reads it back."""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, list):
            return ", ".join(labels.get(v, str(v)) for v in value) or "—"
        return labels.get(str(value), str(value))


KINDS: dict[str, QuestionKind] = {}


def registered(cls: type[QuestionKind]) -> type[QuestionKind]:
    """Register a question type under its name."""
    KINDS[cls.name] = cls()
    return cls


def kind_of(question: Question) -> QuestionKind:
    """The registered type of a question."""
    return KINDS[str(question.type)]


def _row(*pairs: tuple[str, str]) -> list[Button]:
    return [Button(label=label, payload=payload) for label, payload in pairs]


@registered
class Text(QuestionKind):
    name = "text"
    free_text = True

    def shown(self, question: Question, value: Any, labels: dict[str, str]) -> str:
        said = str(value)
        return said if len(said) <= MAX_SHOWN_TEXT else said[:MAX_SHOWN_TEXT - 3] + "…"


@registered
class Choice(QuestionKind):
    name = "choice"
    needs_options = picks = True

    def read(self, question: Question, text: str, asking: Asking) -> tuple[Any, str | None]:
        option = values.match_option(text, asking.options)
        return (None, asking.message("choose")) if option is None else (option.value, None)

    def prompt(self, question: Question, text: str, asking: Asking) -> str:
        if not asking.options:
            return text + "\n(There is nothing to choose from yet: please {press} Skip.)"
        return text

    def buttons(self, question: Question, asking: Asking) -> list[list[Button]]:
        choices = [self._button(question, option, asking) for option in asking.options]
        return [choices[i:i + 2] for i in range(0, len(choices), 2)]

    def _button(self, question: Question, option: Option, asking: Asking) -> Button:
        return Button(label=option.label, payload=buttons.press(question.id, Kind.value, option.value))


@registered
class MultiChoice(Choice):
    name = "multi_choice"
    many = True

    def read(self, question: Question, text: str, asking: Asking) -> tuple[Any, str | None]:
        found, unknown = values.match_options(text, asking.options)
        if unknown or not found:
            return None, asking.message("choose_many")
        return [o.value for o in found], None

    def buttons(self, question: Question, asking: Asking) -> list[list[Button]]:
        return [*super().buttons(question, asking),
                _row((asking.label("done"), buttons.press(question.id, Kind.done)))]

    def _button(self, question: Question, option: Option, asking: Asking) -> Button:
        tick = "✅ " if option.value in asking.selection else "▫️ "
        return Button(label=tick + option.label,
                      payload=buttons.press(question.id, Kind.toggle, option.value))


@registered
class YesNo(QuestionKind):
    name = "yes_no"
    yes_or_no = True

    def read(self, question: Question, text: str, asking: Asking) -> tuple[Any, str | None]:
        answer = values.yes_no(text)
        if answer is None and (parse := asking.read(text)) is not None:
            answer = {"affirm": True, "deny": False}.get(parse.intent.name)
        return (None, asking.message("yes_no")) if answer is None else (answer, None)

    def prompt(self, question: Question, text: str, asking: Asking) -> str:
        return text

    def buttons(self, question: Question, asking: Asking) -> list[list[Button]]:
        return [_row((asking.label("yes"), buttons.press(question.id, Kind.value, "yes")),
                     (asking.label("no"), buttons.press(question.id, Kind.value, "no")))]


@registered
class ConfirmNoted(YesNo):
    name = "confirm_noted"
    checks_noted = True

    def prompt(self, question: Question, text: str, asking: Asking) -> str:
        noted = "; ".join(said for _, said in asking.noted)
        return f"I noted: {noted}. Is that right? Untick anything that's wrong, then Done."

    def buttons(self, question: Question, asking: Asking) -> list[list[Button]]:
        rows = [[Button(label=("✅ " if q in asking.selection else "▫️ ") + said,
                        payload=buttons.press(question.id, Kind.toggle, q))]
                for q, said in asking.noted]
        rows.append(_row((asking.label("yes"), buttons.press(question.id, Kind.value, "yes")),
                         (asking.label("done"), buttons.press(question.id, Kind.done))))
        return rows


def _in_range(question: Question, number: Any, example: str) -> tuple[Any, str | None]:
    if number is None:
        return None, f"Please give {example}."
    number = float(number)
    low, high = question.min, question.max
    if (low is not None and number < low) or (high is not None and number > high):
        return None, f"That's outside what I'd expect ({low:g} to {high:g}). Please check it."
    return (int(number) if number.is_integer() else number), None


@registered
class Number(QuestionKind):
    name = "number"

    def read(self, question: Question, text: str, asking: Asking) -> tuple[Any, str | None]:
        number = values.parse_number(text)
        if number is None and question.fact and (parse := asking.read(text)) is not None:
            number = parse.facts.get(question.fact)
        return _in_range(question, number, "a number, like 2")


@registered
class Duration(QuestionKind):
    name = "duration"

    def read(self, question: Question, text: str, asking: Asking) -> tuple[Any, str | None]:
        minutes = values.parse_duration_minutes(text)
        if minutes is None and (parse := asking.read(text)) is not None:
            minutes = parse.facts.get("duration_minutes")
        return _in_range(question, minutes, "a length of time, like 5 mins")

    def shown(self, question: Question, value: Any, labels: dict[str, str]) -> str:
        return f"about {value:g} min" if isinstance(value, int | float) else str(value)


@registered
class TimeOfDay(QuestionKind):
    name = "time"

    def read(self, question: Question, text: str, asking: Asking) -> tuple[Any, str | None]:
        clock = values.parse_time_of_day(text)
        if clock is None:
            return None, "Please give a time of day, like 14:30 or 2.30pm."
        return clock, None


@registered
class Date(QuestionKind):
    name = "date"  # read by the engine's `moment` reading (dialogues/when.py), like any moment
