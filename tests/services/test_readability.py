"""Every word a child can meet in their own flow is checked: reading grade 3 or below, and short.

Flesch–Kincaid needs sentences: a one-word button ("Happy") scores grade 8 on its own, though
any seven-year-old reads it. So each screen is scored as the child reads it (the question, then
its buttons, each a short sentence), every message and reply is scored on its own, and each
button label is also held to a few short words.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import textstat

from bot.services import access
from bot.services.child_views import INVITATION, INVITE_LATER, INVITE_YES, LATER, NOTHING_FOR_CHILD
from dialogues.flow import DEFAULT_LABELS, DEFAULT_MESSAGES, load_flow

MAX_GRADE = 3.0
MAX_PROMPT_CHARS = 80  # a question fits on two lines of a small phone
MAX_MESSAGE_CHARS = 140  # intro, thanks and other messages
MAX_LABEL_CHARS = 28  # a button label fits half a phone's width
MAX_SENTENCE_WORDS = 9
MAX_LABEL_WORDS = 6
MAX_WORD_SYLLABLES = 3


def _plain(text: str) -> str:
    """The words only (emoji and symbols off), as the reader sees them."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s.,!?'’-]", " ", text)).strip()


def child_texts() -> list[tuple[str, str, int]]:
    """(where, text, length limit) for every child-facing message and screen in the child's flow."""
    flow = load_flow("child_view")
    texts = [("intro", flow.intro, MAX_MESSAGE_CHARS), ("done", flow.done, MAX_MESSAGE_CHARS),
             ("invitation", INVITATION, MAX_MESSAGE_CHARS),
             ("nothing to do", NOTHING_FOR_CHILD, MAX_MESSAGE_CHARS),
             ("refusal", access.CHILD_NOT_YOURS, MAX_MESSAGE_CHARS),
             ("not now", LATER, MAX_MESSAGE_CHARS),
             ("invitation screen", f"{INVITATION} {INVITE_YES}. {INVITE_LATER}.", 1000)]
    texts += [(f"message {k}", flow.message(k), MAX_MESSAGE_CHARS) for k in DEFAULT_MESSAGES]
    controls = ". ".join(flow.label(c) for c in flow.controls)
    for question in flow.questions:
        texts.append((f"{question.id} prompt", question.prompt, MAX_PROMPT_CHARS))
        texts.append((f"{question.id} help", question.help, MAX_PROMPT_CHARS))
        labels = ". ".join(o.label for o in question.options)
        screen = f"{question.prompt} {labels}. {controls}."
        texts.append((f"{question.id} screen", screen, 1000))
        for option in question.options:
            if option.reply:
                texts.append((f"{question.id} reply {option.value}", option.reply,
                              MAX_MESSAGE_CHARS))
    return texts


def child_labels() -> list[tuple[str, str]]:
    """(where, label) for every button and hint a child sees."""
    flow = load_flow("child_view")
    labels = [(f"label {k}", flow.label(k)) for k in DEFAULT_LABELS
              if k not in ("submit", "edit")]  # this flow has no summary, so no submit or edit
    labels += [("invitation yes", INVITE_YES), ("invitation not now", INVITE_LATER)]
    for question in flow.questions:
        labels += [(f"{question.id} option {o.value}", o.label) for o in question.options]
        if question.placeholder:
            labels.append((f"{question.id} placeholder", question.placeholder))
    return labels


def test_the_child_flow_has_its_own_words_for_everything_the_engine_says() -> None:
    flow = load_flow("child_view")
    assert set(flow.messages) == set(DEFAULT_MESSAGES), "every engine message needs child words"
    assert {"back", "skip", "stop", "keep", "done", "yes", "no"} <= set(flow.labels)
    assert "stop" in flow.controls
    assert "skip" in flow.controls
    assert not any(q.required for q in flow.questions), "every step must be skippable"


@pytest.mark.parametrize(("where", "text", "limit"), child_texts(),
                         ids=[w for w, _, _ in child_texts()])
def test_child_facing_text_is_easy_to_read(cmu_dictionary: Path, where: str, text: str,
                                           limit: int) -> None:
    plain = _plain(text)
    assert plain, f"{where}: no words"
    grade = textstat.flesch_kincaid_grade(plain)
    assert grade <= MAX_GRADE, f"{where}: grade {grade} > {MAX_GRADE}: {text!r}"
    assert len(text) <= limit, f"{where}: {len(text)} characters > {limit}: {text!r}"
    for sentence in re.split(r"[.!?]+", plain):
        assert len(sentence.split()) <= MAX_SENTENCE_WORDS, f"{where}: long sentence {sentence!r}"


def test_the_check_catches_hard_words(cmu_dictionary: Path) -> None:
    hard = ("Considering the circumstances, could staff have implemented a less restrictive "
            "intervention proportionate to the identified risk?")
    assert textstat.flesch_kincaid_grade(_plain(hard)) > MAX_GRADE


@pytest.mark.parametrize(("where", "label"), child_labels(), ids=[w for w, _ in child_labels()])
def test_every_button_is_a_few_short_words(cmu_dictionary: Path, where: str, label: str) -> None:
    words = _plain(label).split()
    assert 0 < len(words) <= MAX_LABEL_WORDS, f"{where}: {label!r}"
    assert len(label) <= MAX_LABEL_CHARS, f"{where}: {len(label)} characters: {label!r}"
    for word in words:
        syllables = textstat.syllable_count(word)
        assert syllables <= MAX_WORD_SYLLABLES, f"{where}: {word!r} has {syllables} syllables"
