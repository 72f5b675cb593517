"""The Rasa backend's own logic that needs no Rasa: errors, splitting, project files, install.

Errors are provoked with real HTTP: a closed port, and a small real server on 127.0.0.1 that
answers like a failing Rasa would.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

from nlu.rasa_backend import CHUNK_CHARS, NluUnavailable, RasaInterpreter, split_for_rasa
from nlu.rasa_server import (
    RASA_CONFIG,
    RASA_DOMAIN,
    TRAINING_DATA,
    RasaServerError,
    free_port,
    model_fingerprint,
    running_rasa_server,
    wait_until_ready,
)


class _BrokenRasa(BaseHTTPRequestHandler):
    """Answers /model/parse with HTTP 500, or under /garbage with a 200 that is not JSON."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/garbage/model/parse":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"<html>not json</html>")
            return
        self.send_response(500)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def broken_url() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 that misbehaves like a failing Rasa."""
    server = HTTPServer(("127.0.0.1", 0), _BrokenRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_unreachable_server_raises_nlu_unavailable() -> None:
    with RasaInterpreter(f"http://127.0.0.1:{free_port()}", timeout=2.0) as rasa:
        with pytest.raises(NluUnavailable, match="unreachable"):
            rasa.parse("go back")
        with pytest.raises(NluUnavailable, match="unreachable"):
            rasa.check()


def test_server_error_raises_nlu_unavailable(broken_url: str) -> None:
    with RasaInterpreter(broken_url) as rasa, pytest.raises(NluUnavailable, match="HTTP 500"):
        rasa.parse("go back")


def test_unreadable_answer_raises_nlu_unavailable(broken_url: str) -> None:
    with (
        RasaInterpreter(f"{broken_url}/garbage") as rasa,
        pytest.raises(NluUnavailable, match="unreadable"),
    ):
        rasa.parse("go back")


def test_empty_text_needs_no_server() -> None:
    with RasaInterpreter(f"http://127.0.0.1:{free_port()}") as rasa:
        result = rasa.parse("  \n ")
    assert result.intent.name == "inform"
    assert result.entities == []


def test_split_keeps_every_character_and_true_offsets() -> None:
    text = ("We tried talking first. She calmed a bit then kicked out again! " * 60) + "z" * 2500
    pieces = split_for_rasa(text)
    assert all(len(piece) <= CHUNK_CHARS for _, piece in pieces)
    assert all(text[offset : offset + len(piece)] == piece for offset, piece in pieces)
    assert "".join(piece for _, piece in pieces) == text
    # cuts fall at sentence ends where there is one, so a sentence is read whole
    assert pieces[0][1].endswith((".", "!"))


def test_split_of_short_or_blank_text() -> None:
    assert split_for_rasa("go back") == [(0, "go back")]
    assert split_for_rasa("   ") == []
    assert split_for_rasa("") == []


def test_server_manager_needs_training_data() -> None:
    missing = Path("/nonexistent/nlu.yml")
    with pytest.raises(RasaServerError, match="no training data"), running_rasa_server(data=missing):
        pass


def test_waiting_for_a_dead_server_times_out_clearly() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RasaServerError, match="not ready after 1 s"):
        wait_until_ready(url, timeout=1.0)


def test_model_cache_key_follows_the_data(tmp_path: Path) -> None:
    data = tmp_path / "nlu.yml"
    data.write_text(TRAINING_DATA.read_text())
    before = model_fingerprint(data=data)
    assert model_fingerprint(data=data) == before
    data.write_text(TRAINING_DATA.read_text() + "\n# one more line\n")
    assert model_fingerprint(data=data) != before


def _data_names() -> tuple[set[str], set[str]]:
    """Intents and annotated entity types of the training data."""
    nlu = yaml.safe_load(TRAINING_DATA.read_text())["nlu"]
    intents = {item["intent"] for item in nlu if "intent" in item}
    entities: set[str] = set()
    for item in nlu:
        if "intent" in item:
            entities |= set(re.findall(r"\]\((\w+)", item["examples"]))
            entities |= set(re.findall(r'\]\{"entity":\s*"(\w+)"', item["examples"]))
    return intents, entities


def test_domain_names_what_the_data_teaches() -> None:
    domain = yaml.safe_load(RASA_DOMAIN.read_text())
    intents, entities = _data_names()
    assert set(domain["intents"]) == intents
    assert set(domain["entities"]) == entities


def test_config_is_seeded_and_nlu_only() -> None:
    config = yaml.safe_load(RASA_CONFIG.read_text())
    assert config["language"] == "en"
    assert not config.get("policies")
    diet = next(c for c in config["pipeline"] if c["name"] == "DIETClassifier")
    assert isinstance(diet["random_seed"], int)
    assert diet["epochs"] <= 100


def test_project_install_has_no_rasa_or_tensorflow() -> None:
    assert importlib.util.find_spec("rasa") is None
    assert importlib.util.find_spec("tensorflow") is None


def test_overlapping_mentions_become_one() -> None:
    from nlu.rasa_backend import _deduplicated
    from nlu.result import Entity

    diet = Entity("location", "living", 10, 16)
    lookup = Entity("location", "living room", 10, 21)
    hold = Entity("hold_type", "prone", 0, 9)
    assert _deduplicated([diet, hold, lookup, lookup]) == [hold, lookup]
    # "lesson" (a place) inside "to teach him a lesson" (punishment): the longer reading wins
    text = "she said it was to teach him a lesson"
    punishment = Entity("punishment", "punishment", text.index("to teach"), len(text))
    lesson = Entity("location", "classroom", text.index("lesson"), len(text))
    assert _deduplicated([lesson, punishment]) == [punishment]


def test_pieces_of_one_mention_are_joined() -> None:
    from nlu.rasa_backend import _joined
    from nlu.result import Entity

    text = "he took his prn meds at 8, prn again later"
    prn, meds = Entity("medication", "prn", 12, 15), Entity("medication", "prn", 16, 20)
    again = Entity("medication", "prn", 27, 30)
    assert _joined([prn, meds, again], text) == [Entity("medication", "prn", 12, 20), again]
