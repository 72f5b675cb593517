"""Flourish: dialogues package."""
