"""The staff-written evaluation set: its shape, its labels, and that no model ever trains on it.

The set (nlu/data/test/staff_written.yml) is written by hand in staff's own voice; the scores on
it are checked in test_staff_scores.py (embedded) and test_rasa_backend.py (Rasa).
"""

from __future__ import annotations

import re

from nlu.evaluation import load_staff_written
from nlu.lexicon import CANONICAL, TEST_FACTS_FILE, TEST_FILE, TRAIN_FILE, load_training_data
from nlu.result import CONTROL_INTENTS

LIST_KEYS = {"hold_types": "hold_type", "locations": "location", "restrictions": "restriction",
             "equipment": "equipment"}
OTHER_KEYS = {"prn_medication", "injury", "duration_minutes", "staff_count", "pain_inflicted",
              "used_as_punishment"}


def _plain(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def test_no_staff_written_text_is_in_any_training_or_generated_data() -> None:
    import yaml

    seen: set[str] = set()
    for path in (TRAIN_FILE, TEST_FILE):
        for texts in load_training_data(path).examples.values():
            seen |= {_plain(t) for t in texts}
    for record in yaml.safe_load(TEST_FACTS_FILE.read_text(encoding="utf-8")):
        seen.add(_plain(record["text"]))
    leaked = [r["id"] for r in load_staff_written() if _plain(r["text"]) in seen]
    assert leaked == []


def test_the_set_is_big_enough_and_a_third_is_multi_fact_or_negated() -> None:
    records = load_staff_written()
    assert len(records) >= 300
    assert len({r["id"] for r in records}) == len(records)

    def hard(record: dict[str, object]) -> bool:
        facts = record.get("facts") or {}
        assert isinstance(facts, dict)
        said = [v for v in facts.values() if v not in (None, [], {})]
        injury = facts.get("injury") or {}
        return len(said) >= 2 or False in facts.values() or False in injury.values()

    assert sum(hard(r) for r in records) * 3 >= len(records)


def test_labels_use_the_design_names_and_values() -> None:
    for record in load_staff_written():
        assert record["intent"] in CONTROL_INTENTS | {"inform"}, record["id"]
        facts = record.get("facts") or {}
        assert set(facts) <= set(LIST_KEYS) | OTHER_KEYS, record["id"]
        for key, entity in LIST_KEYS.items():
            assert set(facts.get(key, [])) <= CANONICAL[entity], record["id"]
        assert set(facts.get("injury", {})) <= {"child", "staff"}, record["id"]
