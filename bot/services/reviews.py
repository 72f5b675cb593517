"""The manager's review of an incident: every debrief side by side, patterns, questions, sign-off.

A review opens with a compact picture of the incident (each staff member's answers next to each
other, the points to reflect on, and what this incident has in common with recent ones), then
runs the `manager_review` flow. Submitting its summary is the sign-off: the review is stored,
read-only, and each action becomes a follow-up for its owner. A correction after sign-off is a
new, dated addendum (the `review_addendum` flow).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.followups import planner
from bot.followups.messages import incident_title
from bot.services import access
from bot.services.insights import flags_for_incident
from bot.services.runner import STAFF_DEBRIEF, FlowReply, FlowRunner, Notice
from dialogues import buttons
from dialogues.engine import Button, Inbound, Outbound, State
from dialogues.flow import Flow, Question, QuestionType, load_flow
from nlu.catalogue import staff_text
from storage import crud
from storage import reviews as store
from storage.models import Incident, Person, Review, Role
from storage.types import utcnow

MANAGER_REVIEW = "manager_review"
REVIEW_ADDENDUM = "review_addendum"
PATTERN_DAYS = 28
DEFAULT_DUE_DAYS = 7
TIME_BANDS = (  # (name, first hour, hour after the last), local time
    ("in the night", 22, 7), ("in the morning", 7, 12), ("in the afternoon", 12, 16),
    ("at teatime", 16, 19), ("in the evening", 19, 22),
)
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
            "tenth")
NOTHING_WAITING = "Nothing is waiting for your review just now. Thank you."


# --- formatting ------------------------------------------------------------------------------------


def format_answer(question: Question, status: str, value: Any, *, limit: int | None = None) -> str:
    """One stored answer in a few words: option labels, yes/no, minutes, or the text — whole unless
    a `limit` is asked for (a manager signs off what staff wrote, so the review never cuts it)."""
    if status == "skipped":
        return "skipped"
    if status == "unsure":
        return "not sure"
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    labels = {o.value: o.label for o in question.options}
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value) or "—"
    if question.type is QuestionType.duration:
        return f"about {value:g} min"
    text = labels.get(str(value), str(value))
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def time_band(at: datetime) -> str:
    """The part of the day a local time falls in (night, morning, afternoon, teatime, evening)."""
    hour = at.hour
    for name, first, end in TIME_BANDS:
        if (first <= hour < end) if first < end else (hour >= first or hour < end):
            return name
    raise AssertionError("every hour is in a band")  # pragma: no cover


def _ordinal(number: int) -> str:
    return ORDINALS[number - 1] if 0 < number <= len(ORDINALS) else f"{number}th"


def _local(session: Session, incident: Incident) -> tuple[datetime, ZoneInfo]:
    zone = crud.setting_zone(session, setting_id=incident.setting_id)
    return incident.occurred_at.astimezone(zone), zone


def pattern_lines(session: Session, *, incident: Incident, days: int = PATTERN_DAYS) -> list[str]:
    """What this incident has in common with recent ones: for the child, and for each staff member."""
    assert incident.id is not None
    start, end = incident.occurred_at - timedelta(days=days), incident.occurred_at
    lines: list[str] = []
    child = crud.get_child(session, child_id=incident.child_id)
    name = child.display_name if child else "this child"
    for_child = crud.incidents_between(session, setting_id=incident.setting_id, start=start,
                                        end=end, child_id=incident.child_id)
    count = len(for_child)
    line = f"This is the {_ordinal(count)} incident for {name} in the last {days} days"
    if count >= 2:
        _, zone = _local(session, incident)
        bands = Counter(time_band(i.occurred_at.astimezone(zone)) for i in for_child)
        band, times = bands.most_common(1)[0]
        if times >= 2:
            line += f", {_count_word(times, count)} {band}"
    lines.append(line + ".")
    everyone = crud.incidents_between(session, setting_id=incident.setting_id, start=start, end=end)
    involved = store.staff_by_incident(session, incident_ids=[i.id for i in everyone if i.id])
    this_staff = involved.get(incident.id, set())
    for person_id in sorted(this_staff):
        times = sum(1 for people in involved.values() if person_id in people)
        if times >= 2:
            person = crud.get_person(session, person_id=person_id)
            who = person.display_name if person else "One staff member"
            lines.append(f"{who} was involved in {times} of the {len(everyone)} incidents here in "
                         f"the last {days} days.")
    # The setting's pattern flags this incident is part of (those not already said above).
    lines += [flag.sentence for flag in flags_for_incident(
        session, incident_id=incident.id, setting_id=incident.setting_id)
        if flag.name not in ("frequent_for_child", "staff_cluster")]
    return lines


def _count_word(part: int, whole: int) -> str:
    if part == whole:
        return "all" if whole > 2 else "both"
    return {2: "two", 3: "three", 4: "four", 5: "five"}.get(part, str(part))


def side_by_side(session: Session, *, incident: Incident, flow: Flow) -> tuple[list[str], list[str]]:
    """Each staff debrief's answers next to each other, question by question; and who has debriefed."""
    assert incident.id is not None
    debriefs = crud.debriefs_of(session, incident_id=incident.id)
    names: dict[int, str] = {}
    answers: dict[int, dict[str, Any]] = {}
    for debrief in debriefs:
        assert debrief.id is not None
        person = crud.get_person(session, person_id=debrief.person_id)
        names[debrief.id] = (person.display_name if person else "Staff").split()[0]
        answers[debrief.id] = {a.question_id: a for a in crud.answers_of(session, debrief_id=debrief.id)}
    lines: list[str] = []
    for question in flow.questions:
        if not question.side_by_side:
            continue
        given = [(names[d], rows[question.id], rows.get(f"{question.id}.note"))
                 for d, rows in answers.items() if question.id in rows]
        if not given:
            continue
        lines.append(question.review_title or question.short)
        said: dict[str, list[str]] = {}  # the same answer from several people goes on one line
        for who, row, note in given:
            value = row.text if row.text is not None else row.value
            shown = format_answer(question, row.status, value)
            if note is not None and note.text:  # the words they typed, kept with the answer
                shown += f" (in their words: “{note.text}”)"
            said.setdefault(shown, []).append(who)
        lines.extend(f"• {', '.join(people)}: {answer}" for answer, people in said.items())
    done = {d.person_id for d in debriefs}
    waiting = [p for p in crud.staff_of(session, incident_id=incident.id) if p not in done]
    people = [n for n in names.values()]
    status = [f"Debriefs in: {', '.join(people) if people else 'none yet'}"]
    if waiting:
        missing = [crud.get_person(session, person_id=p) for p in waiting]
        status.append("Still to come: " + ", ".join(p.display_name.split()[0] for p in missing if p))
    return status, lines


CHILD_VIEW_FLOWS = {"self": "child_view", "assisted": "child_view_assisted"}


def child_view_lines(session: Session, *, incident: Incident) -> list[str]:
    """The child's own view (self or recorded with them), beside the staff accounts, and where the
    accounts disagree: the place, an injury, what the child said against what staff said."""
    assert incident.id is not None
    views = store.child_views_of(session, incident_id=incident.id)
    child = crud.get_child(session, child_id=incident.child_id)
    name = child.display_name if child else "The child"
    lines: list[str] = []
    said_hurt = False
    child_words: list[str] = []
    for view in views:
        flow = load_flow(CHILD_VIEW_FLOWS.get(view.mode, "child_view"))
        recorder = crud.get_person(session, person_id=view.recorded_by_id)
        heading = (f"{name}'s own view, on their phone" if view.mode == "self" else
                   f"{name}'s view, recorded with them by "
                   f"{recorder.display_name if recorder else 'a member of staff'}")
        lines.append(heading + (" (they chose to stop early)" if view.ended_early else ""))
        answers = store.child_view_answers(view)
        for question in flow.questions:
            row = answers.get(question.id)
            if row is None or row.get("status") == "skipped" or row.get("value") in (None, ""):
                continue
            shown = format_answer(question, row["status"], row["value"])
            lines.append(f"• {question.short}: {shown}")
            if question.said_by_child:
                child_words.append(shown)
        said_hurt = said_hurt or answers.get("hurt", {}).get("value") == "yes"
    differ = _disagreements(session, incident=incident, name=name, said_hurt=said_hurt,
                            child_words=child_words)
    if not views:
        lines.append(f"{name}'s view is not recorded yet. {{Send:childview}} to record it with "
                     "them, or to invite them to tell it on their own phone.")
    if differ:
        lines += ["", "Where the accounts differ (to look into, not a judgement):", *differ]
    return lines


def _disagreements(session: Session, *, incident: Incident, name: str, said_hurt: bool,
                   child_words: list[str]) -> list[str]:
    assert incident.id is not None
    staff_flow = load_flow(STAFF_DEBRIEF)
    given: dict[str, list[tuple[str, Any]]] = {"location": [], "child_injured": [],
                                               "child_experience": []}
    for debrief in crud.debriefs_of(session, incident_id=incident.id):
        assert debrief.id is not None
        person = crud.get_person(session, person_id=debrief.person_id)
        who = (person.display_name if person else "Staff").split()[0]
        for answer in crud.answers_of(session, debrief_id=debrief.id):
            if answer.question_id in given and answer.status not in ("skipped", "unsure"):
                value = answer.text if answer.text is not None else answer.value
                given[answer.question_id].append((who, value))
    lines = []
    places = {str(v) for _, v in given["location"]}
    if len(places) > 1:
        question = staff_flow.question("location")
        lines.append("• Where: " + "; ".join(
            f"{who}: {format_answer(question, 'answered', v)}" for who, v in given["location"]))
    no_injury = [who for who, v in given["child_injured"] if v in (False, "no")]
    injured = [who for who, v in given["child_injured"] if v in (True, "yes")]
    if said_hurt and no_injury:
        lines.append(f"• Injury: {name} said something hurt; {', '.join(no_injury)} recorded no "
                     "injury to the child.")
    elif no_injury and injured:
        lines.append(f"• Injury: {', '.join(injured)} recorded an injury to the child; "
                     f"{', '.join(no_injury)} did not.")
    if child_words and given["child_experience"]:
        staff_said = "; ".join(f"{who}: {v}" for who, v in given["child_experience"])
        lines.append(f"• What {name} said: {' / '.join(child_words)} — and what staff say {name} "
                     f"said or showed: {staff_said}")
    return lines


def overview(session: Session, *, incident: Incident) -> list[Outbound]:
    """The opening of a review: the incident, the points to reflect on, patterns, then side by side."""
    staff_flow = load_flow(STAFF_DEBRIEF)
    status, lines = side_by_side(session, incident=incident, flow=staff_flow)
    head = [f"📋 Review of {incident_title(session, incident)}", *status]
    if incident.flags:
        head += ["", "Points to reflect on (not a judgement):"]
        head += [f"• {staff_text(f)}" for f in incident.flags]
    head += ["", "Patterns:", *(f"• {line}" for line in pattern_lines(session, incident=incident))]
    messages = [Outbound(text="\n".join(head))]
    if lines:
        messages.append(Outbound(text="Side by side\n\n" + "\n".join(lines)))
    messages.append(Outbound(text="The child's view\n\n" + "\n".join(
        child_view_lines(session, incident=incident))))
    return messages


def signed_view(session: Session, *, review: Review) -> list[Outbound]:
    """A signed review, read-only: the answers, the actions, the addenda, and a way to add one."""
    assert review.id is not None
    incident = crud.get_incident(session, incident_id=review.incident_id)
    assert incident is not None
    flow = load_flow(MANAGER_REVIEW)
    manager = crud.get_person(session, person_id=review.manager_id)
    _, zone = _local(session, incident)
    signed = review.signed_at.astimezone(zone) if review.signed_at else None
    lines = [f"🔒 Signed review of {incident_title(session, incident)}",
             f"Signed by {manager.display_name if manager else 'a manager'}"
             + (f" on {signed:%a %d %b %Y at %H:%M}" if signed else "") + ". It is read-only.", ""]
    saved = store.review_answers(review)
    for question in flow.questions:
        if question.id in saved and question.action is None:
            row = saved[question.id]
            lines.append(f"{question.short}: {format_answer(question, row['status'], row['value'])}")
    actions = store.actions_of(session, review_id=review.id)
    if actions:
        lines += ["", "Actions:"]
        for action in actions:
            owner = crud.get_person(session, person_id=action.owner_id) if action.owner_id else None
            lines.append(f"• {action.description} — {owner.display_name if owner else 'unassigned'}, "
                         f"by {action.due_at.astimezone(zone):%a %d %b}")
    for addendum in store.addenda_of(session, review_id=review.id):
        author = crud.get_person(session, person_id=addendum.author_id)
        lines += ["", f"Addendum, {addendum.created_at.astimezone(zone):%a %d %b %Y at %H:%M}, by "
                      f"{author.display_name if author else 'a manager'}:", addendum.text]
    lines += ["", "The child's view", *child_view_lines(session, incident=incident)]
    rows = [[Button(label="➕ Add an addendum", payload=buttons.opens(buttons.REVIEW_ADDENDUM,
                                                                    review.id))]]
    return [Outbound(text="\n".join(lines), buttons=rows)]


# --- the service -----------------------------------------------------------------------------------


class ReviewService:
    """Opens, runs and signs manager reviews, and adds addenda to signed ones."""

    def __init__(self) -> None:
        self.runner = FlowRunner(MANAGER_REVIEW)
        self.addenda = FlowRunner(REVIEW_ADDENDUM)

    def open(self, session: Session, *, person: Person, incident_id: int | None = None) -> FlowReply:
        """/review: carry on with one in progress, or open an incident's review (or its signed record)."""
        if person.role != Role.manager:
            access.check_review(session, person=person, incident=None, incident_id=incident_id)
        if incident_id is None:
            for runner in (self.addenda, self.runner):
                resumed = runner.resume(session, person=person)
                if resumed is not None:
                    return FlowReply(messages=resumed[1], status=resumed[0].status)
            waiting = store.incidents_awaiting_review(session, setting_id=person.setting_id)
            if not waiting:
                return FlowReply(messages=[Outbound(text=NOTHING_WAITING)], status="none")
            incident_id = waiting[0].id
        incident = access.check_review(session, person=person, incident_id=incident_id,
                                       incident=crud.get_incident(session, incident_id=incident_id))
        assert incident.id is not None
        signed = store.signed_review(session, incident_id=incident.id)
        if signed is not None:
            crud.record_audit(session, actor_id=person.id, action="review_read",
                              object_type="review", object_id=signed.id)
            return FlowReply(messages=signed_view(session, review=signed), status="signed")
        crud.record_audit(session, actor_id=person.id, action="review_opened",
                          object_type="incident", object_id=incident.id)
        preface = overview(session, incident=incident)
        messages = self.runner.begin(session, person=person, context=self._context(session, person,
                                                                                   incident))
        return FlowReply(messages=[*preface, *messages])

    def handle(self, session: Session, *, person: Person, inbound: Inbound,
               flow_id: str = MANAGER_REVIEW) -> FlowReply:
        """Apply one input to this manager's review (or, by flow id, addendum) in progress."""
        runner, finish = ((self.addenda, self._add) if flow_id == REVIEW_ADDENDUM
                          else (self.runner, self._sign))
        step = runner.step(session, person=person, inbound=inbound)
        if step is None:
            return FlowReply(messages=[Outbound(text="You have no review open just now. "
                                                     "{Send:review} to start one.")], status="none")
        reply = FlowReply(messages=step.messages, status=step.after.status)
        if step.after.status == "submitted":
            finish(session, person, step.after, reply)
        return reply

    def start_addendum(self, session: Session, *, person: Person, review_id: int) -> FlowReply:
        """Begin a dated addendum to a signed review."""
        review = store.get_review(session, review_id=review_id)
        incident = crud.get_incident(session, incident_id=review.incident_id) if review else None
        access.check_review(session, person=person, incident=incident, incident_id=
                            review.incident_id if review else None)
        assert review is not None
        if review.signed_at is None:
            return FlowReply(messages=[Outbound(text="That review isn't signed yet, so it can "
                                                     "still be changed: {send:review}.")])
        messages = self.addenda.begin(session, person=person, context={"review_id": review_id},
                                      same="review_id")
        return FlowReply(messages=messages)

    # --- internals -------------------------------------------------------------------------------

    def _context(self, session: Session, person: Person, incident: Incident) -> dict[str, Any]:
        owners = [{"value": str(p.id), "label": "Me" if p.id == person.id else p.display_name}
                  for p in crud.list_people(session, setting_id=incident.setting_id,
                                            roles=(Role.staff, Role.manager))]
        return {"incident_id": incident.id, "options": {"owners": owners}}

    def _sign(self, session: Session, person: Person, state: State, reply: FlowReply) -> None:
        assert person.id is not None
        incident_id = int(state.context["incident_id"])
        now = utcnow()
        incident = crud.get_incident(session, incident_id=incident_id)
        assert incident is not None
        actions = self._actions(state, manager_id=person.id, now=now)
        actions += self._checks(session, state, incident=incident, manager_id=person.id, now=now)
        try:
            review = store.save_review(session, incident_id=incident_id, manager_id=person.id,
                                       answers=self.runner.answers(state),
                                       outcome=self.runner.choices(state), actions=actions, now=now)
        except store.ReadOnlyError as exc:
            reply.messages = [Outbound(text=str(exc))]
            reply.status = "cancelled"
            return
        assert review.id is not None
        reply.record_id = review.id
        confirms = {a["description"]: a["confirms"] for a in actions if a.get("confirms")}
        incident = crud.get_incident(session, incident_id=incident_id)
        assert incident is not None
        for action in store.actions_of(session, review_id=review.id):
            owner_id = action.owner_id or person.id
            assert action.id is not None
            planned = planner.plan_action(session, setting_id=incident.setting_id,
                                          incident_id=incident_id, action_id=action.id,
                                          owner_id=owner_id, due=action.due_at,
                                          confirms=confirms.get(action.description))
            action.follow_up_id = planned[0].id if planned else None
            session.add(action)
            if owner_id != person.id:
                reply.notices.append(Notice(person_id=owner_id, text=(
                    f"You have a new action from the review of {incident_title(session, incident)}, "
                    f"due {action.due_at:%a %d %b}. {{Send:pending}} to see it.")))
        planner.complete_review(session, incident_id=incident_id)
        if state.value("restorative") == "held":  # the manager's dated confirmation, at sign-off
            planner.child_spoken_to(session, incident_id=incident_id, source="review",
                                    actor_id=person.id, now=now)
        session.flush()

    @staticmethod
    def _checks(session: Session, state: State, *, incident: Incident, manager_id: int,
                now: datetime) -> list[dict[str, Any]]:
        """What the review left to do or to check becomes a dated action for the manager."""
        child = crud.get_child(session, child_id=incident.child_id)
        name = child.display_name if child else "the child"
        checks: list[dict[str, Any]] = []
        if state.value("restorative") == "planned":
            checks.append({
                "description": f"Confirm you have spoken with {name} (regulation 35: within 5 days)",
                "owner_id": manager_id, "confirms": "child_spoken_to",
                "due_at": max(incident.occurred_at + timedelta(days=5), now)})
        if state.value("spoken_with_staff") == "some":
            checks.append({
                "description": "Speak with the rest of the staff involved (regulation 35: within "
                               "48 hours)",
                "owner_id": manager_id, "due_at": max(incident.occurred_at + timedelta(hours=48), now)})
        if state.value("notifiable") == "unclear":
            checks.append({
                "description": "Check whether this incident must be notified to Ofsted "
                               "(regulation 40: without delay)",
                "owner_id": manager_id, "due_at": now})
        return checks

    @staticmethod
    def _actions(state: State, *, manager_id: int, now: datetime) -> list[dict[str, Any]]:
        actions = []
        for parts in load_flow(state.flow_id).actions():
            description = state.value(parts["what"])
            if not description:
                continue
            owner = state.value(parts["owner"]) if "owner" in parts else None
            days = int((state.value(parts["due"]) if "due" in parts else None) or DEFAULT_DUE_DAYS)
            actions.append({"description": str(description),
                            "owner_id": int(owner) if owner else manager_id,
                            "due_at": now + timedelta(days=days)})
        if state.value("notified") == "no":
            actions.append({"description": "Notify Ofsted of this serious incident (regulation 40)",
                            "owner_id": manager_id, "due_at": now})
        return actions

    def _add(self, session: Session, person: Person, state: State, reply: FlowReply) -> None:
        assert person.id is not None
        review = store.get_review(session, review_id=int(state.context["review_id"]))
        assert review is not None
        addendum = store.add_addendum(session, review=review, author_id=person.id,
                                      text=str(state.value("text")))
        reply.record_id = addendum.id


def pending_reviews(session: Session, person: Person) -> list[str]:
    """The /pending lines for a manager's reviews, and for anyone's open review actions."""
    assert person.id is not None
    lines: list[str] = []
    if person.role == Role.manager:
        for incident in store.incidents_awaiting_review(session, setting_id=person.setting_id):
            policy = planner.policy_for(session, setting_id=incident.setting_id)
            deadline = policy.deadline("review", t0=incident.occurred_at)
            due = f", due by {deadline.astimezone(policy.zone):%a %d %b at %H:%M}" if deadline else ""
            lines.append(f"• A review of {incident_title(session, incident)}{due}: {{send:review}}.")
    zone = crud.setting_zone(session, setting_id=person.setting_id)
    for action in store.open_actions_of(session, person_id=person.id):
        lines.append(f"• Action: {action.description} (by {action.due_at.astimezone(zone):%a %d %b})")
    return lines
