"""The one shape every NLU backend answers in, so dialogues never care which backend ran.

It mirrors the JSON that `flourish nlu parse` prints (see shared/DESIGN.md, "Interfaces").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

CONTROL_INTENTS = frozenset(
    {"affirm", "deny", "skip", "go_back", "pause", "help", "unsure", "distress"}
)
"""Intents that steer a flow rather than answer its question; `inform` is an ordinary answer."""


@dataclass(frozen=True)
class Intent:
    name: str
    confidence: float


@dataclass(frozen=True)
class Entity:
    entity: str
    value: str
    start: int
    end: int
    negated: bool = False


@dataclass(frozen=True)
class ParseResult:
    text: str
    intent: Intent
    entities: list[Entity] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of `flourish nlu parse` for this result."""
        return asdict(self)


class NluUnavailable(RuntimeError):
    """An NLU backend could not be reached or gave no usable answer; the message says which."""


class Interpreter(Protocol):
    """Anything that reads one message of free text."""

    def parse(self, text: str) -> ParseResult: ...
