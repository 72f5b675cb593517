"""Invite codes kept only as HMACs under the secret key, and guesses throttled and audited.

A bare SHA-256 of a 10-character code can be tested offline by anyone holding a copy of the
database; an HMAC under a key kept outside the database cannot. Every failed, reused or expired
code is audited with the Telegram account that tried it, and an account that keeps guessing is
refused for a while without its guesses being checked.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from storage.audit import record_repeated
from storage.crypto import secret_keys
from storage.models import AuditEvent

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)
FAILURES = ("invite_unknown", "invite_reused", "invite_expired", "invite_account_in_use",
            "invite_person_inactive")


def _normalise(code: str) -> bytes:
    return code.strip().upper().encode("utf-8")


def _digest(code: str, key: bytes) -> str:
    secret = hashlib.sha256(b"flourish invite code\0" + key).digest()
    return hmac.new(secret, _normalise(code), hashlib.sha256).hexdigest()


def code_digest(code: str) -> str:
    """What is stored for a new code: its HMAC under the newest key."""
    return _digest(code, secret_keys()[0])


def candidate_digests(code: str) -> list[str]:
    """What a stored code may look like: its HMAC under each key in force (a code issued before a
    rotation still works), or the bare hash of codes issued before HMACs (they expire in days)."""
    legacy = hashlib.sha256(_normalise(code)).hexdigest()
    return [*(_digest(code, key) for key in secret_keys()), legacy]


def record_invite_failure(session: Session, *, action: str, telegram_user_id: int, at: datetime,
                          invite_id: int | None = None) -> None:
    """Audit one refused code (never the code itself) with the account that tried it; the codes
    an account keeps sending while throttled are counted in one row per ten minutes."""
    if action == "invite_throttled":
        record_repeated(session, action=action, match={"telegram_user_id": telegram_user_id},
                        now=at, object_type="invite")
    else:
        session.add(AuditEvent(at=at, actor_id=None, action=action, object_type="invite",
                               object_id=invite_id, detail={"telegram_user_id": telegram_user_id}))
    session.flush()


def recent_failures(session: Session, *, telegram_user_id: int, now: datetime) -> int:
    """How many codes this account got wrong within the failure window."""
    details = session.exec(select(AuditEvent.detail).where(
        col(AuditEvent.action).in_(FAILURES), col(AuditEvent.at) > now - FAILURE_WINDOW))
    return sum(1 for detail in details if detail.get("telegram_user_id") == telegram_user_id)
