"""Helpers shared by test suites (the Bot API stand-in and its fixtures)."""
