"""One-time sign-in links for the dashboard on a desktop (sent by /dashboard in the bot)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from storage import crud
from storage import web as web_store
from storage.models import Person, Role

LINK_TTL = timedelta(minutes=10)  # a one-time link works this long
CHILDREN_REFUSED = "Sorry, the dashboard is for staff and managers."


def login_link(session: Session, *, person: Person, base_url: str,
               now: datetime | None = None) -> str | None:
    """A fresh single-use link for this person (None for a child: the dashboard is not for them)."""
    assert person.id is not None
    if person.role == Role.child:
        crud.record_audit(session, actor_id=person.id, action="access_refused",
                          object_type="dashboard", detail={"attempted": "dashboard_link"})
        return None
    token = web_store.create_login_link(session, person_id=person.id, ttl=LINK_TTL, now=now)
    crud.record_audit(session, actor_id=person.id, action="web_link_sent", object_type="person",
                      object_id=person.id)
    return f"{base_url.rstrip('/')}/login/{token}"
