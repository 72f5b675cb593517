"""Spot what an account mentions, the same way whichever backend read the intent.

Both backends hand their text to `nlu.facts.build_result`; this module finds the mentions in it
(holds, places, restrictions, equipment, medication, injuries, pain, punishment) from the one
lexicon in `nlu/data/nlu.yml`, so the Rasa server and the embedded parser can only differ in the
intent they guess. Staff type on a phone: a word one typo away from a lexicon word is read as that
word (rapidfuzz, against the lexicon only), and the common ways staff put things in their own words
(verb + object, "the bedroom door was locked", "his powered wheelchair was switched off", "held
approx 2 mins stood up") are patterns here, next to the lexicon they extend.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA

from nlu.lexicon import TRAIN_FILE, load_training_data, speller, surface_table
from nlu.result import Entity

TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
MIN_FUZZY_LENGTH = 4
"""Shorter words are matched exactly: "car", "bus" and "hall" have too many one-typo neighbours."""
ORDINARY_WORDS = frozenset({
    "showed", "flower", "flowers", "lounged", "grounded", "hallo", "shouted", "scored", "lessons",
    "fielded", "garde", "parked", "bathed", "roads", "carded", "bused", "stairs", "prune", "phone",
    "phones", "stone", "stones", "cutting", "guides", "guidance", "guiding", "escorts", "seater",
    "seatbelts", "minibuses", "knelt", "separate", "isolate", "harnessed", "landed", "landings",
    "classes", "lounges", "kitchens", "bedrooms", "toilets", "showers", "sprained", "bruises",
    "grazes", "scratches", "swelling", "swollen", "injured", "injuries", "sitting", "standing",
    "kneeling", "garden", "gardens", "street", "streets", "fields", "supper", "sooner", "proper",
    "prompt", "proved", "probe", "spine", "supply", "sensory", "session", "sessions", "lashed",
    "walker", "walkers", "guider", "stared", "ground's", "halfway",
})
"""Ordinary words one typo away from a lexicon word, never "corrected" into it."""

# Soft rooms: a place the child could leave, unless the text says they could not (DESIGN.md).
SOFT_ROOMS = frozenset({"quiet room", "chill out room", "chill-out room", "chillout room",
                        "calm room", "cool down room", "cool-down room", "safe room",
                        "sensory room", "quiet area", "calm down room"})
WEAK_SEPARATION = frozenset({"separation", "separated", "kept apart", "separated from the group",
                             "separated from the others"})
KEPT_IN = re.compile(
    r"\b(?:kept|keep|keeping|locked|shut|made\s+to\s+stay|told\s+(?:to\s+stay|(?:her|him|them)\s+to"
    r"\s+stay)|not\s+allowed\s+(?:out|to\s+leave)|put|placed|confined)\b"
    r"|couldn'?t\s+(?:leave|get\s+out|come\s+out)|could\s+not\s+(?:leave|get\s+out|come\s+out)"
    r"|door\s+(?:was\s+)?(?:held|locked|blocked)|held\s+the\s+door|blocked\s+the\s+door"
    r"|stood\s+in\s+the\s+doorway|single\s+sep\w*|seclu\w*|isolat\w*"
)
FREE_TO_LEAVE = re.compile(r"\b(?:could\s+leave|free\s+to\s+leave|door\s+(?:was\s+)?(?:left\s+)?open"
                           r"|chose|choosing|went\s+(?:there\s+)?(?:herself|himself|themselves)"
                           r"|(?:walked|took)\s+(?:herself|himself|themselves))\b")
# Plain "on the floor" is where someone was; a ground hold needs someone holding.
FLOOR_ONLY = frozenset({"on the floor", "to the floor", "on the ground", "to the ground"})
HOLD_WORD = re.compile(
    r"\b(?:held|hold|holding|holds|restrain\w*|restraint|restraind|pinned|pin|took|taken|take"
    r"|brought|bring|guided|lowered|supported|pi|team\s+teach|scip|mapa|physical\w*)\b"
)
NEGATED_HOLD = re.compile(r"\b(?:never|not|didn'?t|did\s+not|no|without|wasn'?t)\s+(?:\w+\s+)?"
                          r"(?:held|hold|holding|restrain\w*|restraint)\b")
WEAK_PAIN = frozenset({"pain", "painful", "in pain"})
PAIN_CAUSE = re.compile(r"\b(?:caus\w*|inflict\w*|compliance|technique|deliberate\w*|using|used"
                        r"|to\s+make\s+(?:him|her|them))\b")
ESCORT_PERSON = re.compile(r"\b(?:me|i|and)\s+(?:the\s+|an\s+|our\s+)?$|\b(?:the|our)\s+bus\s+$")
"""'me and the escort held him': the escort is a member of staff on the transport, not a hold."""
BARE_SEATBELT = frozenset({"seatbelt", "seat belt", "lap belt", "seat-belt"})
SEATBELT_RESTRICTS = re.compile(r"\b(?:guard|clip|buckle|lock\w*|strapped|couldn'?t\s+undo)\b")
GOING_TO = re.compile(
    r"\b(?:went|go|gone|going|goes|off|ready|back|sent|walked\s+off|ran\s+off|went\s+off"
    r"|went\s+out|walked\s+himself|walked\s+herself)\s+(?:up\s+)?(?:to|into)\s+(?:the\s+)?$"
    r"|\b(?:went|go|gone|going|goes|back|put)\s+$"
)
"""Before a place: "she went to bed after", "walked off to the garden" say where the child went."""
BESIDE = re.compile(r"\b(?:next\s+to|near|beside|behind|outside|in\s+front\s+of|by)\s+(?:the|a|"
                    r"his|her|their)\s+$")
"""Before a place: "in the car park next to the van" was not in the van."""
NOT_OUTDOORS = re.compile(r"\s*(?:the\s+|her\s+|his\s+)?(?:door|room|bedroom|office|toilets?"
                          r"|bathroom|classroom)\b")
"""After "outside": "outside the door" is not outdoors."""
NOT_A_WOUND = re.compile(r"\s+(?:it\s+|them\s+)?(?:short|down\s+on|back\s+on|in\s+front"
                         r"|across\s+the|through\s+the)\b")
"""After "cut": "the call was cut short", "cut across the lounge" are not a wound."""

_BODY = r"(?:arm|arms|wrist|wrists|thumb|thumbs|finger|fingers|hand|hands|leg|legs|head|neck)"
_HIM = r"(?:his|her|their|the\s+yp's|the\s+child's)"
_DOOR = r"(?:(?:front|back|bedroom|bathroom|classroom|lounge|kitchen|fire|his|her|their|the|garden|" \
        r"office|room|outside|main|exit)\s+){0,3}(?:door|doors|gate|exit)"
_GAP = (r"(?:(?:him|her|them|yp|the|approx\.?|about|around|for|briefly|still|up|\d[\d-]*|mins?"
        r"|minutes?|secs?|seconds?|a|few|couple|of|min|there|down)\s+){0,5}?")
"""Words that may stand between "held" and how ("held him approx 2-3 mins stood up")."""


def _T(words: str) -> frozenset[str]:
    return frozenset(words.split())


PATTERNS: list[tuple[str, str, frozenset[str], re.Pattern[str]]] = [
    ("restriction", "locked_door", _T("lock locked locking door doors gate exit"), re.compile(
        rf"\b(?:lock|locked|locking)\s+(?:the\s+|her\s+|his\s+)?{_DOOR}\b"
        rf"|\b{_DOOR}\s+(?:was\s+|were\s+|got\s+|being\s+)?(?:\w+\s+){{0,2}}?"
        r"(?:locked|held\s+(?:shut|closed)|held|wedged(?:\s+shut)?|kept\s+(?:shut|closed)"
        r"|jammed\s+shut)\b"
        rf"|\b(?:held|hold|holding|kept|wedged|shut|closed|pulled)\s+(?:the\s+|her\s+|his\s+)?"
        rf"{_DOOR}\s+(?:shut|closed|to)\b"
        rf"|\b(?:held|holding)\s+(?:the\s+|her\s+|his\s+){_DOOR}\b(?!\s+open)")),
    ("restriction", "blocked_exit", _T("block blocked blocking doorway door"), re.compile(
        rf"\b(?:block|blocked|blocking)\s+(?:the\s+|her\s+|his\s+)?(?:{_DOOR}|doorway|way\s+out"
        r"|way)\b|\b(?P<m>stood\s+(?:in|at)\s+the\s+door(?:way)?)\s+so\s+(?:she|he|they)"
        r"\s+couldn'?t|\b(?P<m2>outside\s+the\s+door)\s+so\s+(?:she|he|they)\s+(?:couldn'?t"
        r"|could\s+not)\b"
        r"|\bstood\s+in\s+the\s+doorway\b")),
    ("restriction", "mobility_aid_removed", _T(
        "wheelchair chair powerchair frame walker zimmer crutches stick aid wheel power"), re.compile(
        r"\b(?:(?:powered\s+|power\s+|electric\s+)?(?:wheelchair|wheel\s+chair|powerchair"
        r"|power\s+chair|chair))\s+(?:was\s+|got\s+)?(?:switched|turned|powered)\s+off\b"
        r"|\b(?:switched|turned|powered)\s+off\s+(?:his\s+|her\s+|their\s+)?(?:powered\s+|power\s+)?"
        r"(?:wheelchair|powerchair|power\s+chair|chair)\b"
        r"|\b(?:took|take|taken|taking|removed|remove)\s+(?:away\s+)?(?:his\s+|her\s+|their\s+)?"
        r"(?:walking\s+frame|frame|walker|zimmer|crutches|walking\s+stick|stick|walking\s+aid"
        r"|mobility\s+aid)\b(?:\s+(?:away|off))?"
        r"|\b(?:walking\s+frame|walker|zimmer|crutches|walking\s+stick|walking\s+aid)\s+(?:was\s+"
        r"|were\s+)?(?:taken|removed)\b(?:\s+(?:away|off))?")),
    ("restriction", "isolation", _T("kept keep keeping stay"), re.compile(
        r"\b(?:kept|keep|keeping)\s+(?:her|him|them|the\s+yp|yp)?\s*in\s+(?:the\s+|her\s+|his\s+"
        r"|their\s+)?(?:\w+\s+)?(?:room|bedroom|area)\b"
        r"|\btold\s+(?:her|him|them)\s+to\s+stay\s+in\b"
        r"|\b(?:was|were)\s+(?:\w+\s+)?kept\s+in\b(?!\s+(?:mind|the\s+loop))")),
    ("equipment", "wheelchair", _T("brake brakes strapped"), re.compile(
        r"\bbrakes?\s+(?:put\s+|were\s+put\s+|was\s+put\s+)?on\s+(?:his\s+|her\s+|their\s+)?"
        r"wheelchair\b|\bstrapped\s+(?:in|into)\s+(?:his\s+|her\s+)?wheelchair\b")),
    ("equipment", "safe_space_bed", _T("zipped"), re.compile(
        r"\bsafe\s*space(?:\s+bed)?\s+(?:was\s+)?zipped\b")),
    ("equipment", "high_bed_sides", _T("sides"), re.compile(
        r"\bbed\s+sides\s+up\b|\bsides\s+of\s+the\s+bed\b")),
    ("hold_type", "standing", _T("stood standing upright feet"), re.compile(
        r"\b(?:held|holding|restrained)\b[^.;!?]{0,40},\s*(?P<m>standing|stood\s+up)\s*(?:[,.;]|$)|"
        rf"\b(?:held|holding|hold|restrained|restraint)\s+{_GAP}(?:stood\s+up|standing"
        r"|stood|upright|on\s+(?:his|her|their)\s+feet)\b|^\s*standing\s*$")),
    ("hold_type", "seated", _T("sat sitting seated seat chair"), re.compile(
        rf"\b(?:held|holding|hold|restrained)\s+{_GAP}(?:sat|sitting|seated)\b"
        r"|\bheld\s+(?:\w+\s+){0,2}?in\s+(?:his|her|their)\s+(?:seat|chair)\b")),
    ("hold_type", "kneeling", _T("knelt kneeling"), re.compile(
        rf"\b(?:held|holding|hold|restrained)\s+{_GAP}(?:knelt|kneeling)(?:\s+down)?\b")),
    ("hold_type", "ground", _T("floor ground there"), re.compile(
        r"\b(?:guided|took|taken|brought|lowered|walked|went|escorted|supported)\s+(?:her\s+|him\s+"
        r"|them\s+)?(?:down\s+)?to\s+the\s+(?:floor|ground)\b"
        r"|\b(?:restrained|held|hold|holding)\s+(?:her\s+|him\s+|them\s+)?(?P<m>on\s+(?:the\s+"
        r"|her\s+|his\s+)?(?:\w+\s+)?floor)\b|\bheld\s+(?:her|him|them)\s+there\b")),
    ("hold_type", "escort", _T("arm arms walking"), re.compile(
        rf"\bby\s+{_HIM}\s+arms?\b|\bwalking\s+(?:him|her|them)\b|\bboth\s+arms\s+held\b")),
    ("hold_type", "nose_distraction", _T("nose"), re.compile(r"\b(?:press\w*|push\w*)\s+(?:\w+\s+)?under\s+"
                                                 r"(?:his|her|the|their)\s+nose\b")),
    ("location", "communal", _T("hall"), re.compile(r"\b(?:dining|dinner|lunch)\s+hall\b")),
    ("location", "classroom", _T("class"), re.compile(
        r"\b(?:the|his|her|their|my|our)\s+class\b(?!\s+(?:teacher|ta|trip|group))")),
    ("injury", "injury", _T(
        "back twisted split bloody teeth bite inj sore skin banged bumped knocked hit limping"), re.compile(
        rf"\b{_BODY}\s+(?:got|was|were|been)\s+(?:\w+\s+)?(?:bent|twisted|pulled)\s+back\b"
        rf"|\b(?:banged|bumped|knocked|hit)\s+(?:his|her|their|my)\s+{_BODY}\b|\blimping\b"
        r"|\b(?:got|was|were)\s+twisted\b|\bsplit\s+lip\b|\bbloody\s+nose\b|\bteeth\s+marks\b"
        r"|\bbite\b|\binj\b|\bsore\b|\bbroke\s+the\s+skin\b")),
    ("pain", "pain", _T("bent pain hurting"), re.compile(
        rf"\bbent\s+{_HIM}\s+{_BODY}\s+(?:back|up)\b|\bcauses?\s+pain\b|\bpain\s+compliance\b"
        r"|\b(?:hold|restraint|grip)\s+(?:was\s+|wasn'?t\s+|was\s+not\s+|isn'?t\s+)?hurting\b")),
    ("injury", "injury", _T("bit bitten"), re.compile(
        r"\b(?:bit|bitten)\s+(?:my\s+colleague|[a-z]+)\s+on\s+the\b")),
]
"""Verb + object and other free word orders: (entity, value, words one of which must be in the
text for the pattern to be tried, pattern) over the normalised text."""
PASSIVE_INJURY = re.compile(rf"\b{_BODY}\s+(?:got|was|were|been)\s+(?:\w+\s+)?bent\s+back\b")
""""my finger got bent back" is an injury, never pain inflicted (that needs someone bending it)."""


@dataclass
class Spotter:
    """The lexicon as token sequences, with a typo-tolerant word lookup."""

    starting: dict[str, list[tuple[tuple[str, ...], tuple[str, str]]]]
    """lexicon phrases by their first word, longest first"""
    fuzzy_targets: dict[str, list[str]]
    """lexicon words of MIN_FUZZY_LENGTH or more, by first letter"""
    known: frozenset[str]
    cache: dict[str, str] = field(default_factory=dict)

    def word(self, token: str) -> str:
        """The lexicon word `token` is a typo of, else `token` itself."""
        if (len(token) < MIN_FUZZY_LENGTH or token in self.known or not token.isalpha()):
            return token
        hit = self.cache.get(token)
        if hit is None:
            hit = token
            targets = [t for t in self.fuzzy_targets.get(token[0], ())
                       if abs(len(t) - len(token)) <= 1]
            close = process.extract(token, targets, scorer=OSA.distance, score_cutoff=1, limit=2)
            if len(close) == 1:
                hit = close[0][0]
            if len(self.cache) < 50_000:
                self.cache[token] = hit
        return hit

    def spot(self, low: str) -> list[Entity]:
        """Every lexicon mention and pattern in a normalised text, longest first, no overlaps."""
        raw = [(m.start(), m.end(), m.group()) for m in TOKEN.finditer(low)]
        tokens = [(start, end, self.word(word)) for start, end, word in raw]
        words = [t[2] for t in tokens]
        found: list[Entity] = []
        i = 0
        while i < len(tokens):
            for key, hit in self.starting.get(words[i], ()):  # longest first
                if tuple(words[i:i + len(key)]) == key:
                    found.append(Entity(hit[0], hit[1], tokens[i][0], tokens[i + len(key) - 1][1]))
                    i += len(key)
                    break
            else:
                i += 1
        present = set(words) | {t[2] for t in raw}
        for entity, value, triggers, pattern in PATTERNS:
            if triggers.isdisjoint(present):
                continue
            for match in pattern.finditer(low):
                inner = next((g for g in ("m", "m2") if match.groupdict().get(g)), None)
                start, end = match.span(inner) if inner else match.span()
                while end > start and low[end - 1] == " ":
                    end -= 1
                found.append(Entity(entity, value, start, end))
        return _longest_first(found)


PLACE_INSIDE = frozenset({"restriction", "hold_type"})
"""A place may sit inside these mentions: "the bedroom door was locked", "on the bedroom floor"."""


def _clash(a: Entity, b: Entity) -> bool:
    if a.end <= b.start or b.end <= a.start:
        return False
    kinds = {a.entity, b.entity}
    return not ("location" in kinds and kinds & PLACE_INSIDE and a.entity != b.entity)


def _longest_first(entities: Iterable[Entity]) -> list[Entity]:
    """One entity per stretch of text: where spans overlap, the longest wins (a place may sit
    inside a restriction or a hold)."""
    kept: list[Entity] = []
    for entity in sorted(entities, key=lambda e: (-(e.end - e.start), e.start)):
        if not any(_clash(k, entity) for k in kept):
            kept.append(entity)
    return sorted(kept, key=lambda e: (e.start, e.end))


def spotter(path: Path = TRAIN_FILE) -> Spotter:
    """The spotter for a training file's lexicon (built once per process)."""
    return _spotter(path if path is TRAIN_FILE else Path(path).resolve())


@lru_cache(maxsize=4)
def _spotter(path: Path) -> Spotter:
    phrases: dict[tuple[str, ...], tuple[str, str]] = {}
    for surface, hit in surface_table(path).items():
        key = tuple(TOKEN.findall(surface))
        if key:
            phrases.setdefault(key, hit)
    words = {w for key in phrases for w in key}
    data = load_training_data(path)
    seen = {w for texts in data.examples.values() for t in texts for w in TOKEN.findall(t.lower())}
    known = frozenset(seen | speller(path).known | ORDINARY_WORDS | words)
    targets: dict[str, list[str]] = {}
    for word in sorted(words):
        if len(word) >= MIN_FUZZY_LENGTH and word.isalpha():
            targets.setdefault(word[0], []).append(word)
    starting: dict[str, list[tuple[tuple[str, ...], tuple[str, str]]]] = {}
    for key, hit in sorted(phrases.items(), key=lambda item: -len(item[0])):
        starting.setdefault(key[0], []).append((key, hit))
    return Spotter(starting=starting, fuzzy_targets=targets, known=known)


def keep_mention(low: str, entity: Entity, *, sentence: tuple[int, int]) -> bool:
    """Whether a spotted mention says what it seems to, read in its sentence.

    A soft room, a bare separation or a plain "on the floor" counts only when the sentence says
    the child was kept there or held; "pain" alone is not pain inflicted; a plain seatbelt is not
    restrictive equipment; "went to bed" and "next to the van" are not where it happened.
    """
    surface = " ".join(low[entity.start:entity.end].split())
    text = low[sentence[0]:sentence[1]]
    before = low[max(sentence[0], entity.start - 30):entity.start]
    if entity.entity == "restriction" and (surface in SOFT_ROOMS or surface in WEAK_SEPARATION):
        return bool(KEPT_IN.search(text)) and not FREE_TO_LEAVE.search(text)
    if entity.entity == "hold_type" and surface in FLOOR_ONLY:
        holds = [m for m in HOLD_WORD.finditer(text)]
        negated = {m.start() for m in NEGATED_HOLD.finditer(text)}
        return any(not any(n <= m.start() <= n + 25 for n in negated) for m in holds)
    if entity.entity == "pain" and surface in WEAK_PAIN:
        return bool(PAIN_CAUSE.search(text))
    if entity.entity == "pain" and PASSIVE_INJURY.search(low, max(0, entity.start - 30),
                                                        entity.end + 5):
        return False
    if entity.entity == "injury" and surface in ("cut", "cuts") and NOT_A_WOUND.match(low, entity.end):
        return False
    if entity.entity == "hold_type" and surface == "escort" and ESCORT_PERSON.search(before):
        return False
    if entity.entity == "equipment" and surface in BARE_SEATBELT:
        return bool(SEATBELT_RESTRICTS.search(low, entity.start, min(len(low), entity.end + 25)))
    if entity.entity == "location":
        if GOING_TO.search(before) or (entity.value == "vehicle" and BESIDE.search(before)):
            return False
        if surface == "outside" and (NOT_OUTDOORS.match(low, entity.end)
                                     or re.search(r"\bfrom\s+the\s+$", before)):
            return False
    return True


SENTENCE_END = re.compile(r"[.!?\n]+(?=\s|$)|;")


def sentence_of(low: str, pos: int) -> tuple[int, int]:
    """The sentence (between full stops) around a position of a normalised text."""
    start = 0
    for match in SENTENCE_END.finditer(low):
        if match.end() <= pos:
            start = match.end()
        elif match.start() >= pos:
            return start, match.start()
    return start, len(low)


__all__ = ["Spotter", "keep_mention", "sentence_of", "spotter"]
