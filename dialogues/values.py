"""Reading typed answers: option matching, yes/no, numbers, durations and times of day.

Options are matched from the words people use, near-misses included (rapidfuzz, not hand-made
spellings): "talked to him calmly, gave him space" names two options of "what did you try first".
Plain numbers and durations are read here ("12", "12 mins"); wordier answers ("about half an hour")
are left to the NLU, which the engine asks next. Days and times are read in `dialogues/when.py`.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz, process

from dialogues.flow import Option

FUZZY_CUTOFF = 85  # a near-miss ("bedrom", "distration") still names its option
FUZZY_MIN_CHARS = 5  # shorter words must be spelt exactly ("bed" is not "red")
_NEGATIONS = frozenset({"not", "no", "never", "didn't", "didnt", "without", "wasn't", "wasnt",
                        "couldn't", "couldnt", "nothing"})

CONTROL_WORDS: dict[str, str] = {
    "skip": "skip",
    "/skip": "skip",
    "pass": "skip",
    "back": "back",
    "/back": "back",
    "go back": "back",
    "previous": "back",
    "pause": "pause",
    "/pause": "pause",
    "stop for now": "pause",
    "later": "pause",
    "help": "help",
    "/help": "help",
    "?": "help",
    "don't know": "unsure",
    "dont know": "unsure",
    "i don't know": "unsure",
    "i dont know": "unsure",
    "not sure": "unsure",
    "unsure": "unsure",
    "idk": "unsure",
    "cancel": "cancel",
    "/cancel": "cancel",
}

YES_WORDS = frozenset({"yes", "y", "yeah", "yea", "yh", "ye", "yep", "yup", "yes please", "correct",
                       "right", "ok", "okay", "sure", "true", "that's right", "thats right", "aye",
                       "i think so", "think so", "i believe so", "probably", "definitely",
                       "absolutely"})
NO_WORDS = frozenset({"no", "n", "nope", "nah", "no thanks", "not really", "false", "wrong",
                      "none", "no it isn't", "not right", "i don't think so", "i dont think so",
                      "don't think so", "dont think so", "not at all", "definitely not"})

_NUMBER_WORDS = {
    "zero": 0, "none": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "forty five": 45, "sixty": 60,
}
_MINUTE_UNITS = {"m": 1.0, "min": 1.0, "mins": 1.0, "minute": 1.0, "minutes": 1.0,
                 "h": 60.0, "hr": 60.0, "hrs": 60.0, "hour": 60.0, "hours": 60.0,
                 "s": 1 / 60, "sec": 1 / 60, "secs": 1 / 60, "second": 1 / 60, "seconds": 1 / 60}


def normalise(text: str) -> str:
    """Lower case, folded width, single spaces, no trailing full stop."""
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    folded = re.sub(r"\s+", " ", folded)
    return folded.rstrip(".!")


def control_word(text: str) -> str | None:
    """The control action a short typed message asks for, if it is one of the known words."""
    return CONTROL_WORDS.get(normalise(text).replace("’", "'"))


def yes_no(text: str) -> bool | None:
    """True for yes, False for no, None if the text is neither."""
    word = normalise(text).replace("’", "'")
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None


_UNSURE_LEADS = ("not sure", "not really sure", "no idea", "dunno", "don't know", "dont know",
                 "i don't know", "i dont know", "i'm not sure", "im not sure", "can't remember",
                 "cant remember", "i can't remember", "not certain")


def sounds_unsure(text: str) -> bool:
    """Whether a message starts by saying the person does not know ("not really sure what to put")."""
    word = normalise(text).replace("’", "'")
    return word.startswith(_UNSURE_LEADS)


def yes_no_lead(text: str) -> tuple[bool | None, str]:
    """Yes or no from how a message starts ("yeah", "i think so", "yes it was ..."), and the rest."""
    word = normalise(text).replace("’", "'")
    if (whole := yes_no(word)) is not None:
        return whole, ""
    words = word.split()
    for size in (4, 3, 2, 1):
        lead = " ".join(words[:size]).rstrip(",.;:!-")
        answer = yes_no(lead)
        if answer is not None and lead not in ("none", "right", "sure", "ok", "okay"):
            return answer, " ".join(words[size:]).strip(" ,.;:-")
    return None, word


def match_option(text: str, options: list[Option], *, names: bool = False) -> Option | None:
    """The option a typed answer names: its number, value or label, a clear prefix, or its words.

    `names` is for lists of people, where any one word of a name names it ("robin" or "o'neill").
    """
    word = normalise(text)
    if word.isdigit():
        index = int(word) - 1
        return options[index] if 0 <= index < len(options) else None
    for option in options:
        if word in (option.value.lower(), normalise(option.label), _strip_emoji(option.label)):
            return option
    starts = [o for o in options if len(word) >= 3 and _strip_emoji(o.label).startswith(word)]
    if len(starts) == 1:
        return starts[0]
    inside = [o for o in options
              if len(word) >= 3 and re.search(rf"\b{re.escape(word)}\b", _strip_emoji(o.label))]
    if len(inside) == 1:  # "4 weeks" names "In 4 weeks"
        return inside[0]
    mentioned = mentioned_options(text, options, names=names)
    return mentioned[0] if len(mentioned) == 1 else None


def mentioned_options(text: str, options: list[Option], *, names: bool = False) -> list[Option]:
    """The options a message names anywhere in its words, exactly or nearly, not after a "not"."""
    words = re.findall(r"[a-z0-9']+", normalise(text).replace("’", "'"))
    grams: dict[int, list[str]] = {}
    found = []
    for option in options:
        if any(_named(phrase, words, grams) for phrase in _phrases(option, names=names)):
            found.append(option)
    return found


_FILLER_WORDS = frozenset({"a", "an", "the", "in", "on", "at", "his", "her", "their", "my", "it",
                           "was", "we", "i", "and", "to", "of", "with", "by", "him", "them", "bit",
                           "just", "think", "tbh", "probably", "mainly", "mostly", "really",
                           "yes", "yeah", "ok", "okay", "me", "us", "he", "she", "they"})


def says_more(text: str, chosen: list[Option], *, names: bool = False) -> bool:
    """Whether a message says more than the options it names (then its words are worth keeping)."""
    words = re.findall(r"[a-z0-9']+", normalise(text).replace("’", "'"))
    if not words:
        return False
    named = set()
    for option in chosen:
        for phrase in _phrases(option, names=names):
            for part in phrase.rstrip("*").split():
                named.add(part)
    for word in words:
        if word in _FILLER_WORDS or word.isdigit() or word in named:
            continue
        if any((len(part) >= FUZZY_MIN_CHARS and fuzz.ratio(word, part) >= FUZZY_CUTOFF)
               or (part and word.startswith(part) and len(part) >= 4) for part in named):
            continue
        return True
    return False


def is_plain_pick(text: str, options: list[Option]) -> bool:
    """Whether a message is only a number or a label (nothing else worth keeping)."""
    word = normalise(text)
    labels = {o.value.lower() for o in options} | {_strip_emoji(o.label) for o in options} | {
        normalise(o.label) for o in options}
    parts = [p.strip() for p in re.split(r",|;|\band\b|&|\+", word) if p.strip()]
    return all(p.isdigit() or p in labels for p in parts)


def _phrases(option: Option, *, names: bool) -> list[str]:
    phrases = [_strip_emoji(option.label), *(normalise(w) for w in option.words)]
    if names:  # values are ids; any word of a name names the person
        phrases += [w for w in _strip_emoji(option.label).split() if len(w) >= 3 and w != "demo"]
    else:
        phrases.append(option.value.replace("_", " ").lower())
    return [p for p in phrases if p]


def _named(phrase: str, words: list[str], grams: dict[int, list[str]]) -> bool:
    """Whether the words hold the phrase (a trailing * matches any ending), not negated."""
    prefix = phrase.endswith("*")
    wanted = phrase.rstrip("*")
    size = len(wanted.split())
    if size not in grams:
        grams[size] = [" ".join(words[i:i + size]) for i in range(len(words) - size + 1)]
    candidates = grams[size]
    if prefix:
        hits = [i for i, gram in enumerate(candidates) if gram.startswith(wanted)]
    elif len(wanted) < FUZZY_MIN_CHARS:
        hits = [i for i, gram in enumerate(candidates) if gram == wanted]
    else:
        hits = [i for _, _, i in process.extract(wanted, candidates, scorer=fuzz.ratio,
                                                 score_cutoff=FUZZY_CUTOFF, limit=None)]
    return any(not _NEGATIONS & set(words[max(0, i - 3):i]) for i in hits)


def match_options(text: str, options: list[Option]) -> tuple[list[Option], list[str]]:
    """Options named in a comma- or 'and'-separated answer, and the parts that matched none."""
    parts = [p.strip() for p in re.split(r",|;|\band\b|&|\+", text) if p.strip()]
    found: list[Option] = []
    unknown: list[str] = []
    for part in parts:
        option = match_option(part, options)
        if option is None:
            unknown.append(part)
        elif option not in found:
            found.append(option)
    return found, unknown


def parse_number(text: str) -> float | None:
    """A plain number, in digits or a common word."""
    word = normalise(text)
    word = re.sub(r"^(about|approx\.?|approximately|around|roughly|~)\s*", "", word)
    if re.fullmatch(r"\d+(\.\d+)?", word):
        return float(word)
    if word in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[word])
    return None


def parse_duration_minutes(text: str) -> float | None:
    """Minutes from "5", "5 mins", "1h 30m", "90 seconds", "1:30" (h:mm) and similar."""
    word = normalise(text)
    word = re.sub(r"^(about|approx\.?|approximately|around|roughly|~)\s*", "", word)
    if (plain := parse_number(word)) is not None:
        return plain
    if match := re.fullmatch(r"(\d{1,2}):(\d{2})", word):
        return int(match.group(1)) * 60 + float(match.group(2))
    parts = re.findall(r"(\d+(?:\.\d+)?|[a-z]+(?: five)?)\s*([a-z]+)", word)
    if not parts or re.sub(r"[\d.a-z\s]", "", word):
        return None
    total = 0.0
    for amount, unit in parts:
        value = float(amount) if amount[0].isdigit() else _NUMBER_WORDS.get(amount)
        if value is None or unit not in _MINUTE_UNITS:
            return None
        total += value * _MINUTE_UNITS[unit]
    return round(total, 2)


def parse_time_of_day(text: str) -> str | None:
    """"HH:MM" from "14:05", "14.05", "1405", "2pm", "2:05 pm", "noon", "midnight"."""
    word = normalise(text).replace(" ", "")
    if word in ("noon", "midday"):
        return "12:00"
    if word == "midnight":
        return "00:00"
    match = re.fullmatch(r"(\d{1,2})(?:[:.h]?(\d{2}))?(am|pm)?", word)
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif match.group(2) is None and len(match.group(1)) <= 2 and hour > 24:
        return None
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def _strip_emoji(label: str) -> str:
    kept = "".join(ch for ch in label if ch.isalnum() or ch in " '-/")
    return normalise(kept)
