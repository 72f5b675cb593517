"""One catalogue of the points to reflect on and the safeguarding alerts: one entry per name.

Each entry says what staff and managers read for it ("points to reflect on"), what an alert says
about it, and whether it reaches the manager at once. `nlu.flags.flags_from_facts` decides when a
flag is raised; this module decides what it means and who hears of it. To add a flag: add its
rule to `flags_from_facts` and one `Concern` here (DESIGN.md names the flags).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nlu.flags import flags_from_facts


@dataclass(frozen=True)
class Concern:
    """A flag or an alert reason: its name, its words, and how urgent it is."""

    name: str
    staff_text: str | None = None  # in "points to reflect on"; None: never shown as a flag
    alert_text: str | None = None  # in a safeguarding alert; None: never alerts
    unlawful: bool = False  # force that hurts or punishes: never lawful, and the alert says so

    @property
    def urgent(self) -> bool:
        """Whether it alerts the manager at once (quiet hours do not hold it)."""
        return self.alert_text is not None


CATALOGUE: tuple[Concern, ...] = (
    Concern("prone_or_ground_hold", "a prone or floor hold was used"),
    Concern("restraint_in_bedroom", "it happened in a bedroom or on a bed"),
    Concern("long_intervention", "the intervention was long"),
    Concern("many_staff", "several staff were involved"),
    Concern("injury", "someone was hurt"),
    Concern("prn_medication", "as-required (PRN) medication was given"),
    Concern("restrictive_equipment", "equipment was used to restrict"),
    Concern("unapproved_technique", "a technique not approved for children was used",
            alert_text="a hold that is not approved"),
    Concern("pain_inflicted", "pain may have been caused", alert_text="force that caused pain",
            unlawful=True),
    Concern("used_as_punishment", "it may have felt like a punishment",
            alert_text="force used as a punishment", unlawful=True),
    Concern("isolation_or_seclusion", "the child was separated or kept in a space"),
    # Alert reasons that are not per-incident flags: from the facts, or from the child's view.
    Concern("child_injury", alert_text="the child was hurt"),
    Concern("something_hurt", alert_text="the child said something hurt"),
    Concern("child_asked_to_talk", alert_text="the child asked to talk to someone"),
)
BY_NAME: Mapping[str, Concern] = {concern.name: concern for concern in CATALOGUE}


def _fallback(name: str) -> str:
    return name.replace("_", " ")


def staff_text(name: str) -> str:
    """What staff and managers read for a flag."""
    concern = BY_NAME.get(name)
    return concern.staff_text if concern and concern.staff_text else _fallback(name)


def alert_text(name: str) -> str:
    """What a safeguarding alert says for a reason."""
    concern = BY_NAME.get(name)
    return concern.alert_text if concern and concern.alert_text else _fallback(name)


def urgent(names: Iterable[str]) -> list[str]:
    """The names among these that alert the manager at once, sorted."""
    return sorted({n for n in names if n in BY_NAME and BY_NAME[n].urgent})


def unlawful(names: Iterable[str]) -> bool:
    """Whether any of these is force that hurts or punishes."""
    return any(n in BY_NAME and BY_NAME[n].unlawful for n in names)


def alerts_from_facts(facts: Mapping[str, Any]) -> list[str]:
    """The alert reasons a facts dict (DESIGN.md shape) holds: urgent flags and a child hurt."""
    reasons = set(urgent(flags_from_facts(facts)))
    injury = facts.get("injury") or {}
    if injury.get("child") is True:
        reasons.add("child_injury")
    return sorted(reasons)
