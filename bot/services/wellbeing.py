"""Looking after staff: when a debrief's check-in or a distressed answer asks for support.

The staff member gets a short, warm message; with their consent, each manager of their setting
gets a nudge to check in with them. The nudge says who and nothing else: nothing from the
debrief is shared by it.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.services.runner import Notice
from dialogues.engine import Outbound
from storage import crud
from storage.models import Person, Role

SUPPORTIVE = ("Thank you for saying. I've asked {who} to check in with you. Please look "
              "after yourself, and talk to a colleague if you need to before then.")
NOBODY = ("Thank you for saying. There's no other manager set up for your setting here, so I "
          "couldn't ask anyone to check in. Please talk to your own line manager, the responsible "
          "individual or a colleague today.")


def checkin_requested(session: Session, *, person: Person) -> tuple[list[Outbound], list[Notice]]:
    """A supportive message for the person, and a check-in nudge for each of their managers."""
    managers = [m for m in crud.list_people(session, setting_id=person.setting_id,
                                            roles=(Role.manager,)) if m.id != person.id]
    first_name = person.display_name.split()[0] if person.display_name else "A colleague"
    notices = [Notice(person_id=m.id, text=(
        f"{first_name} would like you to check in with them today, after a hard incident. "
        "Nothing from their debrief is shared by this message; a kind word is all it asks."))
        for m in managers if m.id is not None]
    crud.record_audit(session, actor_id=person.id, action="wellbeing_checkin_requested",
                      object_type="person", object_id=person.id,
                      detail={"managers": [n.person_id for n in notices]})
    if not notices:
        return [Outbound(text=NOBODY)], notices
    who = "your manager" if person.role == Role.staff else "another manager at your setting"
    return [Outbound(text=SUPPORTIVE.format(who=who))], notices
