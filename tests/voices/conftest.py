"""Fixtures for the review and child's-view Telegram tests: the Bot API stand-in and a running bot."""

from support.telegram_fixtures import *  # noqa: F403
