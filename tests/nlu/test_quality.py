"""The embedded parser on the held-out split, its determinism, and the data it learns from."""

from __future__ import annotations

from pathlib import Path

import yaml

from nlu.embedded import EmbeddedInterpreter, train_pipeline
from nlu.evaluation import evaluate
from nlu.facts import normalise
from nlu.lexicon import CANONICAL, TEST_FACTS_FILE, TEST_FILE, TRAIN_FILE, load_training_data
from nlu.result import CONTROL_INTENTS


def test_held_out_scores_meet_the_bar(interpreter: EmbeddedInterpreter) -> None:
    report = evaluate(interpreter, data=TEST_FILE)
    assert report.n_intent_examples > 300
    assert report.n_fact_examples > 100
    assert report.intent_accuracy >= 0.95, report.as_dict()["confusion"]
    assert report.flag_micro.f1 >= 0.95, report.as_dict()["flags"]
    assert report.entity_micro.f1 >= 0.95, report.as_dict()["entities"]


def test_training_is_deterministic() -> None:
    data = load_training_data(TEST_FILE)
    texts = [t for ts in data.examples.values() for t in ts][:150]
    first, second = train_pipeline(), train_pipeline()
    for text in texts:
        a = first.get_pipe("textcat")(first.make_doc(normalise(text))).cats
        b = second.get_pipe("textcat")(second.make_doc(normalise(text))).cats
        assert a == b, text


def test_held_out_split_is_never_trained_on() -> None:
    train = load_training_data(TRAIN_FILE)
    test = load_training_data(TEST_FILE)
    seen = {" ".join(t.lower().split()) for ts in train.examples.values() for t in ts}
    held = [t for ts in test.examples.values() for t in ts]
    assert not [t for t in held if " ".join(t.lower().split()) in seen]


def test_training_data_is_rasa_3_format_with_the_designed_labels() -> None:
    raw = yaml.safe_load(TRAIN_FILE.read_text(encoding="utf-8"))
    assert raw["version"] == "3.1"
    kinds = {next(iter(entry)) for entry in raw["nlu"]}
    assert kinds == {"intent", "synonym", "lookup", "regex"}
    data = load_training_data(TRAIN_FILE)
    assert set(data.examples) == set(CONTROL_INTENTS) | {"inform"}
    for spans in data.annotations.values():
        for _surface, entity, value in spans:
            assert entity in CANONICAL
            assert value in CANONICAL[entity] or data.synonyms.get(value.lower()) in CANONICAL[entity]


def test_gold_facts_use_the_design_keys_and_values() -> None:
    records = yaml.safe_load(TEST_FACTS_FILE.read_text(encoding="utf-8"))
    keys = {"hold_types", "locations", "restrictions", "equipment", "prn_medication", "injury",
            "duration_minutes", "staff_count", "pain_inflicted", "used_as_punishment"}
    for record in records:
        assert set(record["facts"]) <= keys
        for value in record["facts"].get("hold_types", []):
            assert value in CANONICAL["hold_type"]


def test_committed_yaml_is_what_the_generator_writes(tmp_path: Path, monkeypatch: object) -> None:
    from nlu.data import generate

    rng_data = generate.build(generate.random.Random(generate.SEED))
    out = tmp_path / "nlu.yml"
    generate.dump(out, rng_data["train"]["examples"], with_lexicon=True)
    assert out.read_text(encoding="utf-8") == TRAIN_FILE.read_text(encoding="utf-8")
