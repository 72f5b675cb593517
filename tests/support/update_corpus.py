"""Every kind of update the Bot API can send (`Update.ALL_TYPES`), and every kind of message, as
Telegram would send them, for one person in their private chat with the bot: the bad-input corpus.

Each `Case` says what should come of it: `answer` (a clear reply in the person's chat),
`ignored` (nothing is sent to anyone), or `leave` (a reply in that group, then the bot leaves).
Ids are not 1..n, names are synthetic and have apostrophes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from support.botapi_standin import BotApiStandIn, FakeUser

Expect = Literal["answer", "ignored", "leave"]
GROUP = {"id": -100_400_731, "type": "supergroup", "title": "Staff room at St Aidan's"}
CHANNEL = {"id": -100_500_219, "type": "channel", "title": "Oak House news"}


@dataclass(frozen=True)
class Case:
    """One update to send, its name, and what should come of it."""

    name: str
    update: dict[str, Any]
    expect: Expect
    update_type: str  # the key in the update (its `Update.ALL_TYPES` member)


def _message(api: BotApiStandIn, user: FakeUser, chat: dict[str, Any] | None = None,
             **content: Any) -> dict[str, Any]:
    chat = chat or {"id": user.id, "type": "private", "first_name": user.first_name}
    return {"message_id": api.new_message_id(), "date": int(time.time()), "chat": chat,
            "from": user.tg_user, **content}


MESSAGE_KINDS: dict[str, dict[str, Any]] = {
    "sticker": {"sticker": {"file_id": "stk-91", "file_unique_id": "stk-91", "type": "regular",
                            "width": 512, "height": 512, "is_animated": False,
                            "is_video": False, "emoji": "🙂"}},
    "photo": {"photo": [{"file_id": "ph-92", "file_unique_id": "ph-92", "width": 90,
                         "height": 90}], "caption": "the stairs"},
    "voice": {"voice": {"file_id": "vc-93", "file_unique_id": "vc-93", "duration": 12}},
    "video_note": {"video_note": {"file_id": "vn-94", "file_unique_id": "vn-94", "length": 240,
                                  "duration": 5}},
    "video": {"video": {"file_id": "vd-95", "file_unique_id": "vd-95", "width": 1, "height": 1,
                        "duration": 1}},
    "audio": {"audio": {"file_id": "au-96", "file_unique_id": "au-96", "duration": 30}},
    "animation": {"animation": {"file_id": "an-97", "file_unique_id": "an-97", "width": 1,
                                "height": 1, "duration": 1}},
    "location": {"location": {"latitude": 53.48, "longitude": -2.24}},
    "venue": {"venue": {"location": {"latitude": 53.48, "longitude": -2.24},
                        "title": "St Aidan's", "address": "1 Test Street"}},
    "contact": {"contact": {"phone_number": "+447700900123", "first_name": "Bríd",
                            "last_name": "O'Hare"}},
    "dice": {"dice": {"emoji": "🎲", "value": 4}},
    "document": {"document": {"file_id": "dc-98", "file_unique_id": "dc-98",
                              "file_name": "incident notes.pdf"}},
    "poll message": {"poll": {"id": "poll-99", "question": "Who's on lates?", "options": [
        {"persistent_id": "opt-1", "text": "Me", "voter_count": 0}], "total_voter_count": 0,
        "is_closed": False, "is_anonymous": True, "type": "regular", "allows_multiple_answers": False,
        "allows_revoting": False, "members_only": False}},
    "pinned (a service message)": {"pinned_message": {
        "message_id": 3, "date": 0, "chat": {"id": 0, "type": "private"}}},
    "auto-delete timer changed (a service message)": {
        "message_auto_delete_timer_changed": {"message_auto_delete_time": 86400}},
}


def corpus(api: BotApiStandIn, user: FakeUser, earlier: dict[str, Any]) -> list[Case]:
    """Every update type and every kind of message, from `user` (and `earlier`, one of their
    messages, to edit and react to)."""
    now = int(time.time())
    private = {"id": user.id, "type": "private", "first_name": user.first_name}
    bot = api.bot_user()
    me = user.tg_user

    def case(name: str, update_type: str, body: dict[str, Any], expect: Expect) -> Case:
        return Case(name, {update_type: body}, expect, update_type)

    cases = [case(f"message: {kind}", "message", _message(api, user, **content),
                  "ignored" if "service message" in kind else "answer")
             for kind, content in MESSAGE_KINDS.items()]
    cases += [
        case("message: forwarded text", "message", _message(
            api, user, text="Can you cover Saturday's late?", forward_origin={
                "type": "hidden_user", "sender_user_name": "Ciarán", "date": now - 60}),
             "answer"),
        case("message: very long", "message", _message(api, user, text="zzzz " * 819), "answer"),
        case("message: whitespace only", "message", _message(api, user, text=" \n\t "), "answer"),
        case("message: empty text", "message", _message(api, user, text=""), "answer"),
        case("edited_message", "edited_message",
             {**earlier, "text": "Robin T, I meant", "edit_date": now}, "answer"),
        case("channel_post", "channel_post", {"message_id": 41, "date": now, "chat": CHANNEL,
                                              "sender_chat": CHANNEL, "text": "Rota"}, "ignored"),
        case("edited_channel_post", "edited_channel_post", {
            "message_id": 41, "date": now, "edit_date": now, "chat": CHANNEL,
            "sender_chat": CHANNEL, "text": "Rota (new)"}, "ignored"),
        case("inline_query", "inline_query", {"id": "iq-7341", "from": me, "query": "Robin",
                                              "offset": ""}, "ignored"),
        case("chosen_inline_result", "chosen_inline_result", {
            "result_id": "r-7342", "from": me, "query": "Robin"}, "ignored"),
        case("shipping_query", "shipping_query", {
            "id": "sq-7343", "from": me, "invoice_payload": "none", "shipping_address": {
                "country_code": "GB", "state": "", "city": "Leeds", "street_line1": "1 Test St",
                "street_line2": "", "post_code": "LS1 1AA"}}, "ignored"),
        case("pre_checkout_query", "pre_checkout_query", {
            "id": "pq-7344", "from": me, "currency": "GBP", "total_amount": 100,
            "invoice_payload": "none"}, "ignored"),
        case("poll", "poll", MESSAGE_KINDS["poll message"]["poll"], "ignored"),
        case("poll_answer", "poll_answer", {"poll_id": "poll-99", "user": me, "option_ids": [0],
                                       "option_persistent_ids": ["opt-1"]},
             "ignored"),
        case("my_chat_member (stops the bot, then restarts it)", "my_chat_member", {
            "chat": private, "from": me, "date": now,
            "old_chat_member": {"user": bot, "status": "member"},
            "new_chat_member": {"user": bot, "status": "kicked", "until_date": 0}}, "ignored"),
        case("chat_member (in a group)", "chat_member", {
            "chat": GROUP, "from": me, "date": now,
            "old_chat_member": {"user": me, "status": "left"},
            "new_chat_member": {"user": me, "status": "member"}}, "leave"),
        case("chat_join_request", "chat_join_request", {
            "chat": GROUP, "from": me, "user_chat_id": user.id, "date": now}, "leave"),
        case("chat_boost", "chat_boost", {"chat": CHANNEL, "boost": {
            "boost_id": "b-1", "add_date": now, "expiration_date": now + 86400,
            "source": {"source": "premium", "user": me}}}, "ignored"),
        case("removed_chat_boost", "removed_chat_boost", {
            "chat": CHANNEL, "boost_id": "b-1", "remove_date": now,
            "source": {"source": "premium", "user": me}}, "ignored"),
        case("message_reaction", "message_reaction", {
            "chat": private, "message_id": earlier["message_id"], "user": me, "date": now,
            "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]}, "ignored"),
        case("message_reaction_count", "message_reaction_count", {
            "chat": CHANNEL, "message_id": 41, "date": now,
            "reactions": [{"type": {"type": "emoji", "emoji": "👍"}, "total_count": 3}]},
             "ignored"),
        case("business_connection", "business_connection", {
            "id": "bc-7345", "user": me, "user_chat_id": user.id, "date": now,
            "is_enabled": True, "can_reply": True}, "ignored"),
        case("business_message", "business_message", {
            **_message(api, user, text="Robin kicked off again"),
            "business_connection_id": "bc-7345"}, "ignored"),
        case("edited_business_message", "edited_business_message", {
            **_message(api, user, text="Robin T kicked off"), "edit_date": now,
            "business_connection_id": "bc-7345"}, "ignored"),
        case("deleted_business_messages", "deleted_business_messages", {
            "business_connection_id": "bc-7345", "chat": private, "message_ids": [5, 6]},
             "ignored"),
        case("purchased_paid_media", "purchased_paid_media", {
            "from": me, "paid_media_payload": "none"}, "ignored"),
        case("managed_bot", "managed_bot", {"user": me, "bot": {
            "id": 8_765_432, "is_bot": True, "first_name": "Helper", "username": "helper_bot"}},
             "ignored"),
        case("guest_message", "guest_message", {
            **_message(api, user, chat={"id": 9_191_919, "type": "private", "first_name": "Jo"},
                       text="@flourish_test_bot Robin kicked off"),
            "guest_query_id": "gq-7346"}, "ignored"),
    ]
    return cases
