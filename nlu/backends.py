"""Pick an NLU backend by name, so the bot and the CLI never import a backend directly.

The Rasa backend is a separate server that can be down; a debrief must never stop because of it,
so `get_interpreter("rasa", ...)` falls back to the embedded parser for any message Rasa can't read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from nlu.result import Interpreter, NluUnavailable, ParseResult

log = logging.getLogger(__name__)


class FallbackInterpreter:
    """Reads with `primary`; when it is unavailable, with the embedded parser (loaded on first need)."""

    def __init__(self, primary: Interpreter) -> None:
        self.primary = primary
        self.fallback_used = 0

    def parse(self, text: str) -> ParseResult:
        """Read one message, through the primary backend if it answers."""
        try:
            return self.primary.parse(text)
        except NluUnavailable as err:
            self.fallback_used += 1
            if self.fallback_used == 1 or self.fallback_used % 100 == 0:
                log.warning("NLU backend unavailable (%s); using the embedded parser (%d times)",
                            err.__class__.__name__, self.fallback_used)
            from nlu.embedded import default_interpreter

            return default_interpreter().parse(text)


class BackgroundInterpreter:
    """Loads an interpreter in a thread, so a process can start work before spaCy is imported.

    The first `parse` waits for the load; if loading failed, every `parse` raises NluUnavailable
    (the dialogue engine then carries on with plain words).
    """

    def __init__(self, load: Callable[[], Interpreter]) -> None:
        self._loaded = threading.Event()
        self._interpreter: Interpreter | None = None
        threading.Thread(target=self._load, args=(load,), name="nlu-load", daemon=True).start()

    def _load(self, load: Callable[[], Interpreter]) -> None:
        try:
            self._interpreter = load()
        except Exception:
            log.exception("the NLU could not be loaded; free text is read as plain words")
        finally:
            self._loaded.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the load to finish; True if it has."""
        return self._loaded.wait(timeout)

    def parse(self, text: str) -> ParseResult:
        """Read one message, once the interpreter has loaded."""
        self._loaded.wait()
        if self._interpreter is None:
            raise NluUnavailable("the NLU could not be loaded")
        return self._interpreter.parse(text)


def get_interpreter(
    backend: str = "spacy", *, rasa_url: str | None = None, background: bool = False
) -> Interpreter:
    """An interpreter for `backend` ("spacy", the default, or "rasa" with `rasa_url`).

    With `background=True` it loads in a thread and the first message waits for it.
    """
    if background:
        if backend not in ("spacy", "embedded", "rasa"):
            raise ValueError(f"unknown NLU backend {backend!r}: use 'spacy' or 'rasa'")
        return BackgroundInterpreter(lambda: get_interpreter(backend, rasa_url=rasa_url))
    if backend == "rasa":
        if not rasa_url:
            raise ValueError("the rasa backend needs a server URL (set RASA_URL)")
        from nlu.rasa_backend import RasaInterpreter

        return FallbackInterpreter(RasaInterpreter(rasa_url))
    if backend in ("spacy", "embedded"):
        from nlu.embedded import default_interpreter

        return default_interpreter()  # one per process: loading twice would only cost memory
    raise ValueError(f"unknown NLU backend {backend!r}: use 'spacy' or 'rasa'")
