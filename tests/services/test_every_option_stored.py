"""Every option of every choice question in the staff debrief, pressed once, read back from the
stored record, through the service on SQLite and PostgreSQL, in settings whose ids are not 1..n."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.services.debriefs import DebriefService
from dialogues.engine import Inbound
from dialogues.flow import Question, QuestionType, load_flow
from storage import crud
from storage.db import session_scope
from storage.models import (
    Answer,
    ChildCreate,
    Debrief,
    Incident,
    IncidentStaff,
    Person,
    PersonCreate,
    Role,
    Setting,
    SettingCreate,
    SettingKind,
)
from storage.types import utcnow

FLOW = load_flow("staff_debrief")
CHOICES = (QuestionType.choice, QuestionType.multi_choice, QuestionType.yes_no)


@dataclass
class Pressed:
    """What one debrief pressed, by question id, and the words typed at follow-ups."""

    values: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


def _setting(session: Session, *, name: str, kind: SettingKind) -> tuple[Person, list[str]]:
    """A setting with a staff member, a colleague, and children added among another setting's."""
    decoy = crud.create_setting(session, data=SettingCreate(name=f"{name}'s neighbour (test)",
                                                            kind=SettingKind.children_home))
    setting = crud.create_setting(session, data=SettingCreate(name=name, kind=kind))
    assert setting.id is not None
    assert decoy.id is not None
    for child_name, setting_id in (("Zed A'Court", decoy.id), ("Jay O'Brien", setting.id),
                                   ("Mo D'Arcy", decoy.id), ("Ada Ní Bhriain", setting.id),
                                   ("Lou Test", decoy.id), ("Bea O'Hara", setting.id)):
        crud.create_child(session, data=ChildCreate(setting_id=setting_id, display_name=child_name))
    crud.create_person(session, data=PersonCreate(setting_id=decoy.id, display_name="Al Decoy",
                                                  role=Role.staff))
    person = crud.create_person(session, data=PersonCreate(
        setting_id=setting.id, display_name="Sam D'Souza", role=Role.staff))
    crud.create_person(session, data=PersonCreate(setting_id=setting.id,
                                                  display_name="Lee O'Connor", role=Role.staff))
    crud.create_person(session, data=PersonCreate(setting_id=setting.id,
                                                  display_name="Pat Manager", role=Role.manager))
    children = [str(c.id) for c in crud.list_children(session, setting_id=setting.id)]
    return person, children


def _options(question: Question, context: dict[str, Any]) -> list[str]:
    if question.type is QuestionType.yes_no:
        return ["yes", "no"]
    if question.options_from:
        return [o["value"] for o in context["options"][question.options_from]]
    kind = context["setting_kind"]
    return [o.value for o in question.options
            if o.when is None or o.when.setting_kind_in is None or kind in o.when.setting_kind_in]


def _debrief(service: DebriefService, person: Person, round_: int) -> tuple[Pressed, int]:
    """One debrief pressing option `round_` of each choice question (every intervention, so that
    every question about them is asked); everything else skipped. Returns the debrief id."""
    pressed = Pressed()
    with session_scope() as session:
        reply = service.start_or_resume(session, person=person, new=True)
        context = service._context(session, person=person, setting=_setting_of(session, person))
    for _ in range(80):
        question_id = reply.messages[-1].question_id
        if question_id is None:
            break
        question = FLOW.question(question_id)
        steps: list[Inbound] = []
        if question.type in CHOICES:
            options = _options(question, context)
            chosen = options[round_ % len(options)]
            if question.type is QuestionType.multi_choice:
                ticks = options if question.id == "interventions" else [chosen]
                steps = [Inbound.pressed(f"{question.id}|t:{v}") for v in ticks]
                steps.append(Inbound.pressed(f"{question.id}|done"))
                pressed.values[question.id] = ticks
            else:
                steps = [Inbound.pressed(f"{question.id}|v:{chosen}")]
                pressed.values[question.id] = (chosen == "yes") if question.type is \
                    QuestionType.yes_no else chosen
        elif question.note_for:
            words = f"in my own words, round {round_}"
            steps = [Inbound.typed(words)]
            pressed.notes[question.note_for] = words
        elif question.required:
            steps = [Inbound.typed("last friday")]
        else:
            steps = [Inbound.pressed(f"{question.id}|c:skip")]
        for inbound in steps:
            with session_scope() as session:
                reply = service.handle(session, person=person, inbound=inbound)
    with session_scope() as session:
        reply = service.handle(session, person=person, inbound=Inbound.pressed("summary|submit"))
    assert reply.record_id is not None, [m.text for m in reply.messages]
    return pressed, reply.record_id


def _setting_of(session: Session, person: Person) -> Setting:
    setting = session.get(Setting, person.setting_id)
    assert setting is not None
    return setting


def test_every_option_of_every_choice_question_is_stored_as_pressed(
        flourish_env: dict[str, str], db_engine: Engine) -> None:
    service = DebriefService()
    seen: dict[str, set[str]] = {}
    for name, kind in (("St Mary's (test)", SettingKind.secure_children_home),
                       ("Oak's School (test)", SettingKind.school)):
        with session_scope() as session:
            person, children = _setting(session, name=name, kind=kind)
        assert children != [str(i) for i in range(1, len(children) + 1)]
        for round_ in range(10):
            pressed, debrief_id = _debrief(service, person, round_)
            with Session(db_engine) as session:
                rows = {a.question_id: a for a in session.exec(
                    select(Answer).where(Answer.debrief_id == debrief_id))}
                debrief = session.get(Debrief, debrief_id)
                incident = session.get(Incident, debrief.incident_id) if debrief else None
                staff = set(session.exec(select(IncidentStaff.person_id).where(
                    IncidentStaff.incident_id == (incident.id if incident else 0))))
            assert incident is not None
            for question_id, value in pressed.values.items():
                assert rows[question_id].value == value, (question_id, round_)
                for one in value if isinstance(value, list) else [value]:
                    seen.setdefault(question_id, set()).add(str(one))
            assert incident.child_id == int(pressed.values["child"])
            colleagues = {int(v) for v in pressed.values.get("other_staff", []) if v != "none"}
            assert staff == {person.id, *colleagues}
            for question_id, words in pressed.notes.items():
                assert rows[f"{question_id}.note"].text == words
    for question in FLOW.questions:
        if question.type in CHOICES and not question.options_from:
            wanted = {o.value for o in question.options} if question.options else {"True", "False"}
            assert wanted <= seen.get(question.id, set()), question.id


REVIEW = load_flow("manager_review")


def _shown(reply: Any, question_id: str, kind: str) -> list[str]:
    """The option values on the question's buttons, in the order shown."""
    prefix = f"{question_id}|{kind}:"
    return [b.payload.removeprefix(prefix) for m in reply.messages for row in m.buttons
            for b in row if b.payload.startswith(prefix)]


def test_every_option_of_every_review_question_is_stored_as_pressed(
        flourish_env: dict[str, str], db_engine: Engine) -> None:
    from bot.services.reviews import ReviewService
    from storage.reviews import actions_of, review_answers, signed_review

    service = ReviewService()
    with session_scope() as session:
        staff, children = _setting(session, name="Ash's House (test)",
                                   kind=SettingKind.children_home)
        manager = next(p for p in crud.list_people(session, setting_id=staff.setting_id,
                                                   roles=(Role.manager,)))
    seen: dict[str, set[str]] = {}
    for round_ in range(6):
        with session_scope() as session:
            incident = crud.create_incident(
                session, setting_id=staff.setting_id, child_id=int(children[round_ % len(children)]),
                occurred_at=utcnow() - timedelta(hours=3), reported_by_id=staff.id or 0,
                staff_ids=[])
            incident_id = incident.id or 0
            reply = service.open(session, person=manager, incident_id=incident_id)
        pressed: dict[str, Any] = {}
        for _ in range(80):
            question_id = reply.messages[-1].question_id
            if question_id is None:
                break
            question = REVIEW.question(question_id)
            if question.type is QuestionType.multi_choice:
                shown = _shown(reply, question_id, "t")
                chosen = [shown[round_ % len(shown)]]
                steps = [Inbound.pressed(f"{question_id}|t:{chosen[0]}"),
                         Inbound.pressed(f"{question_id}|done")]
                pressed[question_id] = chosen
            elif question.type in (QuestionType.choice, QuestionType.yes_no):
                shown = _shown(reply, question_id, "v")
                chosen_one = shown[round_ % len(shown)]
                steps = [Inbound.pressed(f"{question_id}|v:{chosen_one}")]
                pressed[question_id] = (chosen_one == "yes") if question.type is \
                    QuestionType.yes_no else chosen_one
            elif question_id.startswith("action_"):
                steps = [Inbound.typed(f"Action {question_id[-1]} of round {round_}")]
            else:
                steps = [Inbound.pressed(f"{question_id}|c:skip")]
            for inbound in steps:
                with session_scope() as session:
                    reply = service.handle(session, person=manager, inbound=inbound)
        with session_scope() as session:
            reply = service.handle(session, person=manager, inbound=Inbound.pressed("summary|submit"))
        with Session(db_engine) as session:
            review = signed_review(session, incident_id=incident_id)
            assert review is not None, round_
            answers = review_answers(review)
            actions = actions_of(session, review_id=review.id or 0)
            for question_id, value in pressed.items():
                assert answers[question_id]["value"] == value, (question_id, round_)
                for one in value if isinstance(value, list) else [value]:
                    seen.setdefault(question_id, set()).add(str(one))
            owners = [int(pressed[f"action_{n}_owner"]) for n in (1, 2, 3)]
            days = [int(pressed[f"action_{n}_due"]) for n in (1, 2, 3)]
            mine = [a for a in actions if a.description.startswith("Action ")]
            assert [a.owner_id for a in mine] == owners
            assert [round((a.due_at - review.signed_at).total_seconds() / 86400) for a in mine] == days  # type: ignore[operator]
    for question in REVIEW.questions:
        if question.type in CHOICES and not question.options_from and question.id in seen:
            wanted = {o.value for o in question.options} if question.options else {"True", "False"}
            assert wanted <= seen[question.id], question.id
    asked = {q for q in seen}
    assert {"legal_necessary", "restorative", "notifiable", "action_1_owner", "action_1_due",
            "plans_to_review"} <= asked
