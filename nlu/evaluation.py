"""Score a backend on the held-out split and on the staff-written set: intents, facts, flags.

Used by `flourish nlu evaluate` and by the tests that hold both backends to their thresholds,
so the figures in BENCHMARKS.md and the CI gate come from the same code. The staff-written set
(`nlu/data/test/staff_written.yml`) is written by hand, never generated or trained on; on it we
also count safety inversions (a flag the wrong way round), which must stay at zero.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nlu.facts import empty_facts
from nlu.flags import FLAG_NAMES, flags_from_facts
from nlu.lexicon import STAFF_WRITTEN_FILE, TEST_FILE, canonical_value, load_training_data
from nlu.result import Interpreter, ParseResult


@dataclass
class Score:
    """Counts for one class, entity or flag."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4), "support": self.tp + self.fn}


@dataclass
class Report:
    """Everything `flourish nlu evaluate` prints."""

    n_intent_examples: int = 0
    intent_correct: int = 0
    intents: dict[str, Score] = field(default_factory=dict)
    entities: dict[str, Score] = field(default_factory=dict)
    flags: dict[str, Score] = field(default_factory=dict)
    fact_hits: Counter[str] = field(default_factory=Counter)
    n_fact_examples: int = 0
    n_fact_records_exact: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    mistakes: list[dict[str, str]] = field(default_factory=list)
    inversions: list[dict[str, str]] = field(default_factory=list)

    @property
    def intent_accuracy(self) -> float:
        return self.intent_correct / self.n_intent_examples if self.n_intent_examples else 0.0

    @property
    def intent_macro_f1(self) -> float:
        scores = [s.f1 for s in self.intents.values()]
        return sum(scores) / len(scores) if scores else 0.0

    @property
    def flag_micro(self) -> Score:
        total = Score()
        for s in self.flags.values():
            total.tp, total.fp, total.fn = total.tp + s.tp, total.fp + s.fp, total.fn + s.fn
        return total

    @property
    def fact_accuracy(self) -> float:
        """The share of (description, fact key) pairs read exactly right."""
        if not self.n_fact_examples or not self.fact_hits:
            return 0.0
        return sum(self.fact_hits.values()) / (self.n_fact_examples * len(self.fact_hits))

    @property
    def entity_micro(self) -> Score:
        total = Score()
        for s in self.entities.values():
            total.tp, total.fp, total.fn = total.tp + s.tp, total.fp + s.fp, total.fn + s.fn
        return total

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "intent_accuracy": round(self.intent_accuracy, 4),
            "intent_macro_f1": round(self.intent_macro_f1, 4),
            "intent_examples": self.n_intent_examples,
            "intents": {k: v.as_dict() for k, v in sorted(self.intents.items())},
            "entities": {k: v.as_dict() for k, v in sorted(self.entities.items())},
            "entity_micro": self.entity_micro.as_dict(),
            "flags": {k: v.as_dict() for k, v in self.flags.items()},
            "flag_micro": self.flag_micro.as_dict(),
            "fact_accuracy": {k: round(v / self.n_fact_examples, 4)
                              for k, v in sorted(self.fact_hits.items())}
            if self.n_fact_examples else {},
            "fact_examples": self.n_fact_examples,
            "fact_accuracy_all": round(self.fact_accuracy, 4),
            "fact_records_exact": round(self.n_fact_records_exact / self.n_fact_examples, 4)
            if self.n_fact_examples else 0.0,
            "inversions": len(self.inversions),
            "confusion": [{"expected": e, "predicted": p, "count": n}
                          for (e, p), n in self.confusion.most_common()],
        }


def gold_facts(partial: dict[str, Any]) -> dict[str, Any]:
    """A full facts dict from the keys a gold record states (the rest: empty or null)."""
    facts = empty_facts()
    for key, value in partial.items():
        if key == "injury":
            facts["injury"].update(value)
        else:
            facts[key] = value
    return facts


def _same(key: str, gold: Any, got: Any) -> bool:
    if key == "duration_minutes" and gold is not None and got is not None:
        return abs(float(gold) - float(got)) < 0.05
    if isinstance(gold, list):
        return sorted(gold) == sorted(got or [])
    return bool(gold == got)


def evaluate(interpreter: Interpreter, *, data: Path = TEST_FILE) -> Report:
    """Run every held-out example through `interpreter` and score it."""
    report = Report()
    test = load_training_data(data)
    synonyms = load_training_data().synonyms
    labels = sorted(test.examples)
    for label in labels:
        report.intents.setdefault(label, Score())
    for label in labels:
        for text in test.examples[label]:
            result = interpreter.parse(text)
            predicted = result.intent.name
            report.n_intent_examples += 1
            report.intents.setdefault(predicted, Score())
            if predicted == label:
                report.intent_correct += 1
                report.intents[label].tp += 1
            else:
                report.intents[label].fn += 1
                report.intents[predicted].fp += 1
                report.confusion[(label, predicted)] += 1
                report.mistakes.append({"text": text, "expected": label, "predicted": predicted})
            gold: Counter[tuple[str, str]] = Counter()
            for _surface, entity, value in test.annotations.get(text, []):
                canon = canonical_value(entity, value, synonyms=synonyms)
                gold[(entity, canon or value)] += 1
            got = Counter((e.entity, e.value) for e in result.entities)
            for pair in gold | got:
                score = report.entities.setdefault(pair[0], Score())
                hit = min(gold[pair], got[pair])
                score.tp += hit
                score.fn += gold[pair] - hit
                score.fp += got[pair] - hit
    facts_file = data.parent / "facts.yml"
    if facts_file.exists():
        records = yaml.safe_load(facts_file.read_text(encoding="utf-8")) or []
        for name in FLAG_NAMES:
            report.flags[name] = Score()
        for record in records:
            result = interpreter.parse(record["text"])
            _score_facts(report, record["text"], record["facts"], result)
            _score_flags(report, gold_facts(record["facts"]), result)
    return report


def _score_facts(report: Report, text: str, partial: dict[str, Any], result: ParseResult) -> None:
    """Add one description's facts and flags to `report`."""
    expected = gold_facts(partial)
    report.n_fact_examples += 1
    exact = True
    for key, value in expected.items():
        if _same(key, value, result.facts.get(key)):
            report.fact_hits[key] += 1
        else:
            exact = False
            report.fact_hits[key] += 0
            report.mistakes.append({"text": text, "fact": key, "expected": str(value),
                                    "predicted": str(result.facts.get(key))})
    report.n_fact_records_exact += exact


def _score_flags(report: Report, expected: dict[str, Any], result: ParseResult) -> None:
    want = set(flags_from_facts(expected))
    have = set(result.flags)
    for name in FLAG_NAMES:
        score = report.flags.setdefault(name, Score())
        score.tp += name in want and name in have
        score.fp += name in have and name not in want
        score.fn += name in want and name not in have


def safety_inversions(*, intent: str, facts: dict[str, Any], result: ParseResult) -> list[str]:
    """The ways `result` turns a safety point the wrong way round, against gold labels."""
    found: list[str] = []
    gold = gold_facts(facts)["injury"]
    got = result.facts.get("injury") or {}
    for who, other in (("child", "staff"), ("staff", "child")):
        if gold[who] is True and got.get(who) is False:
            found.append(f"{who} injury read as no injury")
        if gold[who] is False and got.get(who) is True:
            found.append(f"no {who} injury read as an injury")
        if gold[other] is True and gold[who] is not True and got.get(who) is True:
            found.append(f"{other}'s injury given to the {who}")
    expected = gold_facts(facts)
    for key, name in (("prn_medication", "PRN given"), ("pain_inflicted", "pain inflicted"),
                      ("used_as_punishment", "used as punishment")):
        if expected[key] is not True and result.facts.get(key) is True:
            found.append(f"{name} read from a text that does not say so")
    if intent == "distress" and result.intent.name != "distress":
        found.append(f"distress read as {result.intent.name}: no support offered")
    return found


def load_staff_written(path: Path = STAFF_WRITTEN_FILE) -> list[dict[str, Any]]:
    """The hand-written records: id, text, intent and (for descriptions) facts."""
    records: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return records


def evaluate_staff_written(interpreter: Interpreter, *, path: Path = STAFF_WRITTEN_FILE) -> Report:
    """Score `interpreter` on the staff-written set: intents, facts, flags and safety inversions.

    Every record counts for intents and flags (a record with no facts should raise no flag);
    records with facts count for fact accuracy.
    """
    report = Report(flags={name: Score() for name in FLAG_NAMES})
    for record in load_staff_written(path):
        text, label = record["text"], record["intent"]
        result = interpreter.parse(text)
        predicted = result.intent.name
        report.n_intent_examples += 1
        report.intents.setdefault(label, Score())
        report.intents.setdefault(predicted, Score())
        if predicted == label:
            report.intent_correct += 1
            report.intents[label].tp += 1
        else:
            report.intents[label].fn += 1
            report.intents[predicted].fp += 1
            report.confusion[(label, predicted)] += 1
            report.mistakes.append({"id": record["id"], "text": text, "expected": label,
                                    "predicted": predicted})
        partial = record.get("facts")
        if partial is not None:
            _score_facts(report, text, partial, result)
        _score_flags(report, gold_facts(partial or {}), result)
        for inversion in safety_inversions(intent=label, facts=partial or {}, result=result):
            report.inversions.append({"id": record["id"], "text": text, "inversion": inversion})
    return report
