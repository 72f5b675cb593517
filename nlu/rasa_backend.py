"""The optional Rasa backend: read free text through a Rasa 3.6 server's `/model/parse`.

Rasa decides the intent; what the text mentions, negation, durations, staff counts, facts and
flags come from the same `nlu.facts.build_result` as the embedded parser (Rasa's own entities are
passed along but do not change the facts), so both backends answer in one shape and state the same
facts. Used when the bot runs with NLU_BACKEND=rasa and RASA_URL (see nlu/backends.py).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from nlu.facts import build_result
from nlu.result import Entity, Intent, NluUnavailable, ParseResult

KNOWN_INTENTS = frozenset(
    {"affirm", "deny", "skip", "go_back", "pause", "help", "unsure", "distress", "inform"}
)
FALLBACK_INTENT = "inform"
"""Rasa's `nlu_fallback` (low confidence) and any unknown intent are read as an ordinary answer."""

CHUNK_CHARS = 1000
"""Longest piece sent in one request: DIET's attention grows with the square of the length."""
MAX_READ_CHARS = 4096
"""How much of one message Rasa reads (Telegram's own limit); the rest is kept but not parsed."""

_BREAK = re.compile(r"\s+")
_NOT_A_WORD = re.compile(r"\S{64,}")
"""A "word" this long is a link or keyboard mashing; Rasa's featurizers crawl on it (seconds)."""


def split_for_rasa(text: str, *, chunk_chars: int = CHUNK_CHARS) -> list[tuple[int, str]]:
    """`text` cut into (offset, piece) pieces of at most `chunk_chars`, at sentence or word ends."""
    pieces: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > chunk_chars:
        window = text[start : start + chunk_chars]
        cut = 0
        sentence_cut = 0
        for match in _BREAK.finditer(window):
            if match.start() == 0:
                continue
            cut = match.start()
            if window[match.start() - 1] in ".!?\n":
                sentence_cut = cut
        if sentence_cut > chunk_chars // 2:
            cut = sentence_cut
        if cut == 0:  # one word longer than a chunk
            cut = chunk_chars
        pieces.append((start, text[start : start + cut]))
        start += cut
    pieces.append((start, text[start:]))
    return [(offset, piece) for offset, piece in pieces if piece.strip()]


def _json_safe(text: str) -> str:
    """`text` with lone surrogates (which UTF-8 cannot carry) replaced, one character for one."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _readable(piece: str) -> str:
    """`piece` with over-long "words" blanked, keeping every offset."""
    return _NOT_A_WORD.sub(lambda m: " " * len(m.group()), piece)


class RasaInterpreter:
    """Reads one message at a time through a Rasa server; implements nlu.result.Interpreter."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.url,
            trust_env=False,  # a loopback or in-cluster server: never through a proxy
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> RasaInterpreter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self) -> dict[str, Any]:
        """The server's `/status` (model file and id); raises NluUnavailable if it has no model."""
        try:
            response = self._client.get("/status")
        except httpx.HTTPError as err:
            raise NluUnavailable(f"Rasa server at {self.url} unreachable: {err!r}") from err
        if response.status_code != 200:
            raise NluUnavailable(f"Rasa server at {self.url} not ready (HTTP {response.status_code})")
        status: dict[str, Any] = response.json()
        return status

    def parse(self, text: str) -> ParseResult:
        """Read one message: intent and entities from Rasa, facts and flags from build_result."""
        pieces = split_for_rasa(_readable(text[:MAX_READ_CHARS]))
        if not pieces:  # empty or only whitespace: nothing to send
            return build_result(text, intent=Intent(FALLBACK_INTENT, 0.0), entities=[])
        intent: Intent | None = None
        entities: list[Entity] = []
        for offset, piece in pieces:
            piece_intent, piece_entities = self._parse_piece(piece)
            intent = intent or piece_intent  # a long message's intent is its opening's
            entities.extend(_shifted(e, offset) for e in piece_entities)
        assert intent is not None
        return build_result(text, intent=intent, entities=_joined(_deduplicated(entities), text))

    def _parse_piece(self, piece: str) -> tuple[Intent, list[Entity]]:
        """Intent and entities of one piece, offsets relative to the piece as given."""
        lead = len(piece) - len(piece.lstrip())  # Rasa strips the text; offsets follow its copy
        try:
            response = self._client.post("/model/parse", json={"text": _json_safe(piece.strip())})
        except httpx.HTTPError as err:
            raise NluUnavailable(f"Rasa server at {self.url} unreachable: {err!r}") from err
        if response.status_code != 200:
            raise NluUnavailable(
                f"Rasa server at {self.url} answered HTTP {response.status_code} to /model/parse"
            )
        try:
            data = response.json()
            return _intent(data.get("intent")), _entities(data.get("entities") or [], lead)
        except (ValueError, AttributeError, TypeError, KeyError) as err:
            raise NluUnavailable(f"Rasa server at {self.url} gave an unreadable answer") from err


def _intent(raw: Any) -> Intent:
    """Rasa's intent as an Intent; fallback and unknown intents become an ordinary answer."""
    if not isinstance(raw, dict) or not raw.get("name"):
        return Intent(FALLBACK_INTENT, 0.0)
    name = str(raw["name"])
    confidence = round(float(raw.get("confidence") or 0.0), 4)
    if name not in KNOWN_INTENTS:
        return Intent(FALLBACK_INTENT, confidence)
    return Intent(name, confidence)


def _entities(raw: list[dict[str, Any]], lead: int) -> list[Entity]:
    """Rasa's entities as Entity objects; negation is left to build_result."""
    return [
        Entity(
            entity=str(item["entity"]),
            value=str(item.get("value", "")),
            start=int(item["start"]) + lead,
            end=int(item["end"]) + lead,
        )
        for item in raw
    ]


def _shifted(entity: Entity, offset: int) -> Entity:
    """`entity` moved from a piece's offsets to the whole text's."""
    if offset == 0:
        return entity
    return Entity(entity.entity, entity.value, entity.start + offset, entity.end + offset)


def _deduplicated(entities: list[Entity]) -> list[Entity]:
    """One entity per stretch of text, in text order: where spans overlap (DIET and the lookup
    extractor both found a mention, or "lesson" inside "to teach him a lesson"), the longest wins,
    as in the embedded parser."""
    kept: list[Entity] = []
    for entity in sorted(entities, key=lambda e: (-(e.end - e.start), e.start, e.entity)):
        if all(k.end <= entity.start or entity.end <= k.start for k in kept):
            kept.append(entity)
    return sorted(kept, key=lambda e: (e.start, e.end, e.entity))


def _joined(entities: list[Entity], text: str) -> list[Entity]:
    """Neighbouring pieces of one mention ("prn" + "meds", same type and value, only spaces
    between them: DIET tags word by word) as one entity."""
    joined: list[Entity] = []
    for entity in entities:
        last = joined[-1] if joined else None
        if (
            last is not None
            and (last.entity, last.value) == (entity.entity, entity.value)
            and not text[last.end : entity.start].strip()
        ):
            joined[-1] = Entity(last.entity, last.value, last.start, entity.end)
        else:
            joined.append(entity)
    return joined
