"""Plans follow-up rows when work starts, and closes them when it is done.

The transports and flows call these functions at the points where the regulation-35 clock starts
or stops: an incident reported, a debrief submitted, a review signed, a child's view recorded, a
review action set or done. Each plans rows with stable keys, so calling it twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from bot.followups.schedule import Kind, Planned, Policy, PolicyError, chain
from nlu import catalogue
from storage import crud
from storage import followups as store
from storage.models import FollowUp, Incident, Person, Role
from storage.types import utcnow

log = logging.getLogger(__name__)
ADMIN_ALERT = "admin_alert"  # not a `Kind`: rendered from its detail's text

# Called with a session after a plan that may need the scheduler to wake early (set by the scheduler).
_wake_hooks: list[Callable[[], None]] = []


def add_wake_hook(hook: Callable[[], None]) -> None:
    """Run `hook` after the commit of any session that planned a follow-up (the scheduler's poke)."""
    _wake_hooks.append(hook)


def remove_wake_hook(hook: Callable[[], None]) -> None:
    if hook in _wake_hooks:
        _wake_hooks.remove(hook)


def _wake_after_commit(session: Session) -> None:
    if not _wake_hooks or session.info.get("followups_wake"):
        return
    session.info["followups_wake"] = True

    def poke(_session: Any) -> None:
        session.info.pop("followups_wake", None)
        for hook in list(_wake_hooks):
            hook()

    sa.event.listen(session, "after_commit", poke, once=True)


def policy_for(session: Session, *, setting_id: int) -> Policy:
    """The setting's schedule: its time zone and quiet hours, and its stored overrides."""
    setting = crud.get_setting(session, setting_id=setting_id)
    if setting is None:
        return Policy()
    return Policy.build(timezone=setting.timezone, quiet_start=setting.quiet_start,
                        quiet_end=setting.quiet_end,
                        overrides=store.policy_overrides(session, setting_id=setting_id))


def managers(session: Session, *, setting_id: int) -> list[Person]:
    """The setting's managers, the registered manager (first added) first."""
    return crud.list_people(session, setting_id=setting_id, roles=(Role.manager,))


def admins(session: Session) -> list[Person]:
    """Every admin, in any setting: who hears when a setting itself is broken."""
    return [p for setting in crud.list_settings(session) if setting.id is not None
            for p in crud.list_people(session, setting_id=setting.id, roles=(Role.admin,))]


def setting_broken(session: Session, *, setting_id: int, problem: str,
                   now: datetime | None = None) -> list[FollowUp]:
    """A setting's stored data stops its follow-ups: log it (ids only) and tell every admin, once
    a day, what to mend. Its own nudges are set aside meanwhile; other settings go on."""
    now = now or utcnow()
    log.warning("setting %s: follow-ups set aside: %s", setting_id, problem)
    text = (f"Admin: setting {setting_id} has a setting that stops its follow-ups: {problem}. "
            f"Its reminders are waiting until it is mended (safeguarding alerts still go). Fix it "
            f"with: flourish admin edit-setting --setting {setting_id} ...")
    rows = []
    for admin in admins(session):
        assert admin.id is not None
        row = store.add_followup(  # its own kind: sent as its text, with Done and snooze buttons
            session, kind=ADMIN_ALERT, person_id=admin.id, due_at=now, urgent=True,
            key=f"setting-broken:{setting_id}:{now.date().isoformat()}:{admin.id}",
            detail={"text": text})
        if row is not None:
            rows.append(row)
    if rows:
        session.flush()
        _wake_after_commit(session)
    return rows


def escalation_targets(session: Session, *, setting_id: int) -> list[Person]:
    """Who hears when the manager has not acted: another manager, else an admin (the responsible
    individual), else the manager again."""
    people = managers(session, setting_id=setting_id)
    others = people[1:] or crud.list_people(session, setting_id=setting_id, roles=(Role.admin,))
    return others or people[:1]


def _store(session: Session, planned: list[Planned], *, setting_id: int, incident_id: int | None,
           urgent: bool = False) -> list[FollowUp]:
    rows = []
    for item in planned:
        row = store.add_followup(
            session, kind=item.kind.value, person_id=item.person_id, due_at=item.due_at, key=item.key,
            setting_id=setting_id, incident_id=incident_id, deadline_at=item.deadline_at,
            urgent=urgent or item.urgent, detail=item.detail)
        if row is not None:
            rows.append(row)
    if rows:
        session.flush()
        _wake_after_commit(session)
    return rows


def _done_debriefs(session: Session, incident_id: int) -> set[int]:
    return {d.person_id for d in crud.debriefs_of(session, incident_id=incident_id)}


# --- the points where the clock starts or stops -------------------------------------------------


def on_incident_reported(
    session: Session, *, incident: Incident, now: datetime | None = None
) -> list[FollowUp]:
    """Remind every involved member of staff who has not debriefed; alert the manager at 24 h."""
    assert incident.id is not None
    now = now or utcnow()
    policy = policy_for(session, setting_id=incident.setting_id)
    t0 = incident.occurred_at
    deadline = policy.deadline("debrief", t0=t0)
    prefix = f"inc:{incident.id}"
    done = _done_debriefs(session, incident.id)
    manager = managers(session, setting_id=incident.setting_id)[:1]
    planned: list[Planned] = []
    for person_id in crud.staff_of(session, incident_id=incident.id):
        if person_id in done:
            continue
        planned += chain(policy, kind=Kind.debrief_reminder, t0=t0, now=now, person_id=person_id,
                         key_prefix=prefix, deadline_at=deadline)
        for boss in manager:
            assert boss.id is not None
            planned += chain(policy, kind=Kind.debrief_overdue, t0=t0, now=now, person_id=boss.id,
                             key_prefix=f"{prefix}:staff{person_id}", deadline_at=deadline,
                             detail={"staff_id": person_id})
    return _store(session, planned, setting_id=incident.setting_id, incident_id=incident.id)


def on_debrief_submitted(
    session: Session, *, incident: Incident, person_id: int, debrief_id: int | None = None,
    alerts: Sequence[str] = (), now: datetime | None = None,
) -> list[FollowUp]:
    """Stop this person's debrief reminders; nudge the manager to review; ask the key worker for
    the child's view; plan the 7-day reflection; alert the managers at once about safeguarding
    (the incident's urgent flags, and `alerts`: this debrief's reasons, e.g. a child hurt)."""
    assert incident.id is not None
    now = now or utcnow()
    store.close_open(session, incident_id=incident.id, kinds=[Kind.debrief_reminder.value],
                     person_id=person_id, outcome="debrief_submitted", now=now)
    store.close_open(session, incident_id=incident.id, kinds=[Kind.debrief_overdue.value],
                     outcome="debrief_submitted", now=now, detail_match={"staff_id": person_id})
    policy = policy_for(session, setting_id=incident.setting_id)
    t0 = incident.occurred_at
    prefix = f"inc:{incident.id}"
    planned: list[Planned] = []
    review_deadline = policy.deadline("review", t0=t0)
    bosses = managers(session, setting_id=incident.setting_id)
    for boss in bosses[:1]:
        assert boss.id is not None
        planned.append(Planned(kind=Kind.review_nudge, person_id=boss.id, due_at=policy.hold(now),
                               key=f"{prefix}:{Kind.review_nudge.value}:{boss.id}",
                               deadline_at=review_deadline))
        planned += chain(policy, kind=Kind.review_reminder, t0=t0, now=now, person_id=boss.id,
                         key_prefix=prefix, deadline_at=review_deadline)
    for target in escalation_targets(session, setting_id=incident.setting_id):
        assert target.id is not None
        planned += chain(policy, kind=Kind.review_escalation, t0=t0, now=now, person_id=target.id,
                         key_prefix=prefix, deadline_at=review_deadline)
    child = crud.get_child(session, child_id=incident.child_id)
    child_deadline = policy.deadline("childview", t0=t0)
    key_worker = child.key_worker_id if child and child.key_worker_id else None
    first_ask = key_worker or (bosses[0].id if bosses else None)
    if first_ask is not None:
        planned += chain(policy, kind=Kind.childview_prompt, t0=t0, now=now, person_id=first_ask,
                         key_prefix=prefix, deadline_at=child_deadline)
        planned += chain(policy, kind=Kind.childview_reminder, t0=t0, now=now, person_id=first_ask,
                         key_prefix=prefix, deadline_at=child_deadline)
    for boss in bosses[:1]:
        assert boss.id is not None
        planned += chain(policy, kind=Kind.childview_escalation, t0=t0, now=now, person_id=boss.id,
                         key_prefix=prefix, deadline_at=child_deadline)
    planned += chain(policy, kind=Kind.reflection, t0=t0, now=now, person_id=person_id,
                     key_prefix=prefix, deadline_at=None)
    rows = _store(session, planned, setting_id=incident.setting_id, incident_id=incident.id)
    reasons = sorted(set(catalogue.urgent(incident.flags)) | set(alerts))
    if reasons:
        rows += raise_alert(session, setting_id=incident.setting_id, incident_id=incident.id,
                            reasons=reasons, key=f"{prefix}:debrief{debrief_id or person_id}", now=now)
    return rows


def after_submit(
    session: Session, *, incident: Incident, person_id: int, debrief_id: int | None = None,
    alerts: Sequence[str] = (), now: datetime | None = None,
) -> list[FollowUp]:
    """The hook `DebriefService` calls when a debrief is submitted (the first one reports the
    incident): plans colleagues' reminders, the review, the child's view, reflection and alerts."""
    now = now or utcnow()
    rows = on_incident_reported(session, incident=incident, now=now)
    return rows + on_debrief_submitted(session, incident=incident, person_id=person_id,
                                       debrief_id=debrief_id, alerts=alerts, now=now)


def raise_alert(
    session: Session, *, setting_id: int, incident_id: int | None, reasons: list[str], key: str,
    person_ids: list[int] | None = None, now: datetime | None = None,
) -> list[FollowUp]:
    """A safeguarding alert, at once and never held by quiet hours, to every manager (and anyone
    else named, such as the key worker when a child asks to talk to someone)."""
    now = now or utcnow()
    targets = [p.id for p in managers(session, setting_id=setting_id) if p.id is not None]
    if not targets:  # no manager to hear it: an alert must still reach someone responsible
        log.warning("setting %s has no manager: a safeguarding alert goes to the admins",
                    setting_id)
        targets = [p.id for p in admins(session) if p.id is not None]
    targets += [p for p in person_ids or [] if p not in targets]
    planned = [Planned(kind=Kind.safeguarding_alert, person_id=target, due_at=now,
                       key=f"{key}:{Kind.safeguarding_alert.value}:{target}", urgent=True,
                       detail={"reasons": sorted(reasons)}) for target in targets]
    return _store(session, planned, setting_id=setting_id, incident_id=incident_id, urgent=True)


def complete_review(session: Session, *, incident_id: int, now: datetime | None = None) -> int:
    """The manager signed the review: stop its nudges, reminders and escalations."""
    kinds = [Kind.review_nudge.value, Kind.review_reminder.value, Kind.review_escalation.value]
    return store.close_open(session, incident_id=incident_id, kinds=kinds, outcome="review_signed",
                            now=now)


def child_spoken_to(session: Session, *, incident_id: int, source: str, actor_id: int | None,
                    now: datetime | None = None) -> int:
    """Someone confirmed, dated now, that they spoke with the child (regulation 35(3)(c)): stop
    the 5-day clock's prompts, and keep the dated confirmation in the audit table.

    A child's own view through /tell is welcome but is not this confirmation; a review saying the
    restorative conversation was held, a view recorded with the child, or the "Done" of a planned
    conversation's follow-up is."""
    now = now or utcnow()
    kinds = [Kind.childview_prompt.value, Kind.childview_reminder.value,
             Kind.childview_escalation.value]
    crud.record_audit(session, actor_id=actor_id, action="child_spoken_to", object_type="incident",
                      object_id=incident_id, detail={"at": now.isoformat(), "source": source})
    return store.close_open(session, incident_id=incident_id, kinds=kinds,
                            outcome="child_spoken_to", now=now)


def plan_action(
    session: Session, *, setting_id: int, incident_id: int | None, action_id: int | str,
    owner_id: int, due: date | datetime, title: str | None = None, confirms: str | None = None,
) -> list[FollowUp]:
    """A reminder for a review action on its due date (09:00 local for a bare date); `confirms`
    names what its "Done" confirms (`child_spoken_to`)."""
    policy = policy_for(session, setting_id=setting_id)
    at_nine = time(9, 0)
    due_at = due if isinstance(due, datetime) else datetime.combine(due, at_nine, tzinfo=policy.zone)
    planned = [Planned(kind=Kind.action_reminder, person_id=owner_id, due_at=policy.hold(due_at),
                       key=f"action:{action_id}:{Kind.action_reminder.value}:{owner_id}",
                       deadline_at=due_at, detail={"action_id": str(action_id),
                                                   **({"title": title} if title else {}),
                                                   **({"confirms": confirms} if confirms else {})})]
    return _store(session, planned, setting_id=setting_id, incident_id=incident_id)


def complete_action(session: Session, *, action_id: int | str, now: datetime | None = None) -> int:
    """A review action is done: stop its reminder."""
    return store.close_open(session, incident_id=None, kinds=[Kind.action_reminder.value],
                            outcome="action_done", now=now, detail_match={"action_id": str(action_id)})


def ensure_digests(session: Session, *, now: datetime | None = None) -> list[FollowUp]:
    """Make sure each manager has their next weekly digest planned (Monday 09:00 local)."""
    now = now or utcnow()
    rows: list[FollowUp] = []
    for setting in crud.list_settings(session):
        assert setting.id is not None
        try:
            policy = policy_for(session, setting_id=setting.id)
        except PolicyError as exc:  # one bad setting never stops the others
            setting_broken(session, setting_id=setting.id, problem=str(exc), now=now)
            continue
        for boss in managers(session, setting_id=setting.id):
            assert boss.id is not None
            if store.waiting(session, kind=Kind.digest.value, person_id=boss.id):
                continue
            at = policy.next_digest(after=now - timedelta(minutes=1))
            local_day = at.astimezone(policy.zone).date().isoformat()
            rows += _store(session, [Planned(kind=Kind.digest, person_id=boss.id, due_at=at,
                                             key=f"digest:{setting.id}:{boss.id}:{local_day}")],
                           setting_id=setting.id, incident_id=None)
    return rows


# --- what the buttons do ------------------------------------------------------------------------


def snooze(session: Session, *, row: FollowUp, now: datetime | None = None) -> FollowUp | None:
    """"Remind me in 2 hours": close this nudge and plan the same one again (held by quiet hours)."""
    now = now or utcnow()
    policy = policy_for(session, setting_id=row.setting_id) if row.setting_id else Policy()
    count = int(row.detail.get("snoozes", 0)) + 1
    base_key = str(row.detail.get("base_key") or row.key or f"fu:{row.id}")
    again = store.add_followup(
        session, kind=row.kind, person_id=row.person_id, due_at=policy.hold(now + policy.snooze),
        key=f"{base_key}:snooze{count}", setting_id=row.setting_id, incident_id=row.incident_id,
        deadline_at=row.deadline_at, urgent=False,
        detail={**row.detail, "snoozes": count, "base_key": base_key})
    _close(session, row, outcome="snoozed", now=now)
    if again is not None:
        session.flush()
        _wake_after_commit(session)
    return again


def hand_off(session: Session, *, row: FollowUp, now: datetime | None = None) -> int:
    """"Someone else is doing this": take this task off this person's list (for this incident)."""
    now = now or utcnow()
    kind = Kind(row.kind)
    if row.incident_id is None:
        _close(session, row, outcome="someone_else", now=now)
        return 1
    kinds = [k.value for k in Kind if k.task == kind.task]
    return store.close_open(session, incident_id=row.incident_id, kinds=kinds,
                            person_id=row.person_id, outcome="someone_else", now=now)


def mark_done(session: Session, *, row: FollowUp, now: datetime | None = None) -> None:
    """"Done" (a reflection or an action): close it."""
    _close(session, row, outcome="done_by_button", now=now or utcnow())
    if row.kind == Kind.action_reminder.value and row.detail.get("action_id"):
        complete_action(session, action_id=str(row.detail["action_id"]), now=now)
    if row.detail.get("confirms") == "child_spoken_to" and row.incident_id is not None:
        child_spoken_to(session, incident_id=row.incident_id, source="confirmed_after_review",
                        actor_id=row.person_id, now=now)


def _close(session: Session, row: FollowUp, *, outcome: str, now: datetime) -> None:
    if row.state in store.OPEN_STATES and row.state != store.SENDING:
        row.state = store.CANCELLED if row.state == store.PENDING else store.DONE
        row.closed_at = now
        row.outcome = outcome
        session.add(row)
        session.flush()
