"""Buttons that carry meaning: what pressing a button means (its kind and value, and the question or
status it belongs to), encoded into the short payload a channel carries and parsed back, here only.

A payload is what Telegram calls callback data (64 bytes at most) and what the console keeps
behind a numbered choice. Nothing else builds or splits payload strings: the engine makes buttons
with `press(...)`, channels read `Button.press` or `parse(payload)`.

    <scope>|v:<value>    choose an option (or yes / no)      <scope>|t:<value>  tick an option
    <scope>|c:<control>  skip, back, unsure, help, pause...  <scope>|done       finish ticking
    <scope>|keep         keep the answer shown               summary|submit     submit
    summary|edit, choose_edit|edit:<question>, choose_edit|summary              change an answer
    confirm_cancel|yes|no, <scope>|tell|no|carry_on          confirm a cancel; after distress
    <target>:<verb>:<number>                                 open work outside a conversation
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel

MAX_PAYLOAD_BYTES = 64
_OPEN = re.compile(r"^([a-z]+:[a-z]+):(\d{1,9})$")  # ids that fit the database


class Kind(StrEnum):
    """What a press does."""

    value = "v"  # choose an option: value is the option's value, or yes / no
    toggle = "t"  # tick or untick a multi-choice option
    control = "c"  # skip, back, unsure, help, pause, stop, cancel
    done = "done"  # finish a multi-choice
    keep = "keep"  # keep the answer given before
    submit = "submit"
    edit = "edit"  # value: "" for the list of answers, or the question to change
    summary = "summary"  # back to the summary
    yes = "yes"
    no = "no"
    tell = "tell"  # after distress: ask the manager to check in
    carry_on = "carry_on"
    open = "open"  # open work outside a conversation: scope is the target, value its number


# Targets of `Kind.open` buttons.
REVIEW_ADDENDUM = "rv:add"
CHILD_VIEW_START = "cv:start"
CHILD_VIEW_LATER = "cv:later"
ASSISTED_VIEW_START = "cva:start"
ASSISTED_VIEW_INVITE = "cva:invite"
OPEN_TARGETS = (REVIEW_ADDENDUM, CHILD_VIEW_START, CHILD_VIEW_LATER, ASSISTED_VIEW_START,
                ASSISTED_VIEW_INVITE)
_WITH_VALUE = (Kind.value, Kind.toggle, Kind.control)


@dataclass(frozen=True)
class Press:
    """The meaning of a pressed button."""

    scope: str  # the question id or status it answers (for `open`, the target)
    kind: Kind
    value: str = ""


def encode(press: Press) -> str:
    """The payload for a press."""
    if press.kind is Kind.open:
        payload = f"{press.scope}:{press.value}"
    elif press.kind in _WITH_VALUE or (press.kind is Kind.edit and press.value):
        payload = f"{press.scope}|{press.kind.value}:{press.value}"
    else:
        payload = f"{press.scope}|{press.kind.value}"
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"button payload over {MAX_PAYLOAD_BYTES} bytes: {payload[:40]}…")
    return payload


def parse(payload: str) -> Press | None:
    """What a payload means, or None for one this codec did not make."""
    opened = _OPEN.match(payload)
    if opened is not None and opened.group(1) in OPEN_TARGETS:
        return Press(scope=opened.group(1), kind=Kind.open, value=opened.group(2))
    scope, bar, action = payload.partition("|")
    if not bar or not scope:
        return None
    name, _, value = action.partition(":")
    try:
        kind = Kind(name)
    except ValueError:
        return None
    if kind is Kind.open:
        return None
    return Press(scope=scope, kind=kind, value=value)


def press(scope: str, kind: Kind, value: str = "") -> str:
    """The payload for pressing `kind` (with `value`) on `scope`: `encode(Press(...))`."""
    return encode(Press(scope=scope, kind=kind, value=value))


def opens(target: str, number: int) -> str:
    """The payload of a button that opens work outside a conversation."""
    return encode(Press(scope=target, kind=Kind.open, value=str(number)))


class Button(BaseModel):
    """A button: its label, and the payload that says what pressing it means."""

    label: str
    payload: str

    @property
    def press(self) -> Press | None:
        """What pressing it means: its kind, value and the question or status it belongs to."""
        return parse(self.payload)
