"""A trained embedded parser for the NLU tests, built once per session in a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.embedded import EmbeddedInterpreter, load_interpreter, train


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly trained model (never a stale one left in nlu/models/)."""
    return train(directory=tmp_path_factory.mktemp("nlu-model"))


@pytest.fixture(scope="session")
def interpreter(model_dir: Path) -> EmbeddedInterpreter:
    return load_interpreter(directory=model_dir, train_if_missing=False)
