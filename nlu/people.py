"""Who is who in an account: which named people are staff and which is the child.

An injury belongs to whoever the text says was hurt (DESIGN.md). Staff name colleagues ("me n
Sam", "my colleague Jo") and the child ("held Kai", "Tyler kicked off") in the same breath, in lower
case, so a name's role is read from how the text uses it; a name the text gives no role is the
child's, unless the text already calls the child "yp", "the child" or another name, in which case
it is a colleague's.
"""

from __future__ import annotations

import re
from functools import lru_cache

_NAME = r"([a-z][a-z'-]{1,20}?)(?:'s)?(?![a-z'-])"
_NAME_POSS = r"([a-z][a-z-]{1,20})'s\b"
_ASSAULT = (r"(?:bit|bitten|kicked|punched|hit|headbutted|head\s+butted|scratched|slapped|"
            r"spat\s+at|pushed|shoved|attacked|assaulted|elbowed|grabbed|went\s+for|swung\s+(?:it|"
            r"\w+)\s+at|threw\s+(?:\w+\s+){0,2}at|lunged\s+at)")
_HOLD = (r"(?:held|hold|holding|restrained|restraining|escorted|escorting|guided|guiding|walked|"
         r"moved|supported|calmed|settled|took|brought)")
_STAFF_ROLE = (r"(?:colleague|co-?worker|staff\s+member|member\s+of\s+staff|staff|manager|deputy|"
               r"teacher|ta|rsw|team\s+leader|shift\s+leader|senior|key\s?worker|nurse|driver|"
               r"escort|support\s+worker|agency\s+worker|waking\s+night|night\s+staff)")
_ME = frozenset({"me", "myself", "i"})
STAFF_CUES: list[tuple[frozenset[str], re.Pattern[str]]] = [
    (_ME, re.compile(rf"\b(?:me|myself|i)(?:\s*,\s*|\s+(?:and|n)\s+|\s*[&+]\s*){_NAME}")),
    (_ME, re.compile(rf"\b{_NAME}(?:\s+(?:and|n)\s+|\s*[&+]\s*)(?:me|myself|i)\b(?!')")),
    (frozenset({"colleague", "coworker", "co-worker", "staff", "member", "manager", "deputy",
                "teacher", "ta", "rsw", "leader", "senior", "keyworker", "key", "nurse", "driver",
                "escort", "support", "agency", "waking", "night", "worker"}),
     re.compile(rf"\b{_STAFF_ROLE}\s+{_NAME}\b")),
    (frozenset({"("}), re.compile(rf"\b{_NAME}\s*\((?:staff|{_STAFF_ROLE})\)")),
    (frozenset({"got", "was", "were", "been"}),
     re.compile(rf"\b{_NAME}\s+(?:got|was|were|has\s+been|had\s+been)\s+(?:\w+\s+)?"
                rf"(?:{_ASSAULT}|bitten|kicked|punched|headbutted|scratched|hurt|injured)\b")),
    (frozenset({"bit", "bitten", "kicked", "punched", "hit", "headbutted", "head", "scratched",
                "slapped", "spat", "pushed", "shoved", "attacked", "assaulted", "elbowed",
                "grabbed", "went", "swung", "threw", "lunged"}),
     re.compile(rf"\b{_ASSAULT}\s+{_NAME}\b")),
    (frozenset({"'s"}),
     re.compile(rf"\b{_NAME_POSS}\s+\w+\s+(?:was|got|were)\s+\w+(?:\s+\w+)?\s+(?:when|as|after"
                r"|while)\s+(?:he|she|they|yp|the\s+yp)\b")),
    (frozenset({"with", "by"}),
     re.compile(rf"\b(?:with|by)\s+(?:my\s+colleague\s+)?{_NAME}\s+(?:and\s+)?(?:me|i)\b")),
]
"""Ways a text shows a name is a member of staff's (tried only if one of the words is there);
group 1 is the name."""
CHILD_CUES: list[tuple[frozenset[str], re.Pattern[str]]] = [
    (frozenset({"held", "hold", "holding", "restrained", "restraining", "escorted", "escorting",
                "guided", "guiding", "walked", "moved", "supported", "calmed", "settled", "took",
                "brought"}),
     re.compile(rf"\b{_HOLD}\s+{_NAME}\b")),
    (frozenset({"yp", "child", "pupil", "young", "cyp"}),
     re.compile(rf"\b(?:yp|child|pupil|young\s+person|cyp)\s+\(?{_NAME}\)?")),
    (frozenset({"kicked", "was", "became", "started", "tried", "refused", "ran", "bolted",
                "absconded", "climbed", "escalated", "smashed", "threw", "punched", "bit", "hit",
                "headbutted", "spat", "swore", "lashed", "went"}),
     re.compile(rf"\b{_NAME}\s+(?:kicked\s+off|was\s+(?:hitting|kicking|throwing|shouting|"
                rf"screaming|climbing|taken|held|restrained|escorted)|became|started|tried|refused|"
                rf"ran|bolted|absconded|climbed|escalated|smashed|threw|punched|kicked|bit|hit|"
                rf"headbutted|spat|swore|lashed|went\s+for)\b")),
]
"""Ways a text shows a name is the child's; group 1 is the name."""
CHILD_REFERENCE = re.compile(r"\b(?:yp|cyp|the\s+child|young\s+person|pupil|student|the\s+boy"
                             r"|the\s+girl|resident)\b")
BODY_PARTS = frozenset({"arm", "arms", "hand", "hands", "wrist", "wrists", "face", "head", "leg",
                        "legs", "knee", "knees", "neck", "back", "cheek", "lip", "nose", "finger",
                        "fingers", "thumb", "shin", "chin", "forehead", "elbow", "shoulder", "ear",
                        "eye", "foot", "feet", "ankle", "hair", "scalp", "stomach", "chest",
                        "forearm", "thigh", "upper", "left", "right", "knuckles", "body"})
"""Words for where on the body someone was hurt (never names)."""
NOT_A_NAME_EXTRA = frozenset({
    "yp", "cyp", "child", "staff", "colleague", "me", "i", "he", "she", "they", "we", "him", "her",
    "them", "us", "it", "his", "hers", "the", "a", "an", "my", "our", "their", "this", "that",
    "then", "and", "n", "so", "also", "both", "all", "one", "two", "three", "other", "another",
    "later", "up", "out", "down", "off", "back", "in", "on", "at", "to", "by", "from", "with",
    "teacher", "ta", "manager", "deputy", "nurse", "driver", "escort", "team", "member", "night",
    "pupil", "student", "boy", "girl", "mum", "dad", "peer", "peers", "lad", "someone", "everyone",
    "anyone", "nobody", "himself", "herself", "myself", "was", "were", "got", "had", "has",
    "there", "here", "what", "who", "which", "when", "where", "it's", "its", "he's", "she's",
    "i'm", "im", "we'd", "i'd", "you", "your", "about", "approx", "after", "before", "during",
    "till", "until", "while", "as", "into", "onto", "over", "under", "again", "just", "only",
    "hand", "arm", "face", "head", "leg", "window", "door", "floor", "wall", "stick", "knife",
    "chair", "table", "phone", "glass", "time", "way", "tea", "water", "food",
})


ORDINARY_MIN_COUNT = 3
"""A training word seen this often and never with a capital is an ordinary word, not a name."""


@lru_cache(maxsize=1)
def _not_names() -> frozenset[str]:
    from collections import Counter

    from spacy.lang.en.stop_words import STOP_WORDS

    from nlu.lexicon import load_training_data, surface_table

    words = {w for form in surface_table() for w in form.split()}
    seen: Counter[str] = Counter()
    capitalised: set[str] = set()
    for texts in load_training_data().examples.values():
        for text in texts:
            for word in re.findall(r"[A-Za-z][A-Za-z'-]*", text):
                seen[word.lower()] += 1
                if word[0].isupper() and len(word) > 1 and not word.isupper():
                    capitalised.add(word.lower())
    ordinary = {w for w, n in seen.items() if n >= ORDINARY_MIN_COUNT and w not in capitalised}
    return frozenset(set(STOP_WORDS) | NOT_A_NAME_EXTRA | BODY_PARTS | words | ordinary)


def is_name(word: str) -> bool:
    """Whether a lower-case word can be someone's name (not a pronoun, role or ordinary word)."""
    word = word.removesuffix("'s")
    return (len(word) >= 2 and word.replace("-", "").replace("'", "").isalpha()
            and word not in _not_names() and not word.endswith(("ed", "ing", "ly", "n't")))


def name_roles(low: str) -> dict[str, str]:
    """Name -> "staff" or "child" for every name a normalised text gives a role."""
    roles: dict[str, str] = {}
    present = set(re.findall(r"[a-z]+|\(|'s\b", low))
    for cues, role in ((STAFF_CUES, "staff"), (CHILD_CUES, "child")):
        for triggers, rx in cues:
            if triggers.isdisjoint(present):
                continue
            for match in rx.finditer(low):
                name = match.group(1).removesuffix("'s")
                if is_name(name):
                    roles.setdefault(name, role)
    return roles


def role_of(name: str, *, roles: dict[str, str], low: str, default: str = "child") -> str:
    """The role of a name: as the text shows it, else staff when the child is already referred to
    another way, else `default` (the child, or staff for a bite: children bite staff)."""
    name = name.removesuffix("'s")
    if name in roles:
        return roles[name]
    if CHILD_REFERENCE.search(low) or "child" in roles.values():
        return "staff"
    return default


__all__ = ["BODY_PARTS", "is_name", "name_roles", "role_of"]
