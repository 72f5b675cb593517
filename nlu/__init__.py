"""Flourish: nlu package."""
