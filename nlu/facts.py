"""Shared post-processing: from a text, an intent and raw entities to the full ParseResult.

Both backends (embedded spaCy and the Rasa server) call `build_result`, so negation, canonical
values, numbers, durations, staff counts, facts and flags are decided in one place.
"""

from __future__ import annotations

from typing import Any

from nlu.flags import flags_from_facts
from nlu.result import Entity, Intent, ParseResult


def empty_facts() -> dict[str, Any]:
    """Facts for a text that says nothing: empty lists and nulls."""
    return {
        "hold_types": [],
        "locations": [],
        "restrictions": [],
        "equipment": [],
        "prn_medication": None,
        "injury": {"child": None, "staff": None},
        "duration_minutes": None,
        "staff_count": None,
        "pain_inflicted": None,
        "used_as_punishment": None,
    }


def build_result(text: str, *, intent: Intent, entities: list[Entity]) -> ParseResult:
    """The ParseResult for `text`, given a backend's intent and raw entities (stub)."""
    facts = empty_facts()
    return ParseResult(text=text, intent=intent, entities=list(entities), facts=facts,
                       flags=flags_from_facts(facts))
