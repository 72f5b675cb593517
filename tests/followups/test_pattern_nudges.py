"""The insights in the nudges, through the real python-telegram-bot stack to the Bot API stand-in:
a manager's review nudge names the pattern the new incident raises, and the weekly digest carries
the setting's patterns and one chart (a PNG sent after the summary)."""

from __future__ import annotations

from datetime import timedelta

from followup_helpers import MANAGER_1, FakeClock, House, sends, utc
from support.botapi_standin import BotApiStandIn
from telegram import Bot

from bot.followups import planner
from bot.followups.scheduler import FollowUpScheduler
from bot.services.demo_history import generate
from bot.services.insights_view import nudge_patterns
from bot.telegram.followups import TelegramSender
from storage import crud
from storage.db import get_engine, session_scope


async def test_a_new_pattern_is_in_the_review_nudge_and_the_digest_has_a_chart(
        house: House, standin: BotApiStandIn, standin_bot: Bot) -> None:
    t0 = utc(2026, 3, 27, 14, 0)  # a Friday; the digest goes on Monday at 09:00 BST
    with session_scope() as s:
        history = generate(s, setting_id=house.setting_id, months=2, now=t0 - timedelta(hours=1))
    jay = history.children["Jay O'Neill (demo)"]
    clock = FakeClock(t0 + timedelta(minutes=30))
    scheduler = FollowUpScheduler(engine=get_engine(), sender=TelegramSender(standin_bot),
                                  clock=clock, patterns=nudge_patterns)
    try:
        with session_scope() as s:
            incident = crud.create_incident(s, setting_id=house.setting_id, child_id=jay,
                                            occurred_at=t0, reported_by_id=house.staff[0],
                                            staff_ids=[house.staff[1]])
            debrief = crud.save_debrief(s, incident=incident, person_id=house.staff[0],
                                        flow_id="staff_debrief", answers=[], flags=[])
            planner.after_submit(s, incident=incident, person_id=house.staff[0],
                                 debrief_id=debrief.id, now=clock.now)
        mark = standin.mark()
        await scheduler.tick()
        (nudge,) = [c.params["text"] for c in sends(standin, mark)
                    if c.params["chat_id"] == MANAGER_1 and "ready for your review" in
                    c.params["text"]]
        assert "This incident is part of a pattern:" in nudge
        assert "Jay O'Neill (demo) has had 6 incidents in the last 28 days." in nudge
        clock.now = utc(2026, 3, 30, 8, 0)
        mark = standin.mark()
        await scheduler.tick()
        calls = standin.since(mark)
        (digest,) = [c for c in calls if c.method == "sendMessage"
                     and c.params["chat_id"] == MANAGER_1 and "Weekly summary" in c.params["text"]]
        assert "Patterns across incidents:" in digest.params["text"]
        assert "Jay O'Neill (demo)" in digest.params["text"]
        photos = [c for c in calls if c.method == "sendPhoto" and c.params["chat_id"] == MANAGER_1]
        assert len(photos) == 1, "one chart with the digest"
        assert photos[0].files, "the chart is uploaded as a file"
        assert calls.index(photos[0]) > calls.index(digest), "the chart follows its summary"
    finally:
        scheduler.leadership.release()
