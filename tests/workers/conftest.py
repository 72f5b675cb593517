"""Fixtures for the several-workers tests: the Bot API stand-in and a fresh PostgreSQL schema."""

from support.telegram_fixtures import *  # noqa: F403
