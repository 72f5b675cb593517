"""Fixtures for the trust tests: the Bot API stand-in and a synthetic home (tests/support)."""

from support.telegram_fixtures import *  # noqa: F403
