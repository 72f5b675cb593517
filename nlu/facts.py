"""Shared post-processing: from a text and a backend's intent to the full ParseResult.

Both backends (the embedded spaCy parser and the Rasa server) call `build_result`, so what the text
mentions (nlu.vocabulary), negation scope, whose injury (nlu.people), numbers, the hold's own
duration, staff counts, facts, flags and control requests said in sentences (nlu.control) are
decided in one place: the two backends can only differ in the intent they guess.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from nlu.control import (
    ABOUT_THE_CHILD,
    NEGATION,
    NO_FIRST,
    NO_NOUN,
    SAYS_FINE,
    YES_FIRST,
    control_cue,
)
from nlu.flags import flags_from_facts
from nlu.lexicon import speller
from nlu.people import BODY_PARTS, is_name, name_roles, role_of
from nlu.result import CONTROL_INTENTS, Entity, Intent, ParseResult
from nlu.vocabulary import keep_mention, sentence_of, spotter

LIST_FACTS = {"hold_type": "hold_types", "location": "locations", "restriction": "restrictions",
              "equipment": "equipment"}
BOOL_FACTS = {"medication": "prn_medication", "pain": "pain_inflicted",
              "punishment": "used_as_punishment"}


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


_NORMALISE_TABLE = {ord(c): "'" for c in "\u2019\u2018`´"} | {
    c: " " for c in [*range(0, 10), *range(11, 32), *range(0x7F, 0xA0)]}


def normalise(text: str) -> str:
    """Lower case and straight apostrophes, keeping every character offset unchanged."""
    low = text.lower()
    if len(low) == len(text):
        return low.translate(_NORMALISE_TABLE)
    out = []
    for ch in text:
        low = ch.lower()
        ch = low if len(low) == 1 else ch
        if ch in "\u2019\u2018`´":
            ch = "'"
        elif (ch < " " and ch != "\n") or "\x7f" <= ch < "\xa0":
            ch = " "
        out.append(ch)
    return "".join(out)


# ---------------------------------------------------------------- numbers
UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
         "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
         "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
         "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50,
         "sixty": 60, "ninety": 90}
FUZZY = {"a": 1, "an": 1, "a couple of": 2, "a couple": 2, "couple of": 2, "a few": 3,
         "few": 3, "several": 4, "a handful of": 4}
_WORDNUM = ("(?:twenty|thirty|forty|fourty|fifty)[- ](?:one|two|three|four|five|six|seven|eight"
            "|nine)|" + "|".join(sorted(UNITS, key=len, reverse=True)))
_FUZZY = "|".join(sorted((re.escape(k) for k in FUZZY), key=len, reverse=True))
NUM = rf"(?:\d+(?:\.\d+)?|{_WORDNUM})"
NUM_OR_FUZZY = rf"(?:{NUM}|{_FUZZY})"


def number(word: str) -> float | None:
    """A number written in digits or words ("3", "three", "twenty-five", "a couple of")."""
    word = " ".join(word.strip().split())
    if not word:
        return None
    try:
        return float(word)
    except ValueError:
        pass
    if word in FUZZY:
        return float(FUZZY[word])
    if word in UNITS:
        return float(UNITS[word])
    parts = re.split(r"[- ]", word)
    if len(parts) == 2 and parts[0] in UNITS and parts[1] in UNITS:
        return float(UNITS[parts[0]] + UNITS[parts[1]])
    return None


# ---------------------------------------------------------------- durations
_UNIT = r"(?P<unit>hours?|hrs?|minutes?|mins?|min|seconds?|secs?|sec)"
_SHORT_UNIT = r"(?P<sunit>h|m|s)"
DURATION = re.compile(
    rf"(?<![\w.:])(?P<a>{NUM_OR_FUZZY})(?:\s*(?:-|–|to|or)\s*(?P<b>{NUM}))?"
    rf"(?P<half>\s+and\s+a\s+half)?\s*(?:{_UNIT}\b|(?<=\d){_SHORT_UNIT}\b)"
    rf"(?P<extra>\s*(?:and\s+)?(?:a\s+half|(?P<m>\d+|{_WORDNUM})\s*(?:minutes?|mins?|m)\b"
    r"|(?P<bare>[0-5]?\d)\b(?!\s*(?:staff|people|of|x\b|[:.]\d|am\b|pm\b|%))))?"
)
"""A length: "4 mins", "2-3 minutes", "an hour and a half", "1hr 10" (70 minutes)."""
SPECIAL_DURATIONS: list[tuple[re.Pattern[str], float]] = [
    (re.compile(r"\b(?:an?\s+)?hour\s+and\s+a\s+half\b"), 90),
    (re.compile(r"\bhalf\s+(?:an?\s+)?hour\b"), 30),
    (re.compile(r"\bquarter\s+(?:of\s+)?(?:an?\s+)?hour\b"), 15),
    (re.compile(r"\b(?:a|one)\s+min(?:ute)?\s+or\s+two\b"), 2),
]
AFTER_NOT_DURATION = re.compile(r"\s*(?:later|ago|earlier|before(?:hand)?|after(?:wards)?\b)")
FOR_UNTIL = re.compile(r"\bfor\s+(?:about\s+|approx\.?\s+|around\s+|roughly\s+|nearly\s+|maybe\s+"
                       r"|a\s+good\s+)?$")
CLAUSE_AFTER = re.compile(r"\s*(?:after|before)\s+(?:he|she|they|i|we|staff|yp|the|his|her|being|a"
                          r"|an|it)\b")
"""'held for 3 mins after he hit Sam': a length, then what led to it (not "an hour after")."""
BEFORE_NOT_DURATION = re.compile(r"(?:\bevery|\bwithin|\bin the (?:last|first)|\bafter)\s*$")
_TIME = r"(?P<{0}h>\d{{1,2}})(?:[:.](?P<{0}m>\d{{2}}))?\s*(?P<{0}p>am|pm)?"
TIME_RANGE = re.compile(
    r"(?<![\w.:])" + _TIME.format("x")
    + r"\s*(?:-|–|to|until|till|til|and|->)\s*(?:about\s+|approx\.?\s+|around\s+)?"
    + _TIME.format("y") + r"(?![\w:])"
)
TIME_START_END = re.compile(
    r"\b(?:started|began|start(?:ed)? at|from)\s+(?:at\s+)?" + _TIME.format("x")
    + r"\b.{0,60}?\b(?:ended|finished|stopped|released|let go|end(?:ed)? at)\s+(?:at\s+)?"
    + _TIME.format("y") + r"(?![\w:])"
)


def _clock(hours: str, minutes: str | None, meridiem: str | None) -> int | None:
    h, m = int(hours), int(minutes or 0)
    if h > 23 or m > 59:
        return None
    if meridiem == "pm" and h < 12:
        h += 12
    if meridiem == "am" and h == 12:
        h = 0
    return h * 60 + m


def _range_minutes(match: re.Match[str]) -> float | None:
    x_has, y_has = match.group("xm") or match.group("xp"), match.group("ym") or match.group("yp")
    if not (x_has and y_has):
        return None
    xp = match.group("xp") or (match.group("yp") if int(match.group("xh")) < 12 else None)
    start = _clock(match.group("xh"), match.group("xm"), xp)
    end = _clock(match.group("yh"), match.group("ym"), match.group("yp"))
    if start is None or end is None:
        return None
    diff = (end - start) % (24 * 60)
    return float(diff) if 0 < diff <= 240 else None


def durations(low: str) -> list[tuple[int, int, float]]:
    """(start, end, minutes) for each duration said in a normalised text."""
    found: list[tuple[int, int, float]] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    for rx in (TIME_START_END, TIME_RANGE):
        for match in rx.finditer(low):
            minutes = _range_minutes(match)
            if minutes is not None and free(*match.span()):
                found.append((match.start(), match.end(), minutes))
                taken.append(match.span())
    for pattern, minutes in SPECIAL_DURATIONS:
        for match in pattern.finditer(low):
            if free(*match.span()):
                found.append((match.start(), match.end(), minutes))
                taken.append(match.span())
    for match in DURATION.finditer(low):
        if not free(*match.span()):
            continue
        lead = low[max(0, match.start() - 20):match.start()]
        held_for = FOR_UNTIL.search(lead) and CLAUSE_AFTER.match(low, match.end())
        if (AFTER_NOT_DURATION.match(low, match.end()) and not held_for) or \
                BEFORE_NOT_DURATION.search(lead):
            continue
        value = number(match.group("b") or match.group("a"))
        if value is None:
            continue
        extra = match.group("extra") or ""
        if match.group("half") or "half" in extra:
            value += 0.5
        unit = (match.group("unit") or match.group("sunit") or "m")[0]
        minutes = value * {"h": 60.0, "m": 1.0, "s": 1 / 60}[unit]
        if unit == "h" and (match.group("m") or match.group("bare")):
            minutes += number(match.group("m") or match.group("bare")) or 0
        if 0 < minutes <= 24 * 60:
            found.append((match.start(), match.end(), round(minutes, 2)))
            taken.append(match.span())
    return found


HOLD_CONTEXT = re.compile(
    r"\b(?:hold|held|holding|holds|restrain\w*|restraint|pi|hands[- ]on|physical\w*|seated|sat"
    r"|standing|stood|prone|supine|floor|ground|escort\w*|guide[ds]?|guiding|door|locked|isolation"
    r"|time[- ]?out|separation|kept\s+in|wrap|figure\s+of\s+four|elbows?|harness|safe\s+space"
    r"|basket|kneeling|knelt|released|let\s+go|restriction|intervention)\b"
)
EPISODE_CONTEXT = re.compile(
    r"\b(?:whole|all\s+in\s+all|overall|altogether|incident|episode|missing|awol|absent|gone"
    r"|roof|escalat\w*|calm\w*|sat\s+with|stayed\s+with|waited|waiting|followed|following"
    r"|been\s+in|crying|cried|journey|contact|police|talked|talking|search\w*|shift)\b"
)
"""Words around a length that is the whole episode, an absence or the aftermath, not the hold."""


def hold_duration(low: str, found: list[tuple[int, int, float]]) -> float | None:
    """The length of the hold or restriction itself among the lengths a text states.

    A length in a clause about the hold wins over one about the whole episode, an absence or the
    aftermath ("on the roof for an hour ... the hold itself 4 mins" is 4); among equals, the longest.
    """
    bounds = clause_bounds(low)
    tied: list[float] = []
    plain: list[float] = []
    for start, end, minutes in found:
        clause = _clause_of(bounds, start)
        text = low[clause[0]:max(clause[1], end)]
        if EPISODE_CONTEXT.search(text) and not HOLD_CONTEXT.search(text):
            continue
        (tied if HOLD_CONTEXT.search(text) and not EPISODE_CONTEXT.search(text) else plain).append(
            minutes)
    if tied:
        return max(tied)
    return max(plain) if plain else None


# ---------------------------------------------------------------- staff counts
_STAFF_NOUN = (r"(?:other\s+)?(?:members?\s+of\s+staff|staff\s+members?|staff|colleagues?|adults?"
               r"|carers?|workers?|people|of\s+us|team\s+members?|teachers?|tas|rsws?"
               r"|support\s+workers?|others)")
STAFF_NUMBER = re.compile(rf"(?<![\w:.])(?P<n>{NUM})\s+{_STAFF_NOUN}\b")
STAFF_FORM = re.compile(rf"\b(?:staff|staff\s+involved|staff\s+count|staff\s+numbers?)\s*"
                        rf"(?:involved\s*)?[:=-]\s*(?P<n>{NUM})\b")
TEAM_OF = re.compile(rf"\bteam\s+of\s+(?P<n>{NUM})\b")
PERSON_HOLD = re.compile(rf"(?<![\w:.])(?P<n>{NUM})[\s-]*(?:person|man|staff|people)[\s-]+"
                         r"(?:[a-z]+\s+)?(?:hold|restraint|escort|intervention|team)")
ORDINAL_JOINED = re.compile(r"\b(?:a|the)\s+(?P<n>third|fourth|fifth|sixth)\s+(?:(?:member\s+of\s+"
                            r"staff|staff\s+member|staff|person|colleague|adult)\s+)?(?:joined|swapped"
                            r"|came|stepped|took\s+over|arrived|helped)\b")
ORDINALS = {"third": 3, "fourth": 4, "fifth": 5, "sixth": 6}
THEN_MORE = re.compile(rf"\b(?:staff|of\s+us|people)\b[^.;]{{0,25}}?\bthen\s+(?P<n>{NUM})\b"
                       r"(?!\s*(?:mins?|minutes?|hours?|hrs?|secs?|seconds?|[:.]\d|am\b|pm\b))")
"""'two staff then a third swapped in', '2 staff at first and then 3': the most there were."""
JOINED = re.compile(r"\b(?:joined|came\s+(?:in\s+)?to\s+help|came\s+to\s+assist|stepped\s+in"
                    r"|took\s+over)\b")
STAFF_TIMES = re.compile(r"\bstaff\s*x\s*(?P<n>\d+)\b|\bx\s*(?P<m>\d+)\s+staff\b")
ME_BEFORE = re.compile(r"\b(?:me|myself|i)\s*(?:,|and|&|\+|n|plus)\s*$")
ME_AFTER = re.compile(r"\s*(?:,|and|&|\+|n)\s*(?:me|myself|i)\b")
ON_MY_OWN = re.compile(r"\b(?:on my own|by myself|just me|i was alone|single[- ]person"
                       r"|one[- ]person|only me)\b")
BOTH_OF_US = re.compile(r"\b(?:both|the two) of us\b")
_ROLE = (r"(?:(?:my|a|the|another|one|other|an|our)\s+)*(?:other\s+)?(?:colleague|manager|deputy"
         r"|team\s+leader|shift\s+leader|senior|key\s?worker|teacher|ta|nurse|rsw|support\s+worker"
         r"|teaching\s+assistant|night\s+staff|waking\s+night|agency\s+(?:staff|worker)"
         r"|member\s+of\s+staff|staff\s+member|co-?worker|supervisor|lead|staff|escort|driver)")
_NAME = r"(?:[a-z][a-z'-]{1,20})"
_PERSON = rf"(?:{_ROLE}|{_NAME})"
_JOIN = r"\s*(?:,\s*)?(?:\band|&|\+|\bn)\s+|\s*,\s*"
ME_AND = re.compile(rf"\b(?:me|myself|i)(?:(?:{_JOIN}){_PERSON}\b)+")
AND_ME = re.compile(rf"\b{_PERSON}(?:(?:{_JOIN}){_PERSON})*(?:{_JOIN})(?:me|myself|i)\b")
PERSON_SPLIT = re.compile(rf"(?:{_JOIN})")
AND_JOIN = re.compile(r"\band\b|&|\+|\bn\b")


def _not_name_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    extra = {"yp", "cyp", "child", "kid", "young", "person", "she", "he", "her", "him", "them",
             "staff", "we", "us", "then", "took", "held", "restrained", "his",
             "the", "it", "that", "this", "there", "went", "got", "was", "were", "had", "ran",
             "tried", "used", "yes", "no", "ok", "so", "also", "now", "later", "still", "just",
             "girl", "boy", "pupil", "student", "mum", "dad", "everyone", "everybody"}
    table = {w for form in _surface_words() for w in form.split()}
    return frozenset(set(STOP_WORDS) | extra | table)


def _surface_words() -> list[str]:
    from nlu.lexicon import surface_table

    return list(surface_table())


_NOT_NAMES: frozenset[str] | None = None


VERBS = frozenset({"spat", "bit", "hit", "ran", "swore", "threw", "kept", "got", "went", "said",
                   "told", "left", "came", "made", "put", "took", "held", "felt", "tried", "hurt",
                   "cut", "fell", "pushed", "grabbed", "kicked", "punched", "lashed", "walked"})


NOT_BEFORE_NAME = frozenset({"to", "he", "she", "they", "it", "yp", "we", "i", "would", "could",
                             "will", "can", "did", "didn't", "was", "were", "had", "not", "then",
                             "the", "a", "an", "his", "her", "my", "their", "our", "of", "out",
                             "in", "on", "at", "into", "from", "with", "by", "for", "your",
                             "after", "before", "during", "about"})


def _is_person(original: str, previous: str = "") -> bool:
    low = original.lower()
    if re.fullmatch(_ROLE, low):
        return True
    global _NOT_NAMES
    if _NOT_NAMES is None:
        _NOT_NAMES = _not_name_words()
    if " " in low or low in _NOT_NAMES or low in VERBS or not is_name(low):
        return False
    if original[:1].isupper():
        return True
    return (len(low) <= 10 and not low.endswith(("ed", "ing", "ly"))
            and previous.lower() not in NOT_BEFORE_NAME)


def _count_people(chunk: str, *, from_right: bool, previous: str = "") -> int | None:
    """How many people a "me, Dave and Sam" chunk names, me included (None if no one else)."""
    if not AND_JOIN.search(chunk.lower()):
        return None  # "she hit me, Dave came in" is not a list of staff
    people = [p.strip() for p in PERSON_SPLIT.split(chunk) if p.strip()]
    people = [p for p in people if p.lower() not in ("me", "myself", "i")]
    if not people:  # "me and I'm ..." names nobody else
        return None
    befores = [previous, *people[:-1]]
    pairs = list(zip(people, befores, strict=True))
    if from_right:
        pairs.reverse()
    count = 0
    for person, before in pairs:
        if not _is_person(person, before.split()[-1] if before.split() else ""):
            break
        count += 1
    return count + 1 if count else None


ME_WORD = re.compile(r"\b(?:me|myself|i)\b")


def _me_matches(rx: re.Pattern[str], low: str) -> list[re.Match[str]]:
    """Matches of a "me and Dave" pattern, tried only in windows around each "me" (fast)."""
    found: list[re.Match[str]] = []
    for me in ME_WORD.finditer(low):
        if rx is ME_AND:
            match = rx.match(low, me.start(), me.start() + 120)
            if match:
                found.append(match)
        else:
            start = max(0, me.start() - 120)
            for match in rx.finditer(low, start, me.end()):
                if match.end() == me.end():
                    found.append(match)
                    break
    return found


def staff_counts(low: str, *, text: str | None = None) -> list[int]:
    """Each number of staff a text states ("two of us", "me n Dave", "3 staff").

    `low` is the normalised text; `text` the original (same offsets), whose capitals mark names.
    """
    text = low if text is None else text
    counts: list[int] = []
    for match in STAFF_NUMBER.finditer(low):
        value = number(match.group("n"))
        if value is None or value != int(value):
            continue
        n = int(value)
        if ME_BEFORE.search(low[max(0, match.start() - 12):match.start()]) or ME_AFTER.match(
            low, match.end()
        ):
            n += 1
        elif match.group(0).endswith("others"):
            continue
        counts.append(n)
    for rx in (TEAM_OF, PERSON_HOLD, STAFF_FORM):
        for match in rx.finditer(low):
            value = number(match.group("n"))
            if value is not None and value == int(value):
                counts.append(int(value))
    for match in STAFF_TIMES.finditer(low):
        counts.append(int(match.group("n") or match.group("m")))
    for rx in (ME_AND, AND_ME):
        for found in _me_matches(rx, low):
            lead = re.split(r"[.;!?,:\n]", low[max(0, found.start() - 20):found.start()])[-1]
            previous = _words(lead) or [""]
            people = _count_people(text[found.start():found.end()], from_right=rx is AND_ME,
                                   previous=previous[-1] if rx is AND_ME else "me")
            if people:
                counts.append(people)
    if BOTH_OF_US.search(low):
        counts.append(2)
    for match in ORDINAL_JOINED.finditer(low):
        counts.append(ORDINALS[match.group("n")])
    for match in THEN_MORE.finditer(low):
        value = number(match.group("n"))
        if value is not None and value == int(value):
            counts.append(int(value))
    if not counts and ON_MY_OWN.search(low):
        counts.append(2 if JOINED.search(low) else 1)  # "just me at first, then Jo joined"
    return [c for c in counts if 0 < c <= 30]


# ---------------------------------------------------------------- negation and clauses
BOUNDARY = re.compile(
    r"[.;!?\n]+(?=\s|$)|[;!?\n]|,|\s[-–]\s|\b(?:but|however|although|though|whereas|instead|then"
    r"|until|till|because|when|while|whilst|after|before|once|so|which|who|where|apart from"
    r"|except|other than)\b|\band\s+(?=(?:i|we|she|he|they|staff|yp|it|then|the|her|his|my|also)\b)"
)
NEG_CUE = re.compile(
    r"\b(?:no|not|never|without|nobody|neither|nor|nothing|zero|cannot|avoided|avoid"
    r"|avoiding|instead of|rather than|refused|declined|free of|no-one|no one|noone|non)\b|n't\b"
    r"|\b(?:wasnt|werent|didnt|dont|doesnt|isnt|arent|hasnt|havent|hadnt|couldnt|wouldnt|wont"
    r"|cant|aint|shouldnt|neednt)\b"
)
HYPO_CUE = re.compile(
    r"\b(?:risk of|at risk|risk|prevent|prevented|preventing|to stop|stop (?:her|him|them)"
    r"|stopping|trying to|tried to|try to|attempt(?:ed|ing)? to|going to|threaten(?:ed|ing)? to"
    r"|could have|might have|would have|could|might|may|in case|potential|likely to|about to"
    r"|wanted to|want to|asked to|if|alleg\w*)\b"
)
POST_NEG = re.compile(
    r"^\s*(?:[:=-]+\s*)?(?:(?:was|were|is|are|has been|have been|had been|been|also)\s+)?"
    r"(?:(?:not|never|n't|wasn'?t|weren'?t|isn'?t|aren'?t|hasn'?t|haven'?t|hadn'?t)\s+(?:\w+\s+)?"
    r"(?:given|needed|required|used|administered|sustained"
    r"|necessary|offered|taken|applied|noted|observed|seen|present|found|reported|happen\w*"
    r"|involved|done|carried out|utili[sz]ed|employed|warranted|appropriate|caused|inflicted"
    r"|an option)\b|(?:none|nil|n/a|refused|declined|unnecessary|avoided)\b|(?:no|x|0)\b(?!\s*\w))"
)
QUESTION_NO = re.compile(r"[^.;!?\n]{0,25}\?\s*(?:no|nope|nah|none|nil|n)\b")
POST_WINDOW_END = re.compile(r"[.;!?\n,]|\bbut\b|\band\b")
POST_POS = re.compile(r"\s*(?:(?:was|were|is|has been|had been)\s+)?(?:given|taken|administered"
                      r"|used|offered|needed|required|sustained|noted|seen)\b")
LIST_GAP = re.compile(r"^\s*(?:or|nor|/|,\s*or|,\s*nor)\s*$")
LIST_COMMA = re.compile(r"^\s*,\s*$")
COMMA_GAP = re.compile(r"^\s*(?:,|and|,\s*and)?\s*$")


DOUBLE_NEGATIVE = re.compile(r"\b(?:can'?t|cannot|couldn'?t|wouldn'?t|not)\s+(?:say|said|claim)\s+"
                             r"(?:that\s+)?(?:no|nobody|no\s+one|no-one|noone|none|nothing)\b")
REPORTED = re.compile(r"\b(?:he|she|they|yp|child|pupil)\s+(?:said|says|claims?|claimed|complained"
                      r"|thinks|thought|felt|feels|reported|told\s+(?:me|us|staff))\b")
"""What the child says happened is theirs to say: recorded, not read as a fact of the hold."""
LIST_CUES = frozenset({"no", "zero", "nil", "without", "none", "free of"})
"""Cues that deny a whole list ("no injuries, marks or bruises"), unlike "never went to the floor,
held seated"."""
MAX_CUE_WORDS = 6
MAX_PLACE_CUE_WORDS = 2
"""A place is denied only right after the cue: "not in his room", "not on the bus"."""
CONTRAST = re.compile(r"\b(?:just|only|apart\s+from|except)\b")
"""'no holds used, just a guide': what follows "just" is what was done."""
MAX_HYPO_WORDS = 3


@dataclass
class _Span:
    entity: str
    value: str
    start: int
    end: int
    status: str = "pos"  # "pos", "neg" (denied) or "hypo" (not asserted either way)
    subjects: frozenset[str] = frozenset()
    cue: str = ""


def _listed(gap: str, first: _Span, second: _Span) -> bool:
    """Whether one negation covers both ("no injuries or prn", "no marks, bruises")."""
    return bool(LIST_GAP.match(gap) or (first.entity == second.entity and COMMA_GAP.match(gap)))


def clause_bounds(low: str) -> list[tuple[int, int]]:
    """Character ranges of the clauses of a normalised text (negation never crosses them)."""
    cuts = [0]
    for match in BOUNDARY.finditer(low):
        cuts += [match.start(), match.end()]
    cuts.append(len(low))
    return [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]


def _clause_of(bounds: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for start, end in bounds:
        if start <= pos < end:
            return start, end
    return (pos, pos)


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'/-]+", text)


def _status(low: str, span: _Span, clause: tuple[int, int], spans: list[_Span]) -> str:
    """"neg", "hypo" or "pos" for one entity, from the cues around it in its clause."""
    if span.entity in ("pain", "injury") and NEG_CUE.search(low, span.start, span.end):
        span.cue = "inside"
        return "neg"  # "the hold wasn't hurting her"
    before = low[clause[0]:span.start]
    if DOUBLE_NEGATIVE.search(before):  # "can't say no one was hurt" says nothing either way
        return "hypo"
    if REPORTED.search(before):  # "he says we punished him"
        return "hypo"
    cue_end, kind = -1, ""
    for rx, name in ((NEG_CUE, "neg"), (HYPO_CUE, "hypo")):
        for match in rx.finditer(before):
            if match.end() > cue_end or (match.end() == cue_end and name == "neg"):
                cue_end, kind = match.end(), name
                span.cue = match.group(0)
    if cue_end >= 0:
        cue_at = clause[0] + cue_end
        chain = [o for o in spans if o is not span and cue_at <= o.start and o.end <= span.start]
        chain.append(span)
        listed = all(_listed(low[a.end:b.start], a, b) for a, b in itertools.pairwise(chain))
        limit = MAX_CUE_WORDS if kind == "neg" else MAX_HYPO_WORDS
        listed = listed and (len(chain) == 1 or not POST_POS.match(low[span.end:clause[1]]))
        if span.entity == "location" and kind == "neg":
            limit = MAX_PLACE_CUE_WORDS  # "harness wasn't used on the bus": the bus still was
        between = low[cue_at:chain[0].start]
        if listed and len(_words(between)) <= limit and not CONTRAST.search(between):
            return kind
    if QUESTION_NO.match(low, span.end, span.end + 40):  # "was prn given? no"
        span.cue = "post"
        return "neg"
    after = POST_WINDOW_END.split(low[span.end:span.end + 40], maxsplit=1)[0]
    if POST_NEG.match(after):
        span.cue = "post"
        return "neg"
    return "pos"


STAFF_WORDS = frozenset({"i", "me", "my", "myself", "we", "us", "our", "ourselves", "staff",
                         "colleague", "colleagues", "colleague's", "staff's", "i'm", "i've",
                         "i'd", "co-worker", "manager", "teacher", "deputy", "im", "ive", "ta",
                         "rsw", "nurse", "driver", "teacher's", "manager's", "tas", "teachers"})
CHILD_WORDS = frozenset({"she", "he", "her", "him", "his", "hers", "herself", "himself", "yp",
                         "yp's", "child", "child's", "cyp", "boy", "girl", "pupil", "student",
                         "resident", "kid", "young", "she's", "he's", "shes", "hes"})
EVERYONE_WORDS = frozenset({"anyone", "anybody", "everyone", "everybody", "nobody", "noone",
                            "either", "neither", "all", "one", "both"})
OBJECT_ONLY = frozenset({"her", "him", "me", "us", "his", "my"})
"""Words that can name whose body part it was rather than who was hurt ("on her arm")."""
SUBJECT_WINDOW = 5
"""How many words before an injury word are searched for whose injury it was."""
SENTENCE_WINDOW = 14
"""Failing that, how many words back in the sentence ("dev got kicked in the shin, bruised")."""
BITES = frozenset({"bitten", "bite", "bite mark", "bite marks", "teeth marks", "bit me"})
"""A bite on a named person with no other role is a colleague's: it is the child who bites."""
CHILD_MARKS = frozenset({"marks", "mark", "red marks", "red mark", "redness"})
"""Said of nobody in particular, marks are looked for on the child (a body check)."""
BY_CHILD = re.compile(r"\s*(?:\w+\s+){0,2}?by\s+(?:the\s+)?(?:yp|child|him|her|young\s+person"
                      r"|pupil)\b")
"""'bitten by yp', 'bent back by the yp': someone else was hurt by the child, so staff."""
SKIP_AFTER = frozenset({"found", "seen", "noted", "observed", "sustained", "recorded", "caused",
                        "were", "was", "done", "checked"})



@dataclass
class _People:
    """Who the names of one text are (see nlu.people)."""

    low: str
    roles: dict[str, str]
    default: str = "child"

    def subject(self, word: str, following: list[str], *, any_name: bool = False) -> frozenset[str]:
        """Whose injury a word points to: a pronoun, a role, everyone, or a name (any name
        when `any_name`, else only one the text uses as a person)."""
        word = speller().fix(word) if word.isalpha() else word  # "stff member"
        if word in ("both", "neither", "all") and following[:2] == ["of", "us"]:
            return frozenset({"staff"})
        if word in STAFF_WORDS:
            return frozenset({"staff"})
        if word in CHILD_WORDS:
            return frozenset({"child"})
        if word in EVERYONE_WORDS:
            return frozenset({"child", "staff"})
        if is_name(word) and (any_name or word.removesuffix("'s") in self.roles or word.endswith("'s")
                              or _NAME_SUBJECT.match(" ".join(following[:2]))):
            return frozenset({role_of(word, roles=self.roles, low=self.low,
                                      default=self.default)})
        return frozenset()


_NAME_SUBJECT = re.compile(r"^(?:has|had|got|was|is|received|suffered|sustained|hurt|cut|twisted"
                           r"|bruised|scratched|no|not)\b")


def _injury_subjects(low: str, span: _Span, clause: tuple[int, int], cue: str,
                     people: _People | None = None) -> frozenset[str]:
    """Whose injury an injury word is about: {"child"}, {"staff"}, both, or empty (not said)."""
    people = people or _People(low, {})
    surface = " ".join(low[span.start:span.end].split())
    if surface in BITES:
        people = _People(low, people.roles, default="staff")
    inside = _words(low[span.start:span.end])
    if any(word in ("me", "us", "my") for word in inside):
        return frozenset({"staff"})
    for word in inside:
        if is_name(word) and word.removesuffix("'s") in people.roles:
            return people.subject(word, [])
    if BY_CHILD.match(low, span.end):
        return frozenset({"staff"})
    after = _words(low[span.end:clause[1]])[:8]
    if after and after[0] in OBJECT_ONLY and not (after[1:2] and after[1] in BODY_PARTS):
        return people.subject(after[0], after[1:])  # "he scratched me"
    if cue in ("nobody", "no one", "no-one", "noone", "neither", "none"):
        return people.subject("neither" if cue == "neither" else "nobody", after)
    stop_at_cue = cue in ("no", "zero", "without", "post")
    before_text = re.split(r"[,:(]|\s[-–]\s", low[clause[0]:span.start])[-1]
    if stop_at_cue:  # "yp no injuries", "kai himself no marks": the subject just before the cue
        lead = _words(re.split(r"[,.;:(]", low[max(0, span.start - 40):span.start])[-1])
        while lead and lead[-1] in ("no", "zero", "without", "nil", "himself", "herself", "had",
                                    "has", "sustained", "with"):
            lead.pop()
        if lead and (subject := people.subject(lead[-1], ["no"])) and lead[-1] not in OBJECT_ONLY:
            return subject
    before = [] if stop_at_cue else _words(before_text)
    fallback: frozenset[str] = frozenset()
    for i in range(len(before) - 1, max(-1, len(before) - 1 - SUBJECT_WINDOW), -1):
        subject = people.subject(before[i], before[i + 1:])
        if subject and before[i] not in OBJECT_ONLY:
            return subject
        fallback = fallback or subject
    found: set[str] = set()
    while after and after[0] in SKIP_AFTER:
        after = after[1:]
    if after and after[0] in ("staff", "yp", "anyone", "anybody", "everyone", "both", "either",
                              "myself"):
        found |= people.subject(after[0], after[1:])
    elif after and after[0] in ("on", "to", "for", "of", "in", "onto"):
        expect_joiner = False
        for i, word in enumerate(after[1:6], start=1):
            subject = people.subject(word, after[i + 1:], any_name=True) if not (
                word in ("her", "his", "their") and after[i + 1:i + 2]
                and after[i + 1] in BODY_PARTS) else frozenset()
            if word in ("or", "and", "nor", "/"):
                expect_joiner = False
            elif expect_joiner:
                if word not in ("member", "members", "person", "of", "staff"):
                    break
            elif subject:
                found |= subject
                expect_joiner = True
            elif word not in ("the", "a", "an", "both", "young"):
                break
    if found:
        return frozenset(found)
    if not stop_at_cue and not fallback:  # look further back in the sentence
        sentence = sentence_of(low, span.start)
        earlier = _words(low[sentence[0]:span.start])
        for i in range(len(earlier) - 1, max(-1, len(earlier) - 1 - SENTENCE_WINDOW), -1):
            word = earlier[i]
            if word in ("her", "his", "their") and earlier[i + 1:i + 2] and \
                    earlier[i + 1] in BODY_PARTS:
                continue
            subject = people.subject(word, earlier[i + 1:])
            if subject:
                return subject
    if not fallback and " ".join(low[span.start:span.end].split()) in CHILD_MARKS:
        return frozenset({"child"})
    return fallback


NOT_HURT = re.compile(
    r"\b(?P<who>[a-z][a-z'-]*)(?:\s+(?:was|is|were|are|seemed|seems|looked|appeared|all|both|also"
    r"|himself|herself|themselves|too))*\s+(?:ok|okay|fine|alright|unhurt|uninjured|unharmed"
    r"|not\s+hurt|not\s+injured)\b(?=\s*(?:after\w*|now|too|though|tho)?\s*(?:[,.;!?\n]|$|but"
    r"|and|\())"
)
"""'he was ok after', 'yp unhurt', 'staff all fine': that person was not hurt."""
NEITHER_WAS = re.compile(r"\b(?:and\s+)?(?:neither|nor)\s+(?:was|were|did)\s+(?P<who>[a-z][a-z'-]*)")
NOTHING_FOUND = re.compile(r"\b(?:nothing|no\s+marks?)\s+(?:was\s+)?found\b|\bbody\s+(?:map|check)"
                           r"\s+(?:clear|fine|ok)\b")


def _not_hurt_spans(low: str, people: _People) -> list[_Span]:
    """Negated injury mentions said as "X was fine", "neither was he", "checked, nothing found"."""
    spans: list[_Span] = []
    for match in NOT_HURT.finditer(low):
        who = match.group("who")
        subject = people.subject(who, ["was"])
        if subject and who not in ("her", "him", "us"):
            spans.append(_Span("injury", "injury", match.start(), match.end(), "neg", subject, "ok"))
    for match in NEITHER_WAS.finditer(low):
        subject = people.subject(match.group("who"), ["was"])
        if subject and re.search(r"\b(?:not|n't|wasnt|never|no)\b", low[:match.start()]):
            spans.append(_Span("injury", "injury", match.start(), match.end(), "neg", subject, "ok"))
    for match in NOTHING_FOUND.finditer(low):
        spans.append(_Span("injury", "injury", match.start(), match.end(), "neg",
                           frozenset({"child"}), "ok"))
    return spans


MED_OFFERED = re.compile(r"\b(?:offer\w*|consider\w*|suggest\w*|discuss\w*|prompt\w*"
                         r"|asked\s+(?:for|if|whether|about)|(?:talked|spoke|thought)\s+about)\b")
MED_GIVEN = re.compile(r"\b(?:given|gave|administered|took|taken|take|accepted|swallowed"
                       r"|had\s+(?:his|her|their|it))\b")
MED_REFUSED = re.compile(r"\b(?:refus\w*|declin\w*|spat\s+(?:it\s+)?out|(?:wouldn'?t|would\s+not"
                         r"|didn'?t|did\s+not|won'?t|not)\s+(?:\w+\s+)?(?:take|give|given|have)"
                         r"|wasn'?t\s+(?:\w+\s+)?given)\b")
MED_WINDOW = 90
"""How far around a mention of medication its outcome is looked for, inside the sentence."""


def _medication_status(low: str, span: _Span, sentence: tuple[int, int]) -> str:
    """Given ("pos"), refused or not given ("neg"), or only offered ("hypo"): the last outcome wins.

    "offered but declined" is false; "refused at first but took it at ten past" is true;
    "prn was offered" says nothing either way (DESIGN.md).
    """
    start = max(sentence[0], span.start - MED_WINDOW)
    end = min(sentence[1], span.end + MED_WINDOW)
    window = _spell_fixed(low[start:end], low[start:end])[0]  # "offered and takeen"
    offered = MED_OFFERED.search(window)
    if not offered and not re.compile(r"\b(?:refus|declin)").search(window):
        return span.status  # "no meds given", "prn not needed": the cues have said it
    refused = [m.span() for m in MED_REFUSED.finditer(window)]
    outcomes = [(start, "neg") for start, _ in refused]
    outcomes += [(m.start(), "pos") for m in MED_GIVEN.finditer(window)
                 if not any(a <= m.start() < b for a, b in refused)]  # "didn't take" is no
    if outcomes:
        return max(outcomes)[1]
    if offered and span.status == "pos":
        return "hypo"
    return span.status


PRONOUNS = frozenset({"he", "she", "his", "her", "him", "she's", "he's", "shes", "hes", "they"})


def _by_pronoun(low: str, span: _Span) -> bool:
    """Whether the nearest person named before an injury is only "he" or "she"."""
    sentence = sentence_of(low, span.start)
    for word in reversed(_words(low[sentence[0]:span.start])[-SUBJECT_WINDOW:]):
        if word in PRONOUNS:
            return True
        if word in STAFF_WORDS or word in CHILD_WORDS or is_name(word):
            return False
    return False


def _drop_weak_child_injuries(low: str, spans: list[_Span]) -> None:
    """A child injury read only from "she" loses to the text saying outright that the child was
    not hurt ("Priya got headbutted, she's got a bump. kai no injuries": she is Priya)."""
    injuries = [s for s in spans if s.entity == "injury"]
    said_unhurt = any(s.status == "neg" and s.subjects == {"child"} and not _by_pronoun(low, s)
                      for s in injuries)
    if not said_unhurt:
        return
    for span in injuries:
        if span.status == "pos" and "child" in span.subjects and _by_pronoun(low, span):
            span.subjects = span.subjects - {"child"} or frozenset({"staff"}) \
                if span.subjects != {"child"} else frozenset()
            span.status = "hypo" if not span.subjects else span.status


# ---------------------------------------------------------------- the result
MAX_ANALYSED_CHARS = 20_000
"""Only this much of a message is read for details; a longer paste still gets a valid result."""
UNSURE_CONFIDENCE = 0.5
"""Below this, a control intent guessed for a text of several words is taken as an answer."""
SHORT_GUESS_CONFIDENCE = 0.3
"""Below this, a control intent guessed for one or two words (a name, a number) is an answer."""
RULE_CONFIDENCE = 0.95
"""The confidence given to a control request read from its words (nlu.control)."""
LONG_MESSAGE_WORDS = 8
"""A message this long with no control words in it is an answer, whatever the classifier says."""


def _choose_intent(intent: Intent, low: str, has_details: bool) -> Intent:
    """The intent for a message: a control request said in words, else the backend's guess unless
    the message is plainly an answer (details, or a long message with no control words)."""
    words = _words(low)
    answer = Intent("inform", round(1 - intent.confidence, 4))
    cue = control_cue(low, has_details=has_details)
    if cue == "inform":
        return Intent("inform", RULE_CONFIDENCE)
    if cue is not None:
        return Intent(cue, max(intent.confidence, RULE_CONFIDENCE))
    if YES_FIRST.match(low):  # "yes it was needed because he was about to hit Sam"
        return Intent("affirm", max(intent.confidence, RULE_CONFIDENCE))
    if NO_FIRST.match(low):  # "no, it was two of us not three" corrects; plain "no" denies
        if has_details or (NO_NOUN.match(low) and len(words) >= 3):
            return answer
        return Intent("deny", max(intent.confidence, RULE_CONFIDENCE))
    if intent.name not in CONTROL_INTENTS:
        return intent
    if intent.name == "distress" and SAYS_FINE.match(low):
        return answer
    if ABOUT_THE_CHILD.match(low) and intent.name in ("distress", "affirm", "deny"):
        return answer  # "he'd not slept", "she was very upset": about the child, an answer
    if has_details or len(words) >= LONG_MESSAGE_WORDS:
        return answer
    if intent.name in ("affirm", "deny") and len(words) >= 4 and not NEGATION.search(low):
        return answer  # "i'm fine thanks, just tired"
    if len(words) >= 6 and intent.confidence < UNSURE_CONFIDENCE:
        return answer
    if len(words) <= 2 and intent.confidence < SHORT_GUESS_CONFIDENCE:  # "Kai", "two"
        return answer
    return intent


def _spell_fixed(low: str, text: str) -> tuple[str, str]:
    """The normalised and original texts with small typos fixed ("memmbers", "miutes")."""
    spell = speller()
    low_parts: list[str] = []
    text_parts: list[str] = []
    last = 0
    for match in _ALPHA.finditer(low):
        fixed = spell.fix(match.group(0))
        if fixed != match.group(0):
            low_parts += [low[last:match.start()], fixed]
            text_parts += [text[last:match.start()], fixed]
            last = match.end()
    return "".join([*low_parts, low[last:]]), "".join([*text_parts, text[last:]])


_ALPHA = re.compile(r"[a-z]{4,}")


def build_result(text: str, *, intent: Intent, entities: list[Entity]) -> ParseResult:
    """The ParseResult for `text`, given a backend's intent.

    What the text mentions is spotted here from the shared lexicon (`nlu.vocabulary`), not taken
    from the backend's `entities`, so both backends give the same facts and flags for a text.
    """
    del entities  # kept in the signature: a backend may still report what it saw
    low = normalise(text)[:MAX_ANALYSED_CHARS]
    spans: list[_Span] = []
    for entity in spotter().spot(low):
        if keep_mention(low, entity, sentence=sentence_of(low, entity.start)):
            spans.append(_Span(entity.entity, entity.value, entity.start, entity.end))
    mentioned = bool(spans)
    bounds = clause_bounds(low)
    people = _People(low, name_roles(low))
    previous: _Span | None = None
    for span in spans:
        clause = _clause_of(bounds, span.start)
        span.status = _status(low, span, clause, spans)
        if (span.status == "pos" and previous is not None and previous.status == "neg"
                and previous.cue in LIST_CUES and previous.entity == span.entity
                and LIST_COMMA.match(low[previous.end:span.start])
                and not POST_POS.match(low[span.end:span.end + 30])):
            span.status, span.cue = "neg", previous.cue  # "no injuries, marks or bruises"
        previous = span
        if span.entity == "medication":
            span.status = _medication_status(low, span, sentence_of(low, span.start))
        if span.entity == "injury":
            cue = span.cue if span.status == "neg" else ""
            span.subjects = _injury_subjects(low, span, clause, cue, people)
    spans += _not_hurt_spans(low, people)

    _drop_weak_child_injuries(low, spans)
    facts = empty_facts()
    for span in spans:
        if span.entity in LIST_FACTS and span.status == "pos":
            bucket = facts[LIST_FACTS[span.entity]]
            if span.value not in bucket:
                bucket.append(span.value)
        elif span.entity in BOOL_FACTS and span.status != "hypo":
            key = BOOL_FACTS[span.entity]
            facts[key] = True if span.status == "pos" else bool(facts[key])
        elif span.entity == "injury" and span.status != "hypo":
            whom = span.subjects or (
                frozenset({"child"}) if span.status == "pos" else frozenset({"child", "staff"})
            )
            for who in whom:
                current = facts["injury"][who]
                facts["injury"][who] = True if span.status == "pos" else bool(current)
    fixed, fixed_text = _spell_fixed(low, text[:len(low)])
    found = durations(fixed)
    facts["duration_minutes"] = hold_duration(fixed, found)
    counts = staff_counts(fixed, text=fixed_text)
    if counts:
        facts["staff_count"] = max(counts)
    has_details = bool(mentioned or found or counts)
    out_entities = [
        Entity(s.entity, s.value, s.start, s.end, negated=s.status != "pos") for s in spans
    ]
    return ParseResult(
        text=text,
        intent=_choose_intent(intent, low, has_details),
        entities=out_entities,
        facts=facts,
        flags=flags_from_facts(facts),
    )
