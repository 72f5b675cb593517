"""An update python-telegram-bot cannot read must not wedge the bot or leak into the logs.

Through the Bot API stand-in: an update PTB cannot turn into an `Update` (a message without its
date, a button press without its chat instance) used to stop polling for good, with every poll
logging the whole batch, other people's messages included, at CRITICAL. Now it is skipped by its
id, with one log line that names only the id, and the person's next message is answered. A
getUpdates answer that is not JSON at all (a proxy cutting it short) is fetched again, and its
text is never logged either.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from support.botapi_standin import BotApiStandIn
from support.telegram_fixtures import Home, enrol, settle

from bot.telegram.app import quiet_loggers
from storage import crud
from storage.db import session_scope

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
SECRET = "Robin Quill-O'Hara bit my arm on the stairs"  # synthetic words a log must never hold


def _texts(calls: list[Any]) -> list[str]:
    return [str(c.params.get("text", "")) for c in calls if c.method == "sendMessage"]


@pytest.fixture
def production_logging(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log line at INFO and above, with the loggers set as `flourish run` sets them."""
    quiet_loggers()
    caplog.set_level(logging.INFO)
    return caplog


async def test_an_update_ptb_cannot_read_is_skipped_and_the_bot_goes_on_answering(
    production_logging: pytest.LogCaptureFixture, standin: BotApiStandIn, running_app: Any,
    home: Home,
) -> None:
    staff = await enrol(standin, home.staff[0], 7_450_231, "Niamh D'Arcy")
    chat = {"id": staff.id, "type": "private", "first_name": staff.first_name}
    mark = standin.mark()
    undated = standin.inject({"message": {  # no "date": PTB raises KeyError reading it
        "message_id": standin.new_message_id(), "chat": chat, "from": staff.tg_user,
        "text": SECRET}})
    chatless = standin.inject({"callback_query": {  # no "chat_instance": a TypeError
        "id": "cq-1", "from": staff.tg_user, "data": "wellbeing|v:ok"}})
    staff.send("/help")
    calls = await settle(standin, mark, within=20)

    assert any(t.startswith("I help you reflect") for t in _texts(calls)), _texts(calls)
    with session_scope() as session:  # skipped, and known as done: never replayed
        assert crud.update_seen(session, update_id=undated["update_id"])
        assert crud.update_seen(session, update_id=chatless["update_id"])
    skipped = [r.getMessage() for r in production_logging.records if "could not be read" in
               r.getMessage()]
    assert skipped == [f"update {undated['update_id']} could not be read (KeyError); skipped",
                       f"update {chatless['update_id']} could not be read (TypeError); skipped"]
    assert SECRET not in production_logging.text
    assert not [r for r in production_logging.records if r.levelno >= logging.CRITICAL]


async def test_a_getupdates_answer_that_is_not_json_is_fetched_again_and_never_logged(
    production_logging: pytest.LogCaptureFixture, standin: BotApiStandIn, running_app: Any,
    home: Home,
) -> None:
    staff = await enrol(standin, home.staff[1], 7_450_232, "Tomás Ó Briain")
    broken = ('{"ok": true, "result": [{"update_id": 90, "message": {"text": "' + SECRET
              + '", "chat": {"id": 7450232').encode()
    mark = standin.mark()
    standin.fail("getUpdates", raw=broken)
    await standin.await_for(lambda c: c.method == "getUpdates", since=mark, within=10)
    started = time.monotonic()
    staff.send("/help")
    calls = await settle(standin, mark, within=40)

    assert any(t.startswith("I help you reflect") for t in _texts(calls)), _texts(calls)
    assert time.monotonic() - started < 35
    assert SECRET not in production_logging.text
    assert "could not be read" not in production_logging.text  # retried, not skipped
