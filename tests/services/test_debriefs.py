"""A whole staff debrief through the service, on SQLite and PostgreSQL, across two processes."""

from __future__ import annotations

import json
import subprocess
import sys

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.services.debriefs import DebriefService, Reply
from bot.services.demo import seed_demo
from dialogues.engine import Inbound
from storage import crud
from storage.db import session_scope
from storage.models import Answer, Conversation, Debrief, Incident, IncidentStaff, Person, Role

STORY = "We guided her to the sofa and held her arms seated"  # names: guided, held, seated
COMMUNICATION = "She'd had a phone call from home and was pacing"
FIRST_HALF = ["2", "1", "yesterday", "7pm", STORY, "yes", COMMUNICATION, "communal"]
SECOND_HALF_TYPED = [
    "4",  # duration minutes
    "2",  # staff count
    "Jordan Demo",  # other staff
    "4,5",  # triggers: peer, family
    "1, 2, 3",  # tried first
    "2",  # necessity: hurt someone
    "no",  # child injured
    "no",  # staff injured
    "She cried then asked for her blanket",
    "She said we were too rough",
    "2",  # least restrictive: partly
    "Give her time after calls home",
]


def _demo(session: Session) -> Person:
    setting_id = seed_demo(session)
    return crud.list_people(session, setting_id=setting_id, roles=(Role.staff,))[0]


def _submit_debrief(service: DebriefService, person: Person) -> Reply:
    """Start a debrief for `person` and answer every question by typing, then submit."""
    with session_scope() as session:
        service.start_or_resume(session, person=person)
    for text in [*FIRST_HALF, *SECOND_HALF_TYPED, "submit"]:
        with session_scope() as session:
            reply = service.handle(session, person=person, inbound=Inbound.typed(text))
    return reply


def test_full_debrief_is_stored_exactly_after_resume_in_a_new_process(
    flourish_env: dict[str, str], db_engine: Engine
) -> None:
    service = DebriefService()
    with session_scope() as session:
        person = _demo(session)
        reply = service.start_or_resume(session, person=person)
    assert reply.messages[-1].question_id == "wellbeing"
    steps = [Inbound.typed(t) for t in FIRST_HALF[:3]] + [
        Inbound.typed("25:99"),  # not a time: asked again with a reason
        Inbound.typed("7pm"),
        Inbound.pressed("describe|c:back"),  # back to the time, which shows "You said: 19:00"
        Inbound.pressed("incident_time|keep"),
        Inbound.typed(STORY),
        Inbound.typed("yes"),  # what the account names, confirmed
        Inbound.typed(COMMUNICATION),
        Inbound.pressed("location|c:skip"),  # skipped, then changed from the summary below
    ]
    texts: list[str] = []
    for inbound in steps:
        with session_scope() as session:
            reply = service.handle(session, person=person, inbound=inbound)
        texts += [m.text for m in reply.messages]
    assert "Please give a time of day, like 14:30 or 2.30pm." in texts
    assert any("You said: 19:00" in t for t in texts)
    with session_scope() as session:
        reply = service.handle(session, person=person, inbound=Inbound.pressed("duration|c:pause"))
    assert reply.status == "paused"

    # A new process picks the conversation up from the database and finishes it.
    second_half = ["skip" if t == "4,5" else t for t in SECOND_HALF_TYPED]  # triggers skipped
    stdin = "\n".join([*second_half, "edit", "7", "communal", "edit", "16", "no", "submit"]) + "\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--plain", "--person", str(person.id)],
        input=stdin, capture_output=True, text=True, env=flourish_env, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Welcome back" in done.stdout
    assert "Receipt: debrief" in done.stdout, done.stdout[-3000:]

    with Session(db_engine) as session:
        debrief = session.exec(select(Debrief)).one()
        answers = {a.question_id: a for a in session.exec(select(Answer))}
        incident = session.exec(select(Incident)).one()
        staff = set(session.exec(select(IncidentStaff.person_id)))
        conversation = session.exec(select(Conversation)).one()
    assert debrief.person_id == person.id
    assert not conversation.active
    expected_values = {
        "wellbeing": "shaken", "child": "1", "incident_day": "yesterday", "incident_time": "19:00",
        "location": "communal", "interventions": ["physical_hold", "guided"], "other_staff": ["2"],
        "triggers": None, "tried_first": ["talking", "space", "distraction"],
        "necessity": ["injury_others"], "hold_types": ["seated"], "duration": 4,
        "staff_count": 2, "child_injured": False, "staff_injured": False,
        "least_restrictive": "partly",
    }
    expected_texts = {
        "communication": "She'd had a phone call from home and was pacing",
        "describe": "We guided her to the sofa and held her arms seated",
        "ending": "She cried then asked for her blanket",
        "child_experience": "She said we were too rough",
        "next_time": "Give her time after calls home",
    }
    assert {q: a.value for q, a in answers.items() if a.text is None} == expected_values
    assert {q: a.text for q, a in answers.items() if a.text is not None} == expected_texts
    assert {q for q, a in answers.items() if a.status != "answered"} == {"triggers"}
    assert answers["triggers"].status == "skipped"
    assert incident.child_id == 1
    assert staff == {person.id, 2}
    assert incident.occurred_at.hour in (19, 18)  # 19:00 Europe/London (GMT or BST)
    assert incident.flags == []


def test_free_text_is_encrypted_at_rest(flourish_env: dict[str, str], db_engine: Engine) -> None:
    service = DebriefService()
    with session_scope() as session:
        person = _demo(session)
    _submit_debrief(service, person)
    with db_engine.connect() as conn:
        raw_answers = [r[0] for r in conn.execute(sa.text("SELECT text FROM answer")) if r[0]]
        raw_names = [r[0] for r in conn.execute(sa.text("SELECT display_name FROM child"))]
        raw_state = conn.execute(sa.text("SELECT state FROM conversation")).scalar_one()
    assert len(raw_answers) == 5
    assert not any("phone call" in raw for raw in raw_answers)
    assert not any("demo" in raw for raw in raw_names)
    assert "phone call" not in raw_state
    with Session(db_engine) as session:
        texts = [a.text for a in session.exec(select(Answer)) if a.text]
    assert "She'd had a phone call from home and was pacing" in texts


def test_second_staff_member_debriefs_the_same_incident(
    flourish_env: dict[str, str], db_engine: Engine
) -> None:
    service = DebriefService()
    with session_scope() as session:
        alex = _demo(session)
        jordan = crud.list_people(session, setting_id=alex.setting_id, roles=(Role.staff,))[1]
    reply = _submit_debrief(service, alex)
    assert reply.submitted_debrief_id is not None
    with session_scope() as session:
        assert [i.id for i in crud.pending_debrief_incidents(session, person_id=jordan.id or 0)] == [
            reply.incident_id]
        start = service.start_or_resume(session, person=jordan)
    assert "A colleague named you as involved" in start.messages[0].text
    assert start.messages[-1].question_id == "wellbeing"
    with session_scope() as session:
        after_wellbeing = service.handle(session, person=jordan, inbound=Inbound.typed("1"))
    assert after_wellbeing.messages[-1].question_id == "describe"
    with Session(db_engine) as session:
        assert len(session.exec(select(Incident)).all()) == 1


def test_export_json_holds_the_debrief(flourish_env: dict[str, str]) -> None:
    service = DebriefService()
    with session_scope() as session:
        person = _demo(session)
    _submit_debrief(service, person)
    done = subprocess.run([sys.executable, "-m", "bot.cli", "export", "--format", "json"],
                          capture_output=True, text=True, env=flourish_env, timeout=60, check=True)
    records = json.loads(done.stdout)
    assert len(records) == 1
    assert records[0]["child"] == "Robin (demo)"
    assert records[0]["staff"] == ["Alex Demo", "Jordan Demo"]
    answers = records[0]["debriefs"][0]["answers"]
    assert answers["describe"]["value"] == "We guided her to the sofa and held her arms seated"
    assert answers["hold_types"]["value"] == ["seated"]
    csv_out = subprocess.run([sys.executable, "-m", "bot.cli", "export", "--format", "csv"],
                             capture_output=True, text=True, env=flourish_env, timeout=60, check=True)
    assert "We guided her to the sofa" in csv_out.stdout
    assert csv_out.stdout.count("\n") == 1 + len(answers)
