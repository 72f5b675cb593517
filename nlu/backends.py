"""Pick an NLU backend by name, so the bot and the CLI never import a backend directly."""

from __future__ import annotations

import importlib

from nlu.result import Interpreter


def get_interpreter(backend: str = "spacy", *, rasa_url: str | None = None) -> Interpreter:
    """An interpreter for `backend` ("spacy", the default, or "rasa" with `rasa_url`)."""
    if backend == "rasa":
        if not rasa_url:
            raise ValueError("the rasa backend needs a server URL (set RASA_URL)")
        module = importlib.import_module("nlu.rasa_backend")
        interpreter: Interpreter = module.RasaInterpreter(rasa_url)
        return interpreter
    if backend in ("spacy", "embedded"):
        from nlu.embedded import default_interpreter

        return default_interpreter()  # one per process: loading twice would only cost memory
    raise ValueError(f"unknown NLU backend {backend!r}: use 'spacy' or 'rasa'")
