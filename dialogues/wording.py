"""Words that depend on who is reading and where: slots in a text, filled in one place.

A flow or service text names what differs by person or by channel as a slot in braces:
`{your_manager}` (a manager's own line manager is not "your manager") or `{when}` (a child's
incident was not always "today") are filled by the engine from the flow's words and the
conversation's context; `{tap}`, `{Tap}`, `{press}`, `{send:debrief}` and `{Send:debrief}` name a
channel action and are filled by the channel that shows the text ("Send /debrief" in Telegram,
"type /debrief" in the console). Slots nobody knows are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_SLOT = re.compile(r"\{([A-Za-z_]+)(?::([a-z_]+))?\}")


def fill(text: str, words: Mapping[str, str]) -> str:
    """The text with every slot that `words` knows filled in (`{send:x}` uses `words["send"]`)."""
    def one(match: re.Match[str]) -> str:
        name, argument = match.group(1), match.group(2)
        word = words.get(name)
        if word is None:
            return match.group(0)
        return word.format(argument) if argument is not None else word
    return _SLOT.sub(one, text)


def _both(words: Mapping[str, str]) -> dict[str, str]:
    """Each word in lower case and with a capital (`tap` and `Tap`)."""
    return {**dict(words),
            **{k.capitalize(): v[:1].upper() + v[1:] for k, v in words.items()}}


# What a channel calls its actions: pressing a button and sending a command (`{}` is its name).
TELEGRAM_WORDS = _both({"tap": "tap", "press": "press", "send": "send /{}"})
CONSOLE_WORDS = _both({"tap": "choose", "press": "choose", "send": "type /{}"})
WEB_WORDS = _both({"tap": "tap", "press": "press", "send": "send /{} in the chat"})


def for_telegram(text: str) -> str:
    """A text in Telegram's words."""
    return fill(text, TELEGRAM_WORDS)


def for_console(text: str) -> str:
    """A text in the console's words."""
    return fill(text, CONSOLE_WORDS)


def for_web(text: str) -> str:
    """A text in the web pages' words (a page in Telegram; commands go to the chat)."""
    return fill(text, WEB_WORDS)
