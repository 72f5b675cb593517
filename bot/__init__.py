"""Flourish: bot package."""
