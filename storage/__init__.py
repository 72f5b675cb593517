"""Flourish: storage package."""
