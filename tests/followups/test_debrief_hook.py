"""The hook in `DebriefService`: a submitted debrief plans the follow-ups, and a colleague's own
debrief cancels the reminders they were owed (through the real flow, on SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlmodel import select
from support.debriefs import walk_debrief

from bot.services.demo import seed_demo
from storage import crud
from storage import followups as store
from storage.db import session_scope
from storage.models import FollowUp, Role

ANSWERS = {
    "wellbeing": "2", "incident_day": "yesterday", "incident_time": "7pm", "location": "communal",
    "interventions": "1, 2", "communication": "She'd had a phone call from home and was pacing",
    "triggers": "4,5", "tried_first": "1, 2, 3", "necessity": "2",
    "describe": "We guided her to the sofa and held her arms seated", "noted_confirm": "yes",
    "child_injured": "no", "staff_injured": "no", "ending": "She cried then asked for her blanket",
    "child_experience": "She said we were too rough", "least_restrictive": "2",
    "next_time": "Give her time after calls home",
}


def _debrief(person_id: int, *, colleagues: str) -> int | None:
    with session_scope() as session:
        person = crud.get_person(session, person_id=person_id)
        assert person is not None
    return walk_debrief(person, ANSWERS, child_label="Robin (demo)", colleagues=colleagues).incident_id


def test_submitting_a_debrief_plans_follow_ups_and_a_colleagues_debrief_cancels_theirs(
    flourish_env: dict[str, str]
) -> None:
    with session_scope() as session:
        setting_id = seed_demo(session)
        alex, jordan = crud.list_people(session, setting_id=setting_id, roles=(Role.staff,))
        morgan = crud.list_people(session, setting_id=setting_id, roles=(Role.manager,))[0]
    assert alex.id
    assert jordan.id
    assert morgan.id
    incident_id = _debrief(alex.id, colleagues="Jordan Demo")
    assert incident_id is not None
    with session_scope() as session:
        rows = list(session.exec(select(FollowUp).where(FollowUp.incident_id == incident_id)))
    planned = {(r.kind, r.person_id) for r in rows}
    assert ("review_nudge", morgan.id) in planned
    assert ("review_escalation", morgan.id) in planned  # the only manager, so it comes to them
    assert ("debrief_reminder", jordan.id) in planned
    assert ("childview_prompt", alex.id) in planned  # Alex is the children's key worker
    assert ("reflection", alex.id) in planned
    assert not any(kind == "debrief_reminder" and pid == alex.id for kind, pid in planned)

    # Jordan debriefs the same incident (the flow offers it first): their reminders stop.
    # (No child, day, time, place or colleagues to ask: the incident is known.)
    _debrief(jordan.id, colleagues="none")
    with session_scope() as session:
        owed = store.open_followups(session, incident_id=incident_id,
                                    kinds=["debrief_reminder", "debrief_overdue"])
        again = list(session.exec(select(FollowUp).where(
            FollowUp.incident_id == incident_id, FollowUp.kind == "review_nudge")))
    assert owed == []
    assert len(again) == 1  # planning is idempotent: one review nudge per incident
