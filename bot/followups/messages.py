"""The words and buttons of each nudge, and of `/pending`: warm, short, and clear about the deadline.

Button callback data is `fu:<action>:<follow-up id>:<claim token>` (well under Telegram's 64 bytes):
the token ties a press to the very message that was sent, so a press on an old or repeated message
changes nothing, and a press proves the message arrived.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.followups.schedule import Kind
from nlu import catalogue
from storage import crud
from storage import followups as store
from storage.models import FollowUp, Incident, Person

CALLBACK_PREFIX = "fu"
GO, SNOOZE, ELSE, DONE = "go", "snz", "else", "done"

_TASK_NAMES = {
    "debrief": "your debrief",
    "review": "the manager's review",
    "childview": "the child's view",
    "reflection": "a 7-day reflection",
    "action": "a review action",
}


@dataclass
class Nudge:
    """A rendered nudge: text, rows of (label, callback data) buttons, and a chart (PNG) to follow."""

    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)
    photo: bytes | None = None


# What the insights add to a nudge, passed in by the channel (follow-ups may not import the
# services; the Telegram channel passes `bot.services.insights_view.nudge_patterns`): given a
# setting, an incident (or None for the whole setting) and a time, the pattern sentences and,
# for the whole setting, one chart.
PatternNotes = Callable[[Session, int, int | None, datetime], tuple[list[str], bytes | None]]


def callback_data(action: str, row: FollowUp, token: str) -> str:
    return f"{CALLBACK_PREFIX}:{action}:{row.id}:{token}"


def parse_callback(data: str) -> tuple[str, int, str] | None:
    """(action, follow-up id, token) from callback data, or None if it is not ours or malformed."""
    parts = data.split(":")
    if len(parts) != 4 or parts[0] != CALLBACK_PREFIX or not parts[2].isdigit() \
            or len(parts[2]) > 9:
        return None
    return parts[1], int(parts[2]), parts[3]


def local(at: datetime | None, zone: ZoneInfo) -> str:
    """'Tue 14 Oct, 19:05' in the setting's time zone."""
    if at is None:
        return "no fixed deadline"
    return at.astimezone(zone).strftime("%a %d %b, %H:%M")


def _zone(session: Session, row: FollowUp) -> ZoneInfo:
    return crud.setting_zone(session, setting_id=row.setting_id)


def incident_title(session: Session, incident: Incident | None, zone: ZoneInfo | None = None) -> str:
    """'the incident with Robin on Tue 03 Nov at 19:00', in the setting's time (or `zone`)."""
    if incident is None:
        return "an incident"
    child = crud.get_child(session, child_id=incident.child_id)
    name = child.display_name if child else "a child"
    zone = zone or crud.setting_zone(session, setting_id=incident.setting_id)
    return f"the incident with {name} on {incident.occurred_at.astimezone(zone):%a %d %b at %H:%M}"



def render(session: Session, *, row: FollowUp, token: str,
           cache: dict[tuple[str, int | None], Any] | None = None,
           patterns: PatternNotes | None = None) -> Nudge:
    """The message for a follow-up about to be sent (`cache` keeps zones and incident phrases
    across one delivery pass; `patterns` adds the insights' pattern flags and the digest's chart)."""
    if row.kind == Kind.digest.value:
        text, photo = digest_text(session, row=row), None
        if patterns is not None and row.setting_id is not None:
            sentences, photo = patterns(session, row.setting_id, None, row.due_at)
            if sentences:
                text = text.replace("\nSend /pending", "\nPatterns across incidents:\n" + "\n".join(
                    f"• {s}" for s in sentences) + "\nSend /pending")
        return Nudge(text=text, photo=photo)
    cache = {} if cache is None else cache
    if ("zone", row.setting_id) not in cache:
        cache[("zone", row.setting_id)] = _zone(session, row)
    zone = cache[("zone", row.setting_id)]
    incident = crud.get_incident(session, incident_id=row.incident_id) if row.incident_id else None
    if ("about", row.incident_id) not in cache:
        cache[("about", row.incident_id)] = incident_title(session, incident, zone)
    about = cache[("about", row.incident_id)]
    due = local(row.deadline_at, zone)
    if row.kind not in Kind.__members__:  # planned by another feature with its own kind
        text = str(row.detail.get("text") or f"A reminder about {about}.")
        return Nudge(text, [[("Done", callback_data(DONE, row, token))],
                            [("Remind me in 2 hours", callback_data(SNOOZE, row, token))]])
    kind = Kind(row.kind)

    def go(label: str) -> tuple[str, str]:
        return (label, callback_data(GO, row, token))

    later = ("Remind me in 2 hours", callback_data(SNOOZE, row, token))
    other = ("Someone else is doing this", callback_data(ELSE, row, token))
    done = ("Done", callback_data(DONE, row, token))
    if kind is Kind.debrief_reminder:
        text = (f"When you have a quiet moment: your debrief for {about} is still open. "
                f"It takes about 8 minutes, and the record is due by {due}.")
        return Nudge(text, [[go("Start my debrief")], [later]])
    if kind is Kind.debrief_overdue:
        staff = crud.get_person(session, person_id=int(row.detail.get("staff_id", 0)))
        who = staff.display_name if staff else "A member of staff"
        text = (f"{who} has not yet done their debrief for {about}. It was due by {due}. "
                "A gentle word may help; they may need support.")
        return Nudge(text, [[later], [other]])
    if kind in (Kind.review_nudge, Kind.review_reminder, Kind.review_escalation):
        lead = {Kind.review_nudge: "A debrief is ready for your review",
                Kind.review_reminder: "Reminder: a review is waiting",
                Kind.review_escalation: "Escalation: the review is not yet signed"}[kind]
        text = (f"{lead}: {about}. Regulation 35 asks for it to be reviewed and signed, "
                f"after speaking with the staff, by {due}.")
        if kind is Kind.review_nudge and patterns is not None and row.incident_id is not None \
                and row.setting_id is not None:
            sentences, _ = patterns(session, row.setting_id, row.incident_id, row.due_at)
            if sentences:
                text += "\nThis incident is part of a pattern:\n" + "\n".join(
                    f"• {s}" for s in sentences)
        return Nudge(text, [[go("Review now")], [later], [other]])
    if kind in (Kind.childview_prompt, Kind.childview_reminder, Kind.childview_escalation):
        lead = {Kind.childview_prompt: "When the child is calm and ready",
                Kind.childview_reminder: "Reminder",
                Kind.childview_escalation: "Escalation: the child has not yet been heard"}[kind]
        text = (f"{lead}: please give the child a chance to say how {about} was for them "
                f"(they can say as much or as little as they like). Due by {due}.")
        return Nudge(text, [[go("Record the child's view")], [later], [other]])
    if kind is Kind.reflection:
        text = (f"A week on from {about}: has anything changed, and what have you learned? "
                "A few words are enough.")
        return Nudge(text, [[go("Reflect now")], [done], [later]])
    if kind is Kind.action_reminder:
        title = row.detail.get("title") or "an action from a review"
        text = f"Due today: {title} (from the review of {about})."
        return Nudge(text, [[done], [later], [other]])
    codes = list(row.detail.get("reasons", []))
    reasons = ", ".join(catalogue.alert_text(r) for r in codes)
    again = " (sent again after a restart: you may have had this already)" \
        if row.detail.get("resent_after_restart") else ""
    unlawful = ("Force that hurts or punishes is never lawful. "
                if catalogue.unlawful(codes) else "")
    text = (f"Safeguarding alert{again}: a record of {about} mentions {reasons}. "
            f"{unlawful}Please look at this now.")
    return Nudge(text, [[go("Review now")], [other]])


# --- /pending -----------------------------------------------------------------------------------


@dataclass
class PendingItem:
    """One piece of work waiting for a person."""

    task: str
    incident_id: int | None
    since: datetime
    deadline_at: datetime | None
    label: str


def zone_of_person(session: Session, person: Person) -> ZoneInfo:
    """The time zone of a person's setting."""
    return crud.setting_zone(session, setting_id=person.setting_id)


def pending_items(session: Session, *, person: Person) -> list[PendingItem]:
    """The work this person's open follow-ups are about, one item per task, oldest first.

    Tasks: debrief_colleague (a colleague's overdue debrief, for the manager), review, childview,
    reflection, action. The person's own debriefs are listed by the debrief feature itself."""
    assert person.id is not None
    items: dict[tuple[str, int | None, str], PendingItem] = {}
    zone = zone_of_person(session, person)
    for row in store.open_followups(session, person_id=person.id):
        if row.kind not in Kind.__members__:
            continue
        kind = Kind(row.kind)
        if kind in (Kind.digest, Kind.safeguarding_alert, Kind.debrief_reminder):
            continue
        task = "debrief_colleague" if kind is Kind.debrief_overdue else kind.task
        extra = str(row.detail.get("staff_id") or row.detail.get("action_id") or "")
        key = (task, row.incident_id, extra)
        if key in items:
            continue
        incident = crud.get_incident(session, incident_id=row.incident_id) if row.incident_id else None
        since = incident.occurred_at if incident else row.created_at
        about = incident_title(session, incident, zone)
        if task == "debrief_colleague":
            staff = crud.get_person(session, person_id=int(row.detail.get("staff_id", 0)))
            label = f"{staff.display_name if staff else 'A colleague'}'s debrief of {about}"
        else:
            label = {
                "review": f"Review and sign {about}",
                "childview": f"Hear the child's view of {about}",
                "reflection": f"A 7-day reflection on {about}",
                "action": f"Action: {row.detail.get('title') or 'from a review'}",
            }.get(task, task)
        items[key] = PendingItem(task=task, incident_id=row.incident_id, since=since,
                                 deadline_at=row.deadline_at, label=label)
    return sorted(items.values(), key=lambda item: (item.since, item.label))


def deadline_phrase(deadline_at: datetime | None, *, zone: ZoneInfo, now: datetime) -> str:
    """ "due by …" or "overdue since …" in the setting's time, or "" without a deadline."""
    if deadline_at is None:
        return ""
    state = "overdue since" if deadline_at < now else "due by"
    return f"{state} {local(deadline_at, zone)}"


def pending_lines(session: Session, *, person: Person, now: datetime) -> list[str]:
    """`/pending` lines for follow-ups no service lists itself (the child's view, reflections,
    colleagues' overdue debriefs), oldest first, each with its deadline."""
    zone = zone_of_person(session, person)
    lines = []
    for item in pending_items(session, person=person):
        if item.task not in ("childview", "reflection", "debrief_colleague"):
            continue
        when = deadline_phrase(item.deadline_at, zone=zone, now=now)
        lines.append(f"• {item.label}{f', {when}' if when else ''}")
    return lines


# --- the weekly digest --------------------------------------------------------------------------


def digest_text(session: Session, *, row: FollowUp) -> str:
    """The Monday digest: the past week's incidents by day, overdue items and the points to reflect on."""
    zone = _zone(session, row)
    end = row.due_at
    start = end - timedelta(days=7)
    assert row.setting_id is not None
    incidents = crud.incidents_between(session, setting_id=row.setting_id, start=start, end=end,
                                       include_end=False)
    by_day = Counter(i.occurred_at.astimezone(zone).strftime("%a") for i in incidents)
    flags = Counter(flag for i in incidents for flag in i.flags)
    overdue = [r for r in store.open_followups(session)
               if r.setting_id == row.setting_id and r.deadline_at is not None
               and r.deadline_at < end and r.kind != Kind.digest.value]
    overdue_tasks = {(Kind(r.kind).task, r.incident_id) for r in overdue}
    lines = [f"Weekly summary to {local(end, zone)}",
             f"Incidents this week: {len(incidents)}"]
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
        lines.append(f"{day} {'█' * by_day.get(day, 0) or '·'}")
    lines.append(f"Overdue items: {len(overdue_tasks)}")
    for task, incident_id in sorted(overdue_tasks, key=lambda t: (t[1] or 0, t[0])):
        lines.append(f" • {_TASK_NAMES.get(task, task)} (incident {incident_id})")
    if flags:
        lines.append("Points to reflect on: " + ", ".join(
            f"{name.replace('_', ' ')} ×{count}" for name, count in flags.most_common(5)))
    lines.append("Send /pending to see what is waiting for you.")
    return "\n".join(lines)
