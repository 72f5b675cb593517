"""Control requests inside whole sentences: distress, pause, skip, go back, help, not sure.

Staff rarely type "pause"; they write "I have to stop, can we carry on later" or "honestly I'm not
coping, I want to speak to my manager". These cues are read the same way whichever backend
classified the message (`nlu.facts.build_result` calls `control_cue`), and distress is looked for in
every message, whatever its length: support must never be missed. A cue is a first-person request
or feeling, never a sentence about the child ("he was shaking and crying" is an answer).
"""

from __future__ import annotations

import re

_I = r"(?:i'?m|i\s+am|im|i\s+feel|i\s+felt|i'?ve\s+been|ive\s+been|feeling|i\s+was|been|i\s+get)"
_FEELING = (r"(?:not\s+(?:ok|okay|coping|alright|good|great|fine)|struggling|overwhelmed|terrified|scared"
            r"|frightened|shaking|shaken|trembling|in\s+tears|crying|drowning|broken|low|awful"
            r"|terrible|sick|panicking|panicky|traumati[sz]ed|a\s+mess|falling\s+apart|in\s+bits"
            r"|really\s+upset|so\s+upset|upset|anxious|numb|done\s+in|at\s+breaking\s+point)")
DISTRESS = re.compile(
    rf"\b{_I}\s+(?:\w+\s+){{0,3}}?{_FEELING}\b"
    r"|\bi\s+(?:can'?t|cannot|cant)\s+(?:do\s+this|cope|stop\s+(?:shaking|crying|thinking)|sleep"
    r"|breathe|take\s+(?:this|it|any\s*more)|go\s+on)\b"
    r"|\b(?:need|want)\s+to\s+(?:talk|speak)\s+to\s+(?:someone|somebody|my\s+manager|a\s+manager"
    r"|my\s+supervisor|my\s+line\s+manager)\b"
    r"|\bcan\s+(?:someone|somebody|you|my\s+manager)\s+(?:please\s+)?(?:ring|call|phone)\s+me\b"
    r"|\b(?:want|going)\s+to\s+(?:go\s+home\s+and\s+)?cry\b"
    r"|\bmy\s+hands?\s+(?:are|is)\s+(?:still\s+)?(?:shaking|trembling)\b"
    r"|\bi\s+need\s+(?:some\s+)?support\b|\bkeep\s+replaying\b"
    r"|\bnobody\s+(?:seems\s+to\s+)?cares?\s+(?:how|about)\s+(?:staff|us|me)\b"
    r"|\b(?:has|have|it'?s|this)\s+(?:\w+\s+)?broken\s+me\b"
)
SKIP = re.compile(
    r"\b(?:can\s+(?:we|i)\s+|let'?s\s+|please\s+|pls\s+|just\s+)skip\b|\bskip\s+(?:this|that|it"
    r"|the\s+question|for\s+now|please|pls)\b|^\W*skip\W*$|\b(?:rather|prefer)\s+not\s+(?:to\s+)?(?:answer|say)\b|\b(?:leave|pass\s+on)\s+this"
    r"\s+(?:one|question)\b|\bnext\s+question\b|^\s*pass\b|\bno\s+comment\b"
)
GO_BACK = re.compile(
    r"^\W*(?:\w+\s+){0,2}go\s+back\W*(?:\w+\W*){0,2}$|\b(?:can|could|may)\s+(?:i|we)\s+go\s+back\b"
    r"|\b(?:let\s+me|want\s+to|need\s+to)\s+go\s+back\s+(?:and|to\s+(?:the|my))\b"
    r"|\bgo\s+back\s+(?:to\s+)?(?:a|one|the)\s+(?:step|question|last|previous|one)\b|\bback\s+a\s+(?:step|question)\b|\bprevious\s+question\b"
    r"|\b(?:change|edit|fix|correct|redo)\s+(?:my|the|that)\s+(?:last|previous|earlier)\s+answer\b"
    r"|\b(?:got|put|gave|typed|said|entered|picked|pressed|clicked|chose)\s+(?:the\s+|a\s+|that"
    r"\s+)?(?:\w+\s+)?wrong\b(?=.*\b(?:earlier|before|last|previous|answer|question|time|date"
    r"|child|name|one|button)\b)|\bclicked\s+wrong\b|\bwrong\s+button\b"
)
PAUSE = re.compile(
    r"(?:^|[,.;!]\s*|\b(?:i|sorry|ok|right|so)\s+)(?:have\s+to|need\s+to|got\s+to|gotta|must)"
    r"\s+(?:stop|go|leave|dash|run)\b"
    r"|\b(?:carry\s+on|continue|finish|pick\s+(?:this|it)\s+up|come\s+back\s+to\s+(?:this|it)"
    r"|do\s+the\s+rest)\s+(?:\w+\s+){0,2}?(?:later|tomorrow|after|in\s+a\s+bit|another\s+time"
    r"|when\s+i'?m)\b|\bsave\s+(?:this|it)\b|\bbrb\b|\bpause\b"
    r"|\bphone\s+(?:is\s+)?(?:about\s+to\s+die|dying|on\s+\d+\s*%)"
    r"|\b(?:one|a|1)\s+sec\b|\bhold\s+on\s+a\s+(?:sec|min|minute|moment)\b|\bbear\s+with\s+me\b"
    r"|\bnot\s+a\s+good\s+time\b"
)
HELP = re.compile(
    r"\bwhat\s+(?:does|do)\s+(?:this|that|you|it)\s+(?:question\s+)?mean\b|\bwhat\s+do\s+you\s+mean\b"
    r"|\b(?:don'?t|dont|do\s+not)\s+(?:understand|get)\s+(?:the|this|that|what)\b"
    r"|\bwhat\s+counts\s+as\b|\bcan\s+you\s+explain\b|^\W*(?:please\s+)?help\b"
    r"|\bwhat\s+are\s+you\s+asking\b|\bnot\s+sure\s+what\s+you'?re\s+asking\b"
    r"|^\s*what(?:'s|\s+is)\s+(?:a|an)\s+\w+(?:\s+\w+)?\s*\??\s*$"
)
UNSURE = re.compile(
    r"\bnot\s+(?:\w+\s+)?sure\b|\b(?:don'?t|dont|do\s+not)\s+(?:know|remember)\b|\bdunno\b"
    r"|\bcan'?t\s+remember\b|\bcant\s+remember\b|\bno\s+idea\b|\bnot\s+100\b"
    r"|^\s*(?:couldn'?t|can'?t|cannot)\s+say\b"
)
NOISE = re.compile(r"\b(?:signal|connection|reception|wifi|internet|battery)\b")
"""'sorry, signal dropped': neither yes nor no, an ordinary message."""
NOISE_MAX_WORDS = 10
ABOUT_THE_CHILD = re.compile(r"^\s*(?:he|she|they|the\s+yp|yp|the\s+child|child|the\s+young"
                             r"\s+person|pupil|the\s+pupil)\b")
SAYS_FINE = re.compile(r"^\W*(?:i'?m|im|i\s+am|feeling|all)\s+(?:(?!not\b|n't\b)\w+\s+)?"
                       r"(?:fine|ok|okay|alright|good)\b")
"""'I'm fine thanks, just tired' is how someone is, not a cry for support."""
YES_FIRST = re.compile(r"^\W*(?:yes|yeah|yep|yup|ya|yh|yea|yes+|aye|correct|deffo|definitely|def"
                       r"|absolutely)\b")
NO_FIRST = re.compile(r"^\W*(?:no+|nope|nah|not\s+really|never)\b")
NO_NOUN = re.compile(r"^\W*no\s+(?!(?:it|i|we|he|she|they|that|not|thanks|thank|way|really|one|never"
                     r"|just|but|and|because|sorry|he's|she's|i'm|im|its|it's|to|the|you|problem"
                     r"|worries)\b)[a-z]")
"""'no restraint was used', 'no prn needed': "no" begins a statement of fact, not a reply."""
NEGATION = re.compile(r"\b(?:no|not|never|none|nothing|wrong|incorrect)\b|n'?t\b")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


TRIGGERS = {
    "distress": _words(
        "ok okay coping alright good great struggling overwhelmed terrified scared frightened "
        "shaking shaken trembling tears crying drowning broken low awful terrible sick panicking "
        "panicky traumatised traumatized mess apart bits upset anxious numb done breaking can't "
        "cant cannot talk speak ring call phone cry hands hand support replaying care cares"),
    "skip": _words("skip rather prefer leave pass next comment"),
    "go_back": _words("go back previous change edit fix correct redo wrong clicked"),
    "help": _words("mean understand get counts explain help asking what what's"),
    "pause": _words("have need got gotta must carry continue finish pick come do save brb pause "
                    "phone sec hold bear good"),
    "unsure": _words("sure know remember dunno idea 100 say"),
    "noise": _words("signal connection reception wifi internet battery"),
}
"""Words one of which each kind of cue needs, so most messages skip most patterns (speed)."""


def control_cue(low: str, *, has_details: bool) -> str | None:
    """The control request a normalised message makes in words, or None.

    Distress wins over everything; "not sure" counts only when the message gives no details.
    """
    present = set(re.findall(r"[a-z0-9']+", low))
    if not TRIGGERS["distress"].isdisjoint(present) and DISTRESS.search(low):
        return "distress"
    for name, rx in (("skip", SKIP), ("go_back", GO_BACK), ("help", HELP), ("pause", PAUSE)):
        if not TRIGGERS[name].isdisjoint(present) and rx.search(low):
            return name
    if not has_details and not TRIGGERS["unsure"].isdisjoint(present) and UNSURE.search(low):
        return "unsure"
    if (not TRIGGERS["noise"].isdisjoint(present) and len(low.split()) <= NOISE_MAX_WORDS
            and NOISE.search(low)):
        return "inform"
    return None


__all__ = ["ABOUT_THE_CHILD", "NEGATION", "NO_FIRST", "NO_NOUN", "SAYS_FINE", "YES_FIRST", "control_cue"]
