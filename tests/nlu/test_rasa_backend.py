"""The Rasa backend against a real Rasa 3.6 server on 127.0.0.1, trained from nlu/data/nlu.yml.

The server is trained (or taken from the model cache, keyed by a hash of data and config) and
started once for the module; it needs the environment that scripts/rasa-env builds. Without it
the tests skip on a developer's machine and fail under CI=true: CI must run them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from nlu.rasa_backend import CHUNK_CHARS, RasaInterpreter
from nlu.rasa_server import RasaServerError, ensure_rasa_env, running_rasa_server
from nlu.result import ParseResult

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(1800)]

KNOWN_INTENTS = {"affirm", "deny", "skip", "go_back", "pause", "help", "unsure", "distress", "inform"}
STAFF_SENTENCE = "me n Dave took her to the floor approx 4 mins no injuries no prn"


@pytest.fixture(scope="module")
def rasa_url() -> Iterator[str]:
    """A real Rasa server for this module (environment built, model trained or cached)."""
    try:
        ensure_rasa_env()
    except RasaServerError as err:
        message = f"the Rasa environment could not be built: {err}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with running_rasa_server() as url:
        yield url


@pytest.fixture(scope="module")
def rasa(rasa_url: str) -> Iterator[RasaInterpreter]:
    """The Rasa backend, talking to the module's server."""
    with RasaInterpreter(rasa_url) as interpreter:
        yield interpreter


def assert_valid(result: ParseResult, text: str) -> None:
    """A result a dialogue can use: known intent, confidence in range, spans inside the text."""
    assert result.text == text
    assert result.intent.name in KNOWN_INTENTS
    assert 0.0 <= result.intent.confidence <= 1.0
    for entity in result.entities:
        assert 0 <= entity.start < entity.end <= len(text), entity
        assert text[entity.start : entity.end].strip(), entity


def test_server_reports_its_model(rasa: RasaInterpreter) -> None:
    status = rasa.check()
    assert "flourish-nlu-" in status["model_file"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("can we skip this one", "skip"),
        ("next question please", "skip"),
        ("go back", "go_back"),
        ("can i change my last answer", "go_back"),
        ("i'll finish this later", "pause"),
        ("what does this question mean", "help"),
        ("not sure", "unsure"),
        ("yes that's right", "affirm"),
        ("no that's wrong", "deny"),
        ("I'm really shaken up", "distress"),
    ],
)
def test_control_phrases_steer_the_flow(rasa: RasaInterpreter, text: str, intent: str) -> None:
    result = rasa.parse(text)
    assert result.intent.name == intent, result.intent


def test_staff_sentence_gives_facts_and_flags(rasa: RasaInterpreter) -> None:
    result = rasa.parse(STAFF_SENTENCE)
    assert_valid(result, STAFF_SENTENCE)
    assert result.intent.name == "inform"
    holds = [e for e in result.entities if e.entity == "hold_type"]
    assert [e.value for e in holds] == ["ground"]
    assert "floor" in STAFF_SENTENCE[holds[0].start : holds[0].end]
    facts = result.facts
    assert facts["hold_types"] == ["ground"]
    assert facts["duration_minutes"] == 4
    assert facts["staff_count"] == 2
    assert facts["injury"]["child"] is not True
    assert facts["injury"]["staff"] is not True
    assert facts["prn_medication"] is not True
    assert "prone_or_ground_hold" in result.flags
    assert "injury" not in result.flags
    assert "prn_medication" not in result.flags


def test_entity_values_are_canonical(rasa: RasaInterpreter) -> None:
    text = "we held him face down in the lounge, he got a bruise, prn given"
    result = rasa.parse(text)
    assert_valid(result, text)
    found = {(e.entity, e.value) for e in result.entities}
    assert {("hold_type", "prone"), ("location", "communal")} <= found
    assert result.facts["hold_types"] == ["prone"]
    assert result.facts["locations"] == ["communal"]
    assert "prone_or_ground_hold" in result.flags


def test_offsets_survive_leading_whitespace(rasa: RasaInterpreter) -> None:
    text = "   \n  we held him face down in the lounge"
    result = rasa.parse(text)
    assert_valid(result, text)
    spans = {text[e.start : e.end] for e in result.entities}
    assert "lounge" in spans


def test_long_answer_is_read_in_pieces_with_true_offsets(rasa: RasaInterpreter) -> None:
    opening = "He was upset after a phone call with his mum and we tried talking first. " * 20
    text = opening + "In the end two of us held him face down in the lounge for 5 minutes."
    assert len(opening) > CHUNK_CHARS
    result = rasa.parse(text)
    assert_valid(result, text)
    assert result.intent.name == "inform"
    lounge = [e for e in result.entities if e.entity == "location"]
    assert lounge
    assert text[lounge[0].start : lounge[0].end] == "lounge"
    assert lounge[0].value == "communal"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "😀😀😀",
        "他把她按在地上",
        "Он упал на пол",
        "\x00\x01\x1b[31m\x7f",
        "lone \ud800 surrogate",
        "floor " * 20_000,
        "x" * 100_000,
    ],
    ids=[
        "empty",
        "whitespace",
        "emoji",
        "chinese",
        "cyrillic",
        "control",
        "surrogate",
        "120k-words",
        "100k-one-word",
    ],
)
def test_bad_input_gets_a_valid_result(rasa: RasaInterpreter, text: str) -> None:
    result = rasa.parse(text)
    assert_valid(result, text)


def test_empty_text_is_not_read_as_yes(rasa: RasaInterpreter) -> None:
    assert rasa.parse("").intent.name == "inform"
    assert rasa.parse("  ").intent.name == "inform"


@pytest.fixture(scope="module")
def staff_written_through_rasa(rasa: RasaInterpreter) -> dict[str, ParseResult]:
    """Each staff-written text read once by Rasa (about 320 requests), shared by the tests below."""
    from nlu.evaluation import load_staff_written

    return {r["text"]: rasa.parse(r["text"]) for r in load_staff_written()}


class _Replay:
    """Answers from results already read, so the evaluation does not ask the server twice."""

    def __init__(self, results: dict[str, ParseResult]) -> None:
        self.results = results

    def parse(self, text: str) -> ParseResult:
        return self.results[text]


def test_the_staff_written_set_meets_the_bar_through_rasa(
    staff_written_through_rasa: dict[str, ParseResult],
) -> None:
    """The same bar as the embedded parser (test_staff_scores.py); any inversion is named."""
    from nlu.evaluation import evaluate_staff_written

    report = evaluate_staff_written(_Replay(staff_written_through_rasa))
    summary = report.as_dict()
    assert report.flag_micro.f1 >= 0.95, summary["flags"]
    assert report.fact_accuracy >= 0.93, summary["fact_accuracy"]
    assert report.intent_accuracy >= 0.95, summary["confusion"]
    assert [(i["id"], i["inversion"]) for i in report.inversions] == []


def test_rasa_and_the_embedded_parser_read_the_same_facts(
    staff_written_through_rasa: dict[str, ParseResult],
) -> None:
    """One shared post-processing: whatever DIET tags, both backends state the same facts."""
    from nlu.embedded import default_interpreter

    embedded = default_interpreter()
    differ = [text for text, result in staff_written_through_rasa.items()
              if result.facts != embedded.parse(text).facts]
    assert differ == []
