"""The child's view through its services, on SQLite and PostgreSQL: self-service with emoji
buttons, skips and a kind stop; alerts at once for "it hurt" and "I want to talk"; assisted."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from bot.services.child_views import AssistedViewService, ChildViewService
from dialogues.engine import Inbound
from storage import crud
from storage import reviews as store
from storage.db import session_scope
from storage.models import ChildView, FollowUp, Incident
from storage.types import utcnow

from .conftest import Home


def an_incident(home: Home, *, child_id: int | None = None) -> int:
    with session_scope() as s:
        incident = crud.create_incident(s, setting_id=home.setting_id,
                                        child_id=child_id or home.child_id, occurred_at=utcnow(),
                                        reported_by_id=home.staff[0].id or 0, staff_ids=[])
        assert incident.id is not None
        return incident.id


def press(service: ChildViewService | AssistedViewService, home_person: object, payload: str):  # type: ignore[no-untyped-def]
    with session_scope() as s:
        return service.handle(s, person=home_person, inbound=Inbound.pressed(payload))  # type: ignore[arg-type]


def alerts() -> list[FollowUp]:
    with session_scope() as s:
        return list(s.exec(select(FollowUp).where(FollowUp.kind == "safeguarding_alert")))


def test_a_child_tells_their_view_with_buttons_and_a_hurt_alerts_at_once(home: Home) -> None:
    incident_id = an_incident(home)
    service = ChildViewService()
    child = home.child_user
    with session_scope() as s:
        reply = service.open(s, person=child)
    intro, first = reply.messages
    assert "You can stop at any time" in intro.text
    assert first.question_id == "feel_now"
    labels = [b.label for row in first.buttons for b in row]
    assert "😢 Sad" in labels
    assert labels[-3:] == ["⬅️ Back", "⏭️ Skip", "🛑 Stop"]
    press(service, child, "feel_now|v:sad")
    press(service, child, "before|v:too_loud")
    press(service, child, "before_words|c:skip")
    press(service, child, "calm|v:music")
    assert alerts() == []
    reply = press(service, child, "hurt|v:yes")
    assert "A grown-up will come" in reply.messages[0].text
    raised = alerts()
    assert {a.person_id for a in raised} == {home.manager.id, home.staff[0].id}  # manager, key worker
    assert all(a.urgent and a.incident_id == incident_id for a in raised)
    assert raised[0].detail["reasons"] == ["something_hurt"]
    with session_scope() as s:  # typing works too, and nothing is saved until the end
        service.handle(s, person=child, inbound=Inbound.typed("my arm"))
        assert s.exec(select(ChildView)).first() is None
    press(service, child, "different|v:gentle")
    reply = press(service, child, "talk|v:no")
    assert reply.messages[-1].question_id == "anything_else"
    with session_scope() as s:
        reply = service.handle(s, person=child, inbound=Inbound.typed("I want my blanket"))
    assert reply.status == "submitted"
    assert reply.messages[-1].text.startswith("Thank you for telling me.")
    assert len(alerts()) == 2  # no repeat
    with session_scope() as s:
        view = s.exec(select(ChildView)).one()
        assert (view.mode, view.incident_id, view.child_id) == ("self", incident_id, home.child_id)
        assert view.recorded_by_id == child.id
        assert view.choices == {"feel_now": "sad", "before": "too_loud", "calm": "music",
                                "hurt": "yes", "different": "gentle", "talk": "no"}
        assert view.alerts == ["something_hurt"]
        assert not view.ended_early
        answers = store.child_view_answers(view)
        assert answers["hurt_where"]["value"] == "my arm"
        assert answers["before_words"]["status"] == "skipped"
        raw = s.connection().execute(sa.text("SELECT answers FROM childview")).scalar_one()
        assert "blanket" not in raw


def test_stop_ends_it_kindly_and_keeps_what_was_said(home: Home) -> None:
    an_incident(home)
    service = ChildViewService()
    child = home.child_user
    with session_scope() as s:
        service.open(s, person=child)
    press(service, child, "feel_now|v:cross")
    with session_scope() as s:
        reply = service.handle(s, person=child, inbound=Inbound.typed("stop"))
    assert reply.status == "submitted"
    assert reply.messages[0].text.startswith("That is OK. We can stop now. Thank you.")
    with session_scope() as s:
        view = s.exec(select(ChildView)).one()
        assert view.ended_early
        assert view.choices == {"feel_now": "cross"}
        again = service.open(s, person=child)
    assert "nothing to do here now" in again.messages[0].text


def test_asking_to_talk_alerts_key_worker_and_manager(home: Home) -> None:
    an_incident(home)
    service = ChildViewService()
    child = home.child_user
    with session_scope() as s:
        service.open(s, person=child)
    for payload in ("feel_now|c:skip", "before|c:skip", "before_words|c:skip", "calm|c:skip",
                    "hurt|v:no", "different|c:skip"):
        press(service, child, payload)
    assert alerts() == []
    reply = press(service, child, "talk|v:yes")
    assert "I will tell a grown-up now" in reply.messages[0].text
    assert reply.messages[-1].question_id == "talk_who"
    labels = [b.label for row in reply.messages[-1].buttons for b in row]
    assert "🧑‍💼 The boss of the home" in labels
    assert "🧑‍💼 The head teacher" not in labels  # a children's home, not a school
    assert {a.person_id for a in alerts()} == {home.manager.id, home.staff[0].id}
    assert alerts()[0].detail["reasons"] == ["child_asked_to_talk"]


def test_a_child_with_nothing_to_tell_gets_a_kind_word(home: Home) -> None:
    with session_scope() as s:
        reply = ChildViewService().open(s, person=home.child_user)
    assert reply.status == "none"
    assert "You can talk to a grown-up any time" in reply.messages[0].text


def test_staff_record_a_childs_view_with_them(home: Home) -> None:
    incident_id = an_incident(home)
    service = AssistedViewService()
    staff = home.staff[1]
    with session_scope() as s:
        choose = service.open(s, person=staff)
    assert choose.messages[0].buttons[0][0].payload == f"cva:start:{incident_id}"
    assert "Robin (test)" in choose.messages[0].buttons[0][0].label
    with session_scope() as s:
        reply = service.open(s, person=staff, incident_id=incident_id)
    assert "Recording Robin (test)'s view" in reply.messages[0].text
    assert reply.messages[-1].question_id == "gathered_how"
    for text in ("signs, behaviour", "Me, someone else", "their advocate", "3",
                 "Signed 'angry' and 'noise' before", "Ear defenders and the quiet room",
                 "no", "Signed 'wait' and 'space'"):
        with session_scope() as s:
            reply = service.handle(s, person=staff, inbound=Inbound.typed(text))
    assert reply.messages[-1].question_id == "talk"
    with session_scope() as s:
        reply = service.handle(s, person=staff, inbound=Inbound.typed("1"))
    assert "alerted" in reply.messages[0].text
    assert {a.person_id for a in alerts()} == {home.manager.id, home.staff[0].id}
    for text in ("their key worker", "Drew a sad face, then a sun"):
        with session_scope() as s:
            reply = service.handle(s, person=staff, inbound=Inbound.typed(text))
    assert reply.messages[-1].kind == "summary"
    with session_scope() as s:
        reply = service.handle(s, person=staff, inbound=Inbound.pressed("summary|submit"))
    assert reply.status == "submitted"
    with session_scope() as s:
        view = s.exec(select(ChildView)).one()
        assert (view.mode, view.recorded_by_id, view.incident_id) == ("assisted", staff.id,
                                                                     incident_id)
        assert view.choices["gathered_how"] == ["signs", "behaviour"]
        assert view.choices["feel_now"] == "sad"
        assert view.alerts == ["child_asked_to_talk"]
        answers = store.child_view_answers(view)
        assert answers["supporters"]["value"] == [str(staff.id), "other"]
        assert answers["supporter_other"]["value"] == "their advocate"
        assert answers["child_words"]["value"] == "Drew a sad face, then a sun"
        incident = s.get(Incident, incident_id)
        assert incident is not None
