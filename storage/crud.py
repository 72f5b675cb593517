"""Data functions: the only way the rest of Flourish reads and writes the database.

Each takes a session and keyword-only arguments, and leaves committing to the caller's
`session_scope`. Reads of narrative fields for people other than their author are audited.
They live by aggregate — `storage.people` (settings, people, children, invites),
`storage.conversations` (conversations, processed updates, chat message ids), `storage.incidents`
(incidents, debriefs, answers), `storage.audit`, `storage.reviews`, `storage.followups` — and
this module offers the first four under one name, as before.
"""

from __future__ import annotations

from storage.audit import (
    record_audit,
)
from storage.conversations import (
    active_conversation,
    claim_update,
    conversation_messages,
    finished_conversations_with_messages,
    forget_messages,
    get_conversation,
    last_conversation,
    last_question_message,
    newest_update_id,
    prune_updates,
    save_conversation,
    track_message,
    update_seen,
)
from storage.incidents import (
    answers_of,
    create_incident,
    debriefs_of,
    get_debrief,
    get_incident,
    incidents_between,
    incidents_for_export,
    pending_debrief_incidents,
    save_debrief,
    staff_of,
)
from storage.people import (
    DEFAULT_ZONE,
    INVITE_ALPHABET,
    InviteError,
    child_names,
    count_children,
    create_child,
    create_invite,
    create_person,
    create_setting,
    get_child,
    get_person,
    get_setting,
    list_children,
    list_people,
    list_settings,
    managers,
    names_in_setting,
    person_by_telegram_id,
    redeem_invite,
    setting_zone,
)

__all__ = [
    "DEFAULT_ZONE",
    "INVITE_ALPHABET",
    "InviteError",
    "active_conversation",
    "answers_of",
    "child_names",
    "claim_update",
    "conversation_messages",
    "count_children",
    "create_child",
    "create_incident",
    "create_invite",
    "create_person",
    "create_setting",
    "debriefs_of",
    "finished_conversations_with_messages",
    "forget_messages",
    "get_child",
    "get_conversation",
    "get_debrief",
    "get_incident",
    "get_person",
    "get_setting",
    "incidents_between",
    "incidents_for_export",
    "last_conversation",
    "last_question_message",
    "list_children",
    "list_people",
    "list_settings",
    "managers",
    "names_in_setting",
    "newest_update_id",
    "pending_debrief_incidents",
    "person_by_telegram_id",
    "prune_updates",
    "record_audit",
    "redeem_invite",
    "save_conversation",
    "save_debrief",
    "setting_zone",
    "staff_of",
    "track_message",
    "update_seen",
]
