"""The manager sees the child's own words in the review, on SQLite and PostgreSQL: the child's
view (own, and recorded with them) beside the staff accounts, where the accounts disagree (place,
injury, what the child said against what staff said), and the review a "something hurt" alert
opens shows what the child said."""

from __future__ import annotations

from support.debriefs import walk_debrief

from bot.services.child_views import ChildViewService
from bot.services.conversations import Conversations
from dialogues.engine import Inbound
from storage.db import session_scope

from .conftest import DEBRIEF_ANSWERS, Home


def child_says(home: Home, steps: list[tuple[str, str]]) -> None:
    """The child's own view through /tell: ("press", payload) or ("type", words)."""
    service = ChildViewService()
    with session_scope() as s:
        service.open(s, person=home.child_user)
    for how, what in steps:
        inbound = Inbound.pressed(what) if how == "press" else Inbound.typed(what)
        with session_scope() as s:
            service.handle(s, person=home.child_user, inbound=inbound)


def test_the_review_shows_the_childs_words_and_where_accounts_differ(home: Home) -> None:
    first = walk_debrief(home.staff[0], DEBRIEF_ANSWERS, colleagues="Jordan Test")
    walk_debrief(home.staff[1], {**DEBRIEF_ANSWERS, "child_experience": "She said nothing and hid"})
    assert first.incident_id is not None
    child_says(home, [("press", "feel_now|v:sad"), ("press", "before|v:too_loud"),
                      ("type", "they shouted at me first"), ("press", "calm|v:music"),
                      ("press", "hurt|v:yes"), ("type", "my wrist where they held it"),
                      ("type", "stop")])
    conversations = Conversations()
    with session_scope() as s:  # the manager taps "Review now" on the "something hurt" alert
        reply = conversations.open_task(s, person_id=home.manager.id or 0, task="safeguarding",
                                        incident_id=first.incident_id)
    texts = [m.text for m in reply.messages]
    (view,) = [t for t in texts if t.startswith("The child's view")]
    assert "Robin (test)'s own view, on their phone (they chose to stop early)" in view
    assert "they shouted at me first" in view
    assert "my wrist where they held it" in view
    assert "Where the accounts differ (to look into, not a judgement):" in view
    assert ("• Injury: Robin (test) said something hurt; Alex, Jordan recorded no injury to the "
            "child.") in view
    assert ("• What Robin (test) said: they shouted at me first / my wrist where they held it — "
            "and what staff say Robin (test) said or showed: Alex: She said we were rough; "
            "Jordan: She said nothing and hid") in view
    side = next(t for t in texts if t.startswith("Side by side"))
    assert texts.index(side) + 1 == texts.index(view)  # beside the staff accounts


def test_a_review_without_the_childs_view_says_how_to_get_it(home: Home) -> None:
    walk_debrief(home.staff[0], DEBRIEF_ANSWERS)
    with session_scope() as s:
        reply = Conversations().command(s, person_id=home.manager.id or 0, name="review")
    (view,) = [m.text for m in reply.messages if m.text.startswith("The child's view")]
    assert "Robin (test)'s view is not recorded yet. {Send:childview}" in view  # the channel says it
    assert "differ" not in view


def test_two_staff_who_give_different_places_are_shown_side_by_side_and_as_a_difference(
        home: Home) -> None:
    first = walk_debrief(home.staff[0], DEBRIEF_ANSWERS, colleagues="Jordan Test")
    walk_debrief(home.staff[1], {**DEBRIEF_ANSWERS, "location": "corridor"})
    assert first.incident_id is not None
    with session_scope() as s:
        reply = Conversations().command(s, person_id=home.manager.id or 0, name="review")
    texts = [m.text for m in reply.messages]
    side = next(t for t in texts if t.startswith("Side by side")).splitlines()
    where = side.index("Where")
    assert side[where + 1:where + 3] == ["• Alex: Lounge / kitchen / dining",
                                         "• Jordan: Corridor or stairs"]
    (view,) = [t for t in texts if t.startswith("The child's view")]
    assert "Where the accounts differ (to look into, not a judgement):" in view
    assert "• Where: Alex: Lounge / kitchen / dining; Jordan: Corridor or stairs" in view


def test_two_staff_who_give_the_same_place_show_it_once_and_no_difference(home: Home) -> None:
    walk_debrief(home.staff[0], DEBRIEF_ANSWERS, colleagues="Jordan Test")
    walk_debrief(home.staff[1], DEBRIEF_ANSWERS)
    with session_scope() as s:
        reply = Conversations().command(s, person_id=home.manager.id or 0, name="review")
    texts = [m.text for m in reply.messages]
    side = next(t for t in texts if t.startswith("Side by side")).splitlines()
    where = side.index("Where")
    assert side[where + 1] == "• Alex, Jordan: Lounge / kitchen / dining"
    (view,) = [t for t in texts if t.startswith("The child's view")]
    assert "• Where:" not in view
