"""The child's own view of an incident: on their own phone, or recorded with a member of staff.

Self-service (`child_view`): a child user sees only their own incidents; every step can be
skipped and "Stop" ends it kindly, keeping what they chose to say. Assisted
(`child_view_assisted`): a member of staff records the child's view on their behalf, with how it
was gathered and who supported the child. In both, "something hurt" and "I want to talk to
someone" alert the key worker and the managers at once, the moment the answer is given.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.followups import planner
from bot.services import access
from bot.services.runner import FlowReply, FlowRunner, Notice, Step
from dialogues import buttons
from dialogues.engine import Button, Inbound, Outbound, State
from dialogues.flow import Flow
from storage import crud
from storage import reviews as store
from storage.models import Incident, Person, Role
from storage.types import utcnow

CHILD_VIEW = "child_view"
CHILD_VIEW_ASSISTED = "child_view_assisted"
RECENT_INCIDENTS = 8
NOTHING_FOR_CHILD = "Thank you. 💛 There is nothing to do here now. You can talk to a grown-up any time."
INVITE_YES = "👍 Yes, let's go"
INVITE_LATER = "🙅 Not now"
LATER = "OK. 💛 Talk to me later if you want. Just {send:tell}."
INVITATION = ("Hi. 💛 This is about {day}. How was it for you? Can you tell me? It is short. You "
              "can stop any time.")


def given_alerts(flow: Flow, state: State) -> list[str]:
    """Every safeguarding reason the answers hold (options marked `alert:` in the flow)."""
    return [option.alert for question in flow.questions for option in question.options
            if option.alert is not None and state.value(question.id) == option.value]


def new_alerts(flow: Flow, before: State, after: State) -> list[str]:
    """The safeguarding reasons whose answer was given in this step (each alerts once)."""
    earlier = given_alerts(flow, before)
    return [reason for reason in given_alerts(flow, after) if reason not in earlier]


class _ViewService:
    """What both modes share: stepping, alerting at once, and saving at the end."""

    mode = "self"

    def __init__(self, flow_id: str) -> None:
        self.runner = FlowRunner(flow_id)

    def handle(self, session: Session, *, person: Person, inbound: Inbound) -> FlowReply:
        """Apply one input to this person's child view in progress."""
        step = self.runner.step(session, person=person, inbound=inbound)
        if step is None:
            return FlowReply(messages=[Outbound(text=self._nothing_open())], status="none")
        reply = FlowReply(messages=step.messages, status=step.after.status)
        self._alert(session, person=person, step=step)
        if step.after.status == "submitted":
            reply.record_id = self._save(session, person=person, state=step.after)
        return reply

    def _alert(self, session: Session, *, person: Person, step: Step) -> None:
        reasons = new_alerts(self.runner.engine.flow, step.before, step.after)
        if not reasons:
            return
        incident = crud.get_incident(session, incident_id=int(step.after.context["incident_id"]))
        assert incident is not None
        assert incident.id is not None
        assert step.conversation.id is not None
        child = crud.get_child(session, child_id=incident.child_id)
        key_worker = [child.key_worker_id] if child and child.key_worker_id else []
        planner.raise_alert(session, setting_id=incident.setting_id, incident_id=incident.id,
                            reasons=reasons, person_ids=key_worker,
                            key=f"childview:{step.conversation.id}:{'+'.join(reasons)}")
        crud.record_audit(session, actor_id=person.id, action="child_view_alert",
                          object_type="incident", object_id=incident.id,
                          detail={"reasons": reasons, "mode": self.mode})

    def _save(self, session: Session, *, person: Person, state: State) -> int:
        incident = crud.get_incident(session, incident_id=int(state.context["incident_id"]))
        assert incident is not None
        assert incident.id is not None
        view = store.save_child_view(
            session, incident_id=incident.id, child_id=incident.child_id,
            recorded_by_id=person.id, mode=self.mode, answers=self.runner.answers(state),
            choices=self.runner.choices(state), alerts=given_alerts(self.runner.engine.flow, state),
            ended_early=state.ended_early)
        if self.mode == "assisted":  # a member of staff spoke with the child, dated now
            planner.child_spoken_to(session, incident_id=incident.id, source="assisted_view",
                                    actor_id=person.id)
        assert view.id is not None
        return view.id

    def _nothing_open(self) -> str:
        return "There's no child's view open just now."


class ChildViewService(_ViewService):
    """A child user's own view, on their own phone."""

    mode = "self"

    def __init__(self) -> None:
        super().__init__(CHILD_VIEW)

    def invite(self, session: Session, *, person: Person, incident_id: int) -> FlowReply:
        """A member of staff says the child is calm: send the child the gentle invitation."""
        incident = access.check_assisted_view(session, person=person, incident_id=incident_id,
                                              incident=crud.get_incident(session, incident_id=incident_id))
        children = [p for p in crud.list_people(session, setting_id=incident.setting_id,
                                                roles=(Role.child,))
                    if p.child_id == incident.child_id and p.telegram_user_id is not None]
        if not children:
            return FlowReply(messages=[Outbound(text=(
                "This child isn't set up to use Flourish on their own phone. You can record "
                "their view with them instead: {send:childview}."))], status="none")
        rows = [[Button(label=INVITE_YES, payload=buttons.opens(buttons.CHILD_VIEW_START, incident_id)),
                 Button(label=INVITE_LATER, payload=buttons.opens(buttons.CHILD_VIEW_LATER,
                                                                  incident_id))]]
        when = incident.occurred_at.astimezone(crud.setting_zone(session,
                                                         setting_id=incident.setting_id))
        day = f"what happened on {when:%A} {when.day} {when:%B}"  # the day, not "today"
        notices = [Notice(person_id=c.id, text=INVITATION.format(day=day), buttons=rows)
                   for c in children if c.id is not None]
        crud.record_audit(session, actor_id=person.id, action="child_view_invited",
                          object_type="incident", object_id=incident_id)
        return FlowReply(messages=[Outbound(text="Thank you. I've sent the child a gentle "
                                                 "invitation. They can say as much or as little "
                                                 "as they like.")], status="none",
                         notices=notices)

    def open(self, session: Session, *, person: Person, incident_id: int | None = None) -> FlowReply:
        """Begin (or carry on with) this child's view of their own incident."""
        if person.role != Role.child or person.child_id is None:
            access.check_own_view(session, person=person, incident=None, incident_id=incident_id)
        assert person.child_id is not None
        if incident_id is None:
            resumed = self.runner.resume(session, person=person)
            if resumed is not None:
                return FlowReply(messages=resumed[1], status=resumed[0].status)
            waiting = [i for i in store.incidents_of_child(session, child_id=person.child_id)
                       if i.id and not store.has_child_view(session, incident_id=i.id, mode="self")]
            if not waiting:
                return FlowReply(messages=[Outbound(text=NOTHING_FOR_CHILD)], status="none")
            incident_id = waiting[0].id
        incident = access.check_own_view(session, person=person, incident_id=incident_id,
                                         incident=crud.get_incident(session, incident_id=incident_id))
        if incident.id is not None and store.has_child_view(session, incident_id=incident.id,
                                                            mode="self"):
            return FlowReply(messages=[Outbound(text="You told me about this one. Thank you. 💛")],
                             status="none")
        setting = crud.get_setting(session, setting_id=incident.setting_id)
        context = {"incident_id": incident.id, "setting_kind": setting.kind if setting else None,
                   "words": {"when": _said_day(session, incident)}}
        return FlowReply(messages=self.runner.begin(session, person=person, context=context))

    def _nothing_open(self) -> str:
        return NOTHING_FOR_CHILD


class AssistedViewService(_ViewService):
    """A member of staff records a child's view on the child's behalf."""

    mode = "assisted"

    def __init__(self) -> None:
        super().__init__(CHILD_VIEW_ASSISTED)

    def open(self, session: Session, *, person: Person, incident_id: int | None = None) -> FlowReply:
        """Begin (or carry on with) recording a child's view; without an incident, choose one."""
        if person.role not in (Role.staff, Role.manager):
            access.check_assisted_view(session, person=person, incident=None, incident_id=incident_id)
        if incident_id is None:
            resumed = self.runner.resume(session, person=person)
            if resumed is not None:
                return FlowReply(messages=resumed[1], status=resumed[0].status)
            return self._choose(session, person=person)
        incident = access.check_assisted_view(session, person=person, incident_id=incident_id,
                                              incident=crud.get_incident(session, incident_id=incident_id))
        setting = crud.get_setting(session, setting_id=incident.setting_id)
        child = crud.get_child(session, child_id=incident.child_id)
        supporters = [{"value": str(p.id), "label": "Me" if p.id == person.id else p.display_name}
                      for p in crud.list_people(session, setting_id=incident.setting_id,
                                                roles=(Role.staff, Role.manager))]
        supporters.append({"value": "other", "label": "Someone else"})
        context: dict[str, Any] = {
            "incident_id": incident.id, "setting_kind": setting.kind if setting else None,
            "options": {"supporters": supporters}}
        name = child.display_name if child else "the child"
        preface = Outbound(text=f"Recording {name}'s view. Use their words, signs or what you "
                                "noticed, not your own view of what happened.")
        return FlowReply(messages=[preface, *self.runner.begin(session, person=person,
                                                               context=context)])

    def _choose(self, session: Session, *, person: Person) -> FlowReply:
        zone = crud.setting_zone(session, setting_id=person.setting_id)
        recent = crud.incidents_for_export(session, setting_id=person.setting_id)[-RECENT_INCIDENTS:]
        if not recent:
            return FlowReply(messages=[Outbound(text="There are no incidents recorded here yet.")],
                             status="none")
        rows = []
        for incident in reversed(recent):
            child = crud.get_child(session, child_id=incident.child_id)
            when = incident.occurred_at.astimezone(zone)
            label = f"{child.display_name if child else 'A child'}, {when:%a %d %b %H:%M}"
            assert incident.id is not None
            rows.append([Button(label=label, payload=buttons.opens(buttons.ASSISTED_VIEW_START,
                                                                   incident.id)),
                         Button(label="💌 Invite them",
                                payload=buttons.opens(buttons.ASSISTED_VIEW_INVITE, incident.id))])
        text = ("Whose view would you like to record with them? Choose the incident. Or, when "
                "the child is calm and ready, {tap} 💌 Invite them to send an invitation to their "
                "own phone.")
        return FlowReply(messages=[Outbound(text=text, buttons=rows)], status="none")


def _said_day(session: Session, incident: Incident) -> str:
    """The incident's day as a child hears it: "today", "yesterday" or "on Monday 30 November"."""
    zone = crud.setting_zone(session, setting_id=incident.setting_id)
    happened = incident.occurred_at.astimezone(zone)
    days = (utcnow().astimezone(zone).date() - happened.date()).days
    return {0: "today", 1: "yesterday"}.get(days, f"on {happened:%A} {happened.day} {happened:%B}")
