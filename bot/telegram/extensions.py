"""The features plugged into the bot, in order: add your `Extension` here (one import, one entry).

Each extension's handlers are registered in this order, after the guards and before the debrief's
catch-all handlers for buttons and messages. See `bot.telegram.extension.Extension`.
"""

from __future__ import annotations

from bot.followups.telegram import FOLLOWUPS
from bot.telegram.dashboard import DASHBOARD
from bot.telegram.debrief import DEBRIEF
from bot.telegram.extension import Extension
from bot.telegram.voices import VOICES

EXTENSIONS: list[Extension] = [
    DEBRIEF,
    FOLLOWUPS,
    VOICES,
    DASHBOARD,
]
