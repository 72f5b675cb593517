"""Fixtures for the channel tests: the Bot API stand-in and the Telegram environment."""

from support.telegram_fixtures import *  # noqa: F403
