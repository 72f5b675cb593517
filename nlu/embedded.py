"""The embedded NLU: a small spaCy pipeline that runs in the bot's own process, no server, no download.

It is built on `spacy.blank("en")` (there is no official English pipeline on the package index):
a bag-of-words `textcat` (exclusive classes, seeded, trained from `nlu/data/nlu.yml`) for the
in-flow intents, on words with small phone typos fixed. Everything after that (what the text
mentions, negation, numbers, facts, flags) is `nlu.facts.build_result`, shared with the Rasa
backend, so both backends read an account the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch  # type: ignore[attr-defined]

from nlu.facts import MAX_ANALYSED_CHARS, build_result, normalise
from nlu.lexicon import TRAIN_FILE, Speller, load_training_data, speller
from nlu.result import Intent, ParseResult

SEED = 7
EPOCHS = 20
BATCH = 32
LEARN_RATE = 0.01
MODEL_DIR = Path(__file__).resolve().parent / "models" / "embedded"
TEXTCAT_CONFIG: dict[str, Any] = {
    "threshold": 0.5,
    "model": {
        "@architectures": "spacy.TextCatBOW.v3",
        "exclusive_classes": True,
        "ngram_size": 3,
        "no_output_layer": False,
        "length": 32768,
    },
}
UNKNOWN_WORDS_INTENT = Intent("inform", 0.5)
NUMBER_INTENT = Intent("inform", 0.9)
"""Digits and no words ("2", "17:45") answer a number or time question."""
"""A text whose words the classifier never saw (a name, a number, another language) is an answer."""


def model_dir() -> Path:
    """Where `flourish nlu train` writes the model: $FLOURISH_NLU_MODEL_DIR or nlu/models/."""
    configured = os.environ.get("FLOURISH_NLU_MODEL_DIR")
    return Path(configured) if configured else MODEL_DIR


def data_fingerprint(path: Path = TRAIN_FILE) -> str:
    """A hash of the training data and the training settings, stored beside the model."""
    digest = hashlib.sha256(path.read_bytes())
    settings = [SEED, EPOCHS, BATCH, LEARN_RATE, TEXTCAT_CONFIG, spacy.about.__version__]
    digest.update(json.dumps(settings).encode())
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------- training
def _doc_for_textcat(nlp: Language, low: str, speller: Speller) -> Doc:
    doc = nlp.make_doc(low)
    words = [speller.fix(t.text) for t in doc]
    return Doc(nlp.vocab, words=words, spaces=[bool(t.whitespace_) for t in doc])


def train_pipeline(path: Path = TRAIN_FILE, *, seed: int = SEED) -> Language:
    """Train the intent classifier from a Rasa nlu.yml, deterministically."""
    fix_random_seed(seed)
    rng = random.Random(seed)
    data = load_training_data(path)
    labels = sorted(data.examples)
    nlp = spacy.blank("en")
    textcat: Any = nlp.add_pipe("textcat", config=TEXTCAT_CONFIG)
    for label in labels:
        textcat.add_label(label)
    spell = speller(path)
    examples = []
    for label in labels:
        for text in data.examples[label]:
            doc = _doc_for_textcat(nlp, normalise(text), spell)
            cats = {name: float(name == label) for name in labels}
            examples.append(Example.from_dict(doc, {"cats": cats}))
    optimizer = nlp.initialize(lambda: examples)
    optimizer.learn_rate = LEARN_RATE
    for _ in range(EPOCHS):
        rng.shuffle(examples)
        for batch in minibatch(examples, size=BATCH):  # type: ignore[no-untyped-call]
            nlp.update(batch, sgd=optimizer, drop=0.0)
    return nlp


def save_pipeline(nlp: Language, directory: Path, *, fingerprint: str) -> None:
    """Write a trained pipeline and the fingerprint of the data it came from."""
    directory.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(directory)
    (directory / "flourish.json").write_text(json.dumps({"fingerprint": fingerprint}))


def _saved_fingerprint(directory: Path) -> str | None:
    try:
        return str(json.loads((directory / "flourish.json").read_text())["fingerprint"])
    except (OSError, ValueError, KeyError):
        return None


def train(*, path: Path = TRAIN_FILE, directory: Path | None = None) -> Path:
    """Train from `path` and save under `directory` (default: model_dir()); returns the directory."""
    target = directory or model_dir()
    save_pipeline(train_pipeline(path), target, fingerprint=data_fingerprint(path))
    return target


# ---------------------------------------------------------------- parsing
@dataclass
class EmbeddedInterpreter:
    """The in-process parser: intents from textcat; mentions and facts from build_result."""

    nlp: Language
    speller: Speller

    def parse(self, text: str) -> ParseResult:
        """Read one message of free text; never raises on odd input."""
        if not isinstance(text, str):
            text = str(text)
        low = normalise(text)
        if not low.strip():
            return build_result(text, intent=Intent("inform", 0.0), entities=[])
        head = low[:MAX_ANALYSED_CHARS]
        doc = self.nlp.make_doc(head)
        texts = [t.text for t in doc]
        words = [self.speller.fix(w) for w in texts]
        if words != texts:
            cat_doc = Doc(self.nlp.vocab, words=words, spaces=[bool(t.whitespace_) for t in doc])
        else:
            cat_doc = doc
        alpha = [w for w in words if w.isalpha()]
        if not alpha and any(ch.isdigit() for ch in head):
            intent = NUMBER_INTENT
        elif not alpha or any(word in self.speller.known for word in alpha):
            cats = self.nlp.get_pipe("textcat")(cat_doc).cats
            name = max(sorted(cats), key=lambda k: cats[k])
            intent = Intent(name, round(float(cats[name]), 4))
        else:
            intent = UNKNOWN_WORDS_INTENT
        return build_result(text, intent=intent, entities=[])


def load_interpreter(
    *, directory: Path | None = None, path: Path = TRAIN_FILE, train_if_missing: bool = True
) -> EmbeddedInterpreter:
    """The embedded parser from its trained model; trains it first (a few seconds) if missing.

    The model is rebuilt when the training data changed since it was saved. Nothing is downloaded.
    """
    target = directory or model_dir()
    fingerprint = data_fingerprint(path)
    if _saved_fingerprint(target) == fingerprint:
        nlp = spacy.load(target)
    elif train_if_missing:
        nlp = train_pipeline(path)
        with contextlib.suppress(OSError):  # a read-only install still trains at each start
            save_pipeline(nlp, target, fingerprint=fingerprint)
    else:
        raise FileNotFoundError(
            f"no trained NLU model for this data in {target}: run `flourish nlu train`"
        )
    return EmbeddedInterpreter(nlp=nlp, speller=speller(path))


@lru_cache(maxsize=1)
def default_interpreter() -> EmbeddedInterpreter:
    """One shared embedded parser per process."""
    return load_interpreter()


__all__ = ["EmbeddedInterpreter", "default_interpreter", "load_interpreter", "train"]
