"""The domain vocabulary, read from the Rasa-format training data so there is one source of truth.

`nlu/data/nlu.yml` holds synonyms, lookup tables and annotated examples; this module turns them
into a surface-form table (what words mean which entity and canonical value) that the embedded
matcher uses and that `facts.build_result` uses to canonicalise any backend's entity values.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
TRAIN_FILE = DATA_DIR / "nlu.yml"
TEST_FILE = DATA_DIR / "test" / "nlu.yml"
TEST_FACTS_FILE = DATA_DIR / "test" / "facts.yml"
STAFF_WRITTEN_FILE = DATA_DIR / "test" / "staff_written.yml"
"""Hand-written accounts in staff's own voice: evaluation only, never training data."""

CANONICAL: dict[str, frozenset[str]] = {
    "hold_type": frozenset({"prone", "supine", "ground", "seated", "standing", "kneeling",
                            "escort", "double_basket", "seated_double_embrace",
                            "nose_distraction"}),
    "location": frozenset({"bedroom", "bed", "bathroom", "communal", "corridor", "classroom",
                           "outdoors", "vehicle"}),
    "restriction": frozenset({"locked_door", "blocked_exit", "isolation", "single_separation",
                              "managing_away", "mobility_aid_removed"}),
    "equipment": frozenset({"harness", "seatbelt", "wheelchair", "reins", "safe_space_bed",
                            "high_bed_sides", "high_door_handle"}),
    "medication": frozenset({"prn"}),
    "injury": frozenset({"injury"}),
    "pain": frozenset({"pain"}),
    "punishment": frozenset({"punishment"}),
}
"""Entity names and their canonical values (shared/DESIGN.md); the last four have one value."""

_ANNOTATION = re.compile(r"\[([^\]]+)\](\{[^}]*\}|\([^)]*\))")


@dataclass(frozen=True)
class TrainingData:
    """What a Rasa nlu.yml says: examples per intent (plain text), annotations and vocabulary."""

    examples: dict[str, list[str]]
    annotations: dict[str, list[tuple[str, str, str]]]
    """plain example text -> (surface, entity, value) for each annotated span"""
    synonyms: dict[str, str]
    lookups: dict[str, list[str]]


def strip_annotations(example: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The plain text of an annotated example and its (surface, entity, value) spans."""
    spans: list[tuple[str, str, str]] = []

    def replace(match: re.Match[str]) -> str:
        surface, spec = match.group(1), match.group(2)
        if spec.startswith("("):
            entity, value = spec[1:-1].split(":")[0], surface
        else:
            try:
                data = json.loads(spec)
            except ValueError:
                data = yaml.safe_load(spec)
            entity, value = str(data["entity"]), str(data.get("value", surface))
        spans.append((surface, entity, value))
        return surface

    return _ANNOTATION.sub(replace, example), spans


def _items(block: object) -> list[str]:
    if not isinstance(block, str):
        return []
    return [line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")]


def _absolute(path: Path) -> Path:
    if path is TRAIN_FILE:
        return path
    path = Path(path)
    return path if path.is_absolute() else path.resolve()


def load_training_data(path: Path = TRAIN_FILE) -> TrainingData:
    """Read one Rasa 3.x nlu.yml file (once per process)."""
    return _load_training_data(_absolute(path))


@lru_cache(maxsize=8)
def _load_training_data(path: Path) -> TrainingData:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506
    examples: dict[str, list[str]] = {}
    annotations: dict[str, list[tuple[str, str, str]]] = {}
    synonyms: dict[str, str] = {}
    lookups: dict[str, list[str]] = {}
    for entry in raw.get("nlu") or []:
        if "intent" in entry:
            bucket = examples.setdefault(str(entry["intent"]), [])
            for item in _items(entry.get("examples")):
                text, spans = strip_annotations(item)
                bucket.append(text)
                if spans:
                    annotations[text] = spans
        elif "synonym" in entry:
            for item in _items(entry.get("examples")):
                synonyms[item.lower()] = str(entry["synonym"])
        elif "lookup" in entry:
            lookups.setdefault(str(entry["lookup"]), []).extend(_items(entry.get("examples")))
    return TrainingData(examples=examples, annotations=annotations, synonyms=synonyms,
                        lookups=lookups)


def canonical_value(entity: str, value: str, *, synonyms: dict[str, str]) -> str | None:
    """The canonical value for an entity value or surface form, or None if it is not one."""
    allowed = CANONICAL.get(entity)
    if allowed is None:
        return None
    if len(allowed) == 1:
        return next(iter(allowed))
    key = " ".join(value.lower().split())
    if key in allowed:
        return key
    mapped = synonyms.get(key)
    if mapped in allowed:
        return mapped
    return None


def surface_table(path: Path = TRAIN_FILE) -> dict[str, tuple[str, str]]:
    """Lower-case surface form -> (entity, canonical value), from lookups, synonyms and examples."""
    return _surface_table(_absolute(path))


@lru_cache(maxsize=8)
def _surface_table(path: Path) -> dict[str, tuple[str, str]]:
    data = load_training_data(path)
    table: dict[str, tuple[str, str]] = {}
    for entity, forms in data.lookups.items():
        for form in forms:
            value = canonical_value(entity, form, synonyms=data.synonyms)
            if value is not None:
                table[" ".join(form.lower().split())] = (entity, value)
    for spans in data.annotations.values():
        for surface, entity, value in spans:
            canon = canonical_value(entity, value, synonyms=data.synonyms)
            key = " ".join(surface.lower().split())
            if canon is not None and key not in table:
                table[key] = (entity, canon)
    return table


def _osa(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


class Speller:
    """Maps an unknown word to the one known word a single typo away (len >= 4), else itself."""

    def __init__(self, known: Iterable[str], targets: Iterable[str]) -> None:
        self.known = frozenset(known)
        self.index: dict[str, set[str]] = {}
        for word in set(targets):
            if len(word) >= 4:
                for key in self._deletes(word):
                    self.index.setdefault(key, set()).add(word)
        self.cache: dict[str, str] = {}

    @staticmethod
    def _deletes(word: str) -> set[str]:
        return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}

    def fix(self, word: str) -> str:
        """The corrected form of one lower-case word."""
        if len(word) < 4 or word in self.known or not word.isalpha():
            return word
        hit = self.cache.get(word)
        if hit is not None:
            return hit
        candidates: set[str] = set()
        for key in self._deletes(word):
            candidates |= self.index.get(key, set())
        close = sorted(c for c in candidates if _osa(word, c) <= 1)
        result = close[0] if len(close) == 1 else word
        if len(self.cache) < 50_000:
            self.cache[word] = result
        return result


_WORD = re.compile(r"[a-z][a-z'-]*")
STAFF_ROLES = frozenset({"driver", "escort", "deputy", "teacher", "nurse", "manager", "colleague",
                         "supervisor", "keyworker", "senior", "waking", "agency"})
"""Words for staff that are never "corrected" into something else ("driver" is not "drive")."""
MIN_WORD_COUNT = 2
"""A training word seen once may be one of the data's own typos, so it is not a known word."""


def speller(path: Path = TRAIN_FILE) -> Speller:
    """The typo fixer for a training file: its words, the domain vocabulary and stop words."""
    return _speller(_absolute(path))


@lru_cache(maxsize=8)
def _speller(path: Path) -> Speller:
    from spacy.lang.en.stop_words import STOP_WORDS

    data = load_training_data(path)
    counts: Counter[str] = Counter()
    for texts in data.examples.values():
        for text in texts:
            counts.update(_WORD.findall(text.lower()))
    known = set(STOP_WORDS) | {w for w, n in counts.items() if n >= MIN_WORD_COUNT or len(w) <= 3}
    known |= STAFF_ROLES
    known |= {w for form in surface_table(path) for w in _WORD.findall(form)}
    return Speller(known, {w for w in known if w.isalpha()})
