"""Per-incident "points to reflect on", computed from a facts dict in one place.

The NLU calls this on facts read from free text; the dialogue engine calls it on facts built from
structured answers, so both agree on what makes us curious (shared/DESIGN.md, "Points to
reflect on").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GROUND_HOLDS = frozenset({"prone", "supine", "ground"})
"""Holds on the floor; a kneeling hold is not counted (staff "knelt beside her" too often)."""
BEDROOM_LOCATIONS = frozenset({"bedroom", "bed"})
UNAPPROVED_HOLDS = frozenset({"double_basket", "seated_double_embrace", "nose_distraction"})
ISOLATION_RESTRICTIONS = frozenset(
    {"locked_door", "blocked_exit", "isolation", "single_separation", "managing_away",
     "mobility_aid_removed"}
)
FLAG_NAMES = (
    "prone_or_ground_hold",
    "restraint_in_bedroom",
    "long_intervention",
    "many_staff",
    "injury",
    "prn_medication",
    "restrictive_equipment",
    "unapproved_technique",
    "pain_inflicted",
    "used_as_punishment",
    "isolation_or_seclusion",
)
"""Every flag this function can raise, in the order it reports them."""


def flags_from_facts(
    facts: Mapping[str, Any], *, long_minutes: float = 10, many_staff: int = 3
) -> list[str]:
    """The per-incident flag names a facts dict (DESIGN.md shape) raises, in FLAG_NAMES order."""
    holds = set(facts.get("hold_types") or [])
    locations = set(facts.get("locations") or [])
    restrictions = set(facts.get("restrictions") or [])
    equipment = set(facts.get("equipment") or [])
    injury = facts.get("injury") or {}
    duration = facts.get("duration_minutes")
    staff = facts.get("staff_count")
    raised = {
        "prone_or_ground_hold": bool(holds & GROUND_HOLDS),
        "restraint_in_bedroom": bool(locations & BEDROOM_LOCATIONS),
        "long_intervention": duration is not None and duration >= long_minutes,
        "many_staff": staff is not None and staff >= many_staff,
        "injury": injury.get("child") is True or injury.get("staff") is True,
        "prn_medication": facts.get("prn_medication") is True,
        "restrictive_equipment": bool(equipment),
        "unapproved_technique": bool(holds & UNAPPROVED_HOLDS),
        "pain_inflicted": facts.get("pain_inflicted") is True,
        "used_as_punishment": facts.get("used_as_punishment") is True,
        "isolation_or_seclusion": bool(restrictions & ISOLATION_RESTRICTIONS),
    }
    return [name for name in FLAG_NAMES if raised[name]]
