"""Fixtures for the Telegram bot tests: the Bot API stand-in and a running bot."""

from support.telegram_fixtures import *  # noqa: F403
