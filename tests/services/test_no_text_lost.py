"""No typed text is lost: every message a member of staff sends during a debrief is a stored answer,
a stored note or a control, and the inspection export holds every word that was kept (SQLite and
PostgreSQL, through the service)."""

from __future__ import annotations

import json

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.services.debriefs import DebriefService
from bot.services.demo import seed_demo
from bot.services.export import PRIVATE_QUESTIONS, export_records, to_csv, to_json
from dialogues import values
from dialogues.engine import Inbound, State
from storage import crud
from storage.db import session_scope
from storage.models import Answer, Conversation, Person, Role

# What a tired member of staff types at each question the flow asks (no NLU here: words only).
TYPED = {
    "wellbeing": "a bit shaken, he caught my wrist on the way down",
    "child": "robin",
    "incident_day": "yesterday about 7pm",
    "describe": "she kicked off after her mum cancelled the visit, threw her plate and went for Kit "
                "so me and Jordan held her standing in the kitchen for about 3 mins",
    "noted_confirm": "yes",
    "communication": "She was gutted about mum and I think she wanted us to see how let down she was",
    "location": "kitchen",
    "interventions": "it all happened really quickly to be fair",
    "hold_types": "standing",
    "duration": "about 3 mins i think",
    "staff_count": "2",
    "other_staff": "jordan",
    "triggers": "we were all a bit on edge tonight",
    "tried_first": "talked to her calmly and offered her a hot chocolate in the quiet room",
    "necessity": "to stop her hurting Kit",
    "child_injured": "nope",
    "staff_injured": "no",
    "injury_details": "none",
    "ending": "She calmed in her room with music",
    "child_experience": "said we always side with mum",
    "least_restrictive": "partly i think, we could have moved Kit away sooner",
    "next_time": "Ring her before contact if mum might cancel",
}

# What they type when asked again (the words they typed first are kept as a note).
AGAIN = {"duration": "3", "interventions": "1", "triggers": "family"}


def _kept(state: State) -> list[str]:
    texts = [str(r.value) for r in state.answers.values() if isinstance(r.value, str)]
    texts += [r.note for r in state.answers.values() if r.note]
    texts += [n for notes in state.notes.values() for n in notes]
    return texts


def test_every_message_is_an_answer_a_note_or_a_control_and_the_export_holds_it(
        flourish_env: dict[str, str], db_engine: Engine) -> None:
    service = DebriefService()
    with session_scope() as session:
        setting_id = seed_demo(session)
        person = crud.list_people(session, setting_id=setting_id, roles=(Role.staff,))[0]
        service.start_or_resume(session, person=person)
    kept_words: list[tuple[str, str]] = []
    tried: set[str] = set()
    with Session(db_engine) as session:
        after = _state(session, person)
    for _ in range(60):
        before = after
        if before.status != "active":
            break
        question = before.current or ""
        text = TYPED.get(question, "skip") if question not in tried else AGAIN.get(question, "skip")
        tried.add(question)
        with session_scope() as session:
            reply = service.handle(session, person=person, inbound=Inbound.typed(text))
        with Session(db_engine) as session:
            after = _state(session, person)
        kept = any(text in stored for stored in _kept(after))
        answered = after.answers.get(question) != before.answers.get(question)
        assert kept or answered or values.control_word(text), (question, text,
                                                               [m.text for m in reply.messages])
        if kept:
            kept_words.append((question, text))
    assert after.status == "summary", after.current
    with session_scope() as session:
        reply = service.handle(session, person=person, inbound=Inbound.pressed("summary|submit"))
    assert reply.record_id is not None
    with Session(db_engine) as session:
        notes = {a.question_id: a.text for a in session.exec(select(Answer))
                 if a.question_id.endswith(".note")}
    assert notes, "words kept as notes are stored beside their answers"
    with session_scope() as session:
        records = export_records(session, setting_id=setting_id, actor_id=person.id)
    exported = to_json(records)
    spreadsheet = to_csv(records)
    assert len(kept_words) >= 10
    as_json = json.dumps(json.loads(exported), ensure_ascii=False)
    for question, text in kept_words:
        if question in PRIVATE_QUESTIONS:  # promised not to be part of the child's record
            assert text not in as_json, f"{text!r} ({question}) must stay out of the export"
            assert text not in spreadsheet
            continue
        assert text in as_json, text
        assert text in spreadsheet, f"{text!r} is not in the CSV export"
    assert any(q in PRIVATE_QUESTIONS for q, _ in kept_words), "the wellbeing words were kept"
    debrief = json.loads(exported)[0]["debriefs"][0]["answers"]
    assert debrief["tried_first.note"]["question"] == "What was tried first (in their words)"


def _state(session: Session, person: Person) -> State:
    conversation = session.exec(select(Conversation).where(
        Conversation.person_id == person.id, Conversation.active)).one()  # type: ignore[arg-type]
    return State.model_validate_json(conversation.state)


def test_the_manager_sees_the_words_kept_with_an_answer_but_not_the_private_ones(
        flourish_env: dict[str, str], db_engine: Engine) -> None:
    from bot.services.reviews import side_by_side
    from dialogues.flow import load_flow
    from storage.models import Incident

    service = DebriefService()
    with session_scope() as session:
        setting_id = seed_demo(session)
        person = crud.list_people(session, setting_id=setting_id, roles=(Role.staff,))[0]
        service.start_or_resume(session, person=person, new=True)
    typed = {"wellbeing": "a bit shaken, he caught my wrist on the way down",
             "tried_first": "talked to her calmly and offered her a hot chocolate in the quiet room"}
    for _ in range(60):
        with Session(db_engine) as session:
            state = _state(session, person)
        if state.status != "active":
            break
        question = state.current or ""
        text = typed.pop(question, None) or ("1" if question in ("child", "incident_day")
                                             else "skip")
        with session_scope() as session:
            service.handle(session, person=person, inbound=Inbound.typed(text))
    with session_scope() as session:
        service.handle(session, person=person, inbound=Inbound.pressed("summary|submit"))
    with session_scope() as session:
        incident = session.exec(select(Incident)).one()
        _, lines = side_by_side(session, incident=incident, flow=load_flow("staff_debrief"))
    shown = "\n".join(lines)
    assert "in their words: “talked to her calmly and offered her a hot chocolate" in shown
    assert "wrist" not in shown
