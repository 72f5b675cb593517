"""Choosing a backend, and a debrief that keeps going when the Rasa server is down."""

from __future__ import annotations

import socket

import pytest

from nlu.backends import FallbackInterpreter, get_interpreter
from nlu.embedded import default_interpreter


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_rasa_down_falls_back_to_the_embedded_parser() -> None:
    interpreter = get_interpreter("rasa", rasa_url=f"http://127.0.0.1:{_closed_port()}")
    assert isinstance(interpreter, FallbackInterpreter)
    text = "me n Dave took her to the floor approx 4 mins no injuries no prn"
    result = interpreter.parse(text)
    assert result == default_interpreter().parse(text)
    assert result.facts["staff_count"] == 2
    assert result.facts["duration_minutes"] == 4
    assert interpreter.fallback_used == 1


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown NLU backend 'bert'"):
        get_interpreter("bert")
    with pytest.raises(ValueError, match="needs a server URL"):
        get_interpreter("rasa", rasa_url=None)


def test_background_loading_answers_the_same_once_loaded() -> None:
    from nlu.backends import BackgroundInterpreter

    interpreter = get_interpreter("spacy", background=True)
    assert isinstance(interpreter, BackgroundInterpreter)
    text = "we did not use a prone hold, she was held seated for 2 mins"
    assert interpreter.parse(text) == default_interpreter().parse(text)
    assert interpreter.wait(timeout=0)


def test_a_failed_background_load_is_nlu_unavailable_not_a_crash() -> None:
    from nlu.backends import BackgroundInterpreter
    from nlu.result import NluUnavailable

    interpreter = get_interpreter("rasa", rasa_url=None, background=True)
    assert isinstance(interpreter, BackgroundInterpreter)
    with pytest.raises(NluUnavailable, match="could not be loaded"):
        interpreter.parse("hello")
