"""One catalogue of flags and alerts (nlu/catalogue.py): every flag the NLU can raise has words for
staff; safeguarding alerts come from it; a child hurt alerts the managers from the debrief's facts."""

from __future__ import annotations

import pytest
from sqlmodel import select
from support.debriefs import walk_debrief

from dialogues.flow import Option, load_flow
from nlu import catalogue
from nlu.flags import FLAG_NAMES
from storage.db import session_scope
from storage.models import FollowUp

from .conftest import DEBRIEF_ANSWERS, Home


def test_every_flag_has_words_for_staff_and_only_force_that_hurts_or_punishes_is_unlawful() -> None:
    assert all(catalogue.BY_NAME[name].staff_text for name in FLAG_NAMES)
    assert catalogue.staff_text("prone_or_ground_hold") == "a prone or floor hold was used"
    assert catalogue.urgent(FLAG_NAMES) == ["pain_inflicted", "unapproved_technique",
                                            "used_as_punishment"]
    assert catalogue.unlawful(["pain_inflicted"])
    assert not catalogue.unlawful(["unapproved_technique"])


def test_a_childs_answer_that_alerts_is_named_in_the_flow_and_known_to_the_catalogue() -> None:
    marked = {(q.id, o.value, o.alert) for q in load_flow("child_view").questions
              for o in q.options if o.alert}
    assert marked == {("hurt", "yes", "something_hurt"), ("talk", "yes", "child_asked_to_talk")}
    with pytest.raises(ValueError, match="unknown alert"):
        Option(value="yes", label="Yes", alert="a_name_nobody_defined")


def test_a_child_hurt_in_a_debrief_alerts_the_manager_at_once(home: Home) -> None:
    reply = walk_debrief(home.staff[0], {**DEBRIEF_ANSWERS, "child_injured": "yes"})
    assert reply.status == "submitted"
    with session_scope() as s:
        alerts = s.exec(select(FollowUp).where(FollowUp.kind == "safeguarding_alert")).all()
    assert {a.person_id for a in alerts} == {home.manager.id}
    assert alerts[0].urgent
    assert alerts[0].detail["reasons"] == ["child_injury"]


def test_no_alert_when_nobody_was_hurt(home: Home) -> None:
    walk_debrief(home.staff[0], DEBRIEF_ANSWERS)
    with session_scope() as s:
        assert s.exec(select(FollowUp).where(FollowUp.kind == "safeguarding_alert")).all() == []
