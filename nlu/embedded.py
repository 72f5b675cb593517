"""The embedded spaCy parser (stub until trained pipeline lands)."""

from __future__ import annotations

from nlu.facts import build_result
from nlu.result import Intent, ParseResult


class EmbeddedInterpreter:
    """In-process parser."""

    def parse(self, text: str) -> ParseResult:
        """Read one message."""
        return build_result(text, intent=Intent("inform", 1.0), entities=[])


def load_interpreter() -> EmbeddedInterpreter:
    """Load (or build) the embedded parser."""
    return EmbeddedInterpreter()
