"""The one dialogue engine: conversation state + one input -> new state + messages to send.

It is pure: no database, no network, no Telegram. The same engine runs in Telegram, in the console
and in tests; whoever calls it stores the state it returns and sends the messages.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from dialogues import buttons, values, when, wording
from dialogues.buttons import Button as Button  # re-exported: channels build and read buttons
from dialogues.buttons import Kind
from dialogues.flow import DEFAULT_WORDS, Flow, Option, Question
from dialogues.kinds import Asking, kind_of
from nlu.catalogue import staff_text
from nlu.flags import flags_from_facts
from nlu.result import Interpreter, NluUnavailable, ParseResult

log = logging.getLogger(__name__)

Status = Literal[
    "active", "paused", "summary", "choose_edit", "confirm_cancel", "distress", "submitted",
    "cancelled",
]
MAX_ANSWER_CHARS = 100_000
NLU_CONTROL_CONFIDENCE = 0.85
NLU_CONTROL_MAX_WORDS = 8
"""A distress message longer than this is kept as well as answered with support."""
NARRATIVE_WORDS = 12  # a message this long at a choice question is an account, not a pick
NOTE_WORDS = 2  # shorter unmatched messages are a failed pick, asked again

class AnswerRecord(BaseModel):
    """One answer: its value, whether it was skipped or unsure, and who gave it."""

    value: Any = None
    status: Literal["answered", "skipped", "unsure"] = "answered"
    source: Literal["user", "nlu"] = "user"
    note: str | None = None  # the person's own words kept with the answer


class State(BaseModel):
    """Everything needed to continue a conversation exactly where it was."""

    flow_id: str
    flow_version: int
    status: Status = "active"
    current: str | None = None
    answers: dict[str, AnswerRecord] = Field(default_factory=dict)
    selection: list[str] = Field(default_factory=list)
    editing: bool = False
    context: dict[str, Any] = Field(default_factory=dict)
    support_requested: bool = False
    ended_early: bool = False
    text_facts: dict[str, Any] = Field(default_factory=dict)
    pending: list[str] = Field(default_factory=list)
    notes: dict[str, list[str]] = Field(default_factory=dict)  # words kept before an answer
    suggested: dict[str, list[str]] = Field(default_factory=dict)  # ticks the account named

    def value(self, question_id: str) -> Any:
        """The answered value of a question, or None."""
        record = self.answers.get(question_id)
        return record.value if record and record.status == "answered" else None


class Outbound(BaseModel):
    """A message for the person: text, and rows of buttons."""

    text: str
    buttons: list[list[Button]] = Field(default_factory=list)
    kind: Literal["question", "info", "error", "summary", "done"] = "info"
    question_id: str | None = None
    replace_previous: bool = False


class Inbound(BaseModel):
    """What the person did: typed text, pressed a button, or sent something we cannot read."""

    kind: Literal["text", "button", "unsupported"]
    text: str = ""

    @classmethod
    def typed(cls, text: str) -> Inbound:
        return cls(kind="text", text=text)

    @classmethod
    def pressed(cls, payload: str) -> Inbound:
        return cls(kind="button", text=payload)

    @classmethod
    def unsupported(cls, what: str = "") -> Inbound:
        return cls(kind="unsupported", text=what)


Result = tuple[State, list[Outbound]]


class Engine:
    """Runs one flow. Give it an interpreter to understand free text; without one, plain words only."""

    def __init__(self, flow: Flow, interpreter: Interpreter | None = None) -> None:
        self.flow = flow
        self.interpreter = interpreter

    # --- entry points -------------------------------------------------------------------------

    def start(self, context: dict[str, Any] | None = None) -> Result:
        """A new conversation: the intro and the first question."""
        state = State(flow_id=self.flow.id, flow_version=self.flow.version, context=context or {})
        first = self._next_question(state)
        intro = Outbound(text=self._words(state, self.flow.intro))
        if first is None:
            return self._finish(state, [intro])
        state.current = first.id
        return state, [intro, self._ask(state, first)]

    def resume(self, state: State) -> Result:
        """Pick up a paused or interrupted conversation exactly where it was."""
        state = state.model_copy(deep=True)
        if state.status in ("submitted", "cancelled"):
            return state, [Outbound(text=self.flow.message("finished"))]
        if state.status in ("paused", "confirm_cancel", "distress"):
            state.status = "active" if state.current is not None else "summary"
        welcome = Outbound(text=self.flow.message("welcome_back"))
        return state, [welcome, *self._current_prompt(state)]

    def handle(self, state: State, inbound: Inbound) -> Result:
        """Apply one input to the conversation."""
        state = state.model_copy(deep=True)
        if state.status in ("submitted", "cancelled"):
            return state, [Outbound(text=self.flow.message("finished"))]
        if state.status == "paused":
            return self.resume(state)
        if inbound.kind == "unsupported":  # an edit has its own answer: the words are there
            key = "edited" if inbound.text == "edited" else "unsupported"
            notice = Outbound(kind="error", text=self.flow.message(key))
            return state, [notice, *self._current_prompt(state)]
        if inbound.kind == "button":
            return self._on_button(state, inbound.text)
        return self._on_text(state, inbound.text)

    def _words(self, state: State, text: str) -> str:
        """A text with the words that differ by person filled in (the flow's, then the context's)."""
        return wording.fill(text, {**DEFAULT_WORDS, **self.flow.words,
                                   **state.context.get("words", {})})

    # --- buttons ------------------------------------------------------------------------------

    def _on_button(self, state: State, payload: str) -> Result:
        pressed = buttons.parse(payload)
        if pressed is None or pressed.scope != scope_of(state):
            stale = Outbound(text=self.flow.message("stale"))
            return state, [stale, *self._current_prompt(state)]
        if state.status != "active":
            return self._on_status_action(state, pressed.kind, pressed.value)
        question = self.flow.question(state.current or "")
        kind, value = pressed.kind, pressed.value
        if kind is Kind.control:
            return self._control(state, question, value)
        if kind is Kind.value:
            return self._accept_pressed_value(state, question, value)
        spec = kind_of(question)
        if kind is Kind.toggle and spec.checks_noted:
            if value in state.selection:
                state.selection.remove(value)
            elif value in self._noted(state):
                state.selection.append(value)
            return state, [self._ask(state, question, replace=True)]
        if kind is Kind.done and spec.checks_noted:
            return self._confirm_ticked(state, question)
        if kind is Kind.toggle and spec.many:
            if value in state.selection:
                state.selection.remove(value)
            elif value in {o.value for o in self._options(state, question)}:
                state.selection.append(value)
            return state, [self._ask(state, question, replace=True)]
        if kind is Kind.done and spec.many:
            if not state.selection:
                msg = Outbound(kind="error", text=self.flow.message("pick_one"))
                return state, [msg, self._ask(state, question)]
            chosen = [o.value for o in self._options(state, question) if o.value in state.selection]
            return self._record(state, question, AnswerRecord(value=chosen))
        if kind is Kind.keep and question.id in state.answers:
            return self._advance(state, question, [])
        return state, self._current_prompt(state)

    def _confirm_ticked(self, state: State, question: Question) -> Result:
        """Keep the noted details left ticked; ask again only for the ones unticked."""
        wrong = [q for q in self._noted(state) if q not in state.selection]
        for noted in self._noted(state):
            if noted in wrong:
                value = state.answers.pop(noted).value
                if kind_of(self.flow.question(noted)).many and value:
                    state.suggested[noted] = list(value)  # shown ticked: add or untick, then Done
            else:
                state.answers[noted].source = "user"
        state.answers[question.id] = AnswerRecord(value=not wrong)
        state.selection = []
        replies = [Outbound(text="Thanks. I'll ask about the ones you unticked.")] if wrong else []
        return self._advance(state, question, replies)

    def _on_status_action(self, state: State, action: Kind, value: str = "") -> Result:
        if state.status in ("summary", "choose_edit"):
            if action is Kind.submit:
                return self._submitted(state, [])
            if action is Kind.edit and not value:
                state.status = "choose_edit"
                return state, [self._edit_menu(state)]
            if action is Kind.edit:
                return self._start_edit(state, value)
            if action is Kind.summary:
                return self._to_summary(state, [])
        if state.status == "confirm_cancel":
            if action is Kind.yes:
                state.status = "cancelled"
                return state, [Outbound(text=self.flow.message("cancelled"))]
            carry_on = Outbound(text="OK, carrying on.")
            if state.current is None:
                return self._to_summary(state, [carry_on])
            state.status = "active"
            return state, [carry_on, *self._current_prompt(state)]
        if state.status == "distress":
            state.status = "paused"
            if action is Kind.tell and not state.context.get("nobody_to_check_in"):
                state.support_requested = True
                text = ("Thank you. I'll let {checkin_person} know you'd like someone to check in. "
                        "Nothing you wrote is shared with them by this. {Send:debrief} whenever "
                        "you're ready to carry on.")
                text = self._words(state, text)
            elif action is Kind.carry_on:
                state.status = "active" if state.current is not None else "summary"
                return state, self._current_prompt(state)
            else:
                text = "That's fine. I've paused here. {Send:debrief} whenever you're ready."
            return state, [Outbound(text=text)]
        return state, self._current_prompt(state)

    # --- typed text ---------------------------------------------------------------------------

    def _on_text(self, state: State, raw: str) -> Result:
        text = raw.strip()
        if not text:
            msg = Outbound(kind="error", text=self.flow.message("empty"))
            return state, [msg, *self._current_prompt(state)]
        if state.status != "active":
            return self._text_outside_question(state, text)
        question = self.flow.question(state.current or "")
        action = self.flow.control_words.get(values.normalise(text)) or values.control_word(text)
        if action is not None:
            return self._control(state, question, action)
        parse = self._read(text)  # any length: the NLU tells a request in a sentence from an answer
        if parse is not None and parse.intent.confidence >= NLU_CONTROL_CONFIDENCE:
            if parse.intent.name == "distress":
                return self._distress_keeping_words(state, question, text)
            mapped = {"skip": "skip", "go_back": "back", "pause": "pause", "help": "help",
                      "unsure": "unsure"}.get(parse.intent.name)
            if mapped:
                return self._control(state, question, mapped)
        return self._accept_typed_value(state, question, text[:MAX_ANSWER_CHARS])

    def _distress_keeping_words(self, state: State, question: Question, text: str) -> Result:
        """Offer support; a longer message is kept too: the answer to a free-text question, else a
        note with the question."""
        if len(text.split()) > NLU_CONTROL_MAX_WORDS:
            if kind_of(question).free_text:
                state, _ = self._record(state, question, AnswerRecord(value=text[:MAX_ANSWER_CHARS]))
            else:
                state.notes.setdefault(question.id, []).append(text[:MAX_ANSWER_CHARS])
        return self._distress(state)

    def _text_outside_question(self, state: State, text: str) -> Result:
        answer = values.yes_no(text)
        word = values.normalise(text)
        if state.status == "summary" and word in ("submit", "send", "done", "finish"):
            return self._on_status_action(state, Kind.submit)
        if state.status == "summary" and word in ("edit", "change"):
            return self._on_status_action(state, Kind.edit)
        if state.status in ("summary", "choose_edit") and values.control_word(text) == "cancel":
            return self._confirm_cancel(state)
        if state.status == "choose_edit":
            options = self._edit_options(state)
            chosen = values.match_option(text, options)
            if chosen is not None:
                return self._start_edit(state, chosen.value)
        if state.status == "confirm_cancel" and answer is not None:
            return self._on_status_action(state, Kind.yes if answer else Kind.no)
        if state.status == "distress" and answer is not None:
            return self._on_status_action(state, Kind.tell if answer else Kind.no)
        return state, self._current_prompt(state)

    def _confirm_cancel(self, state: State) -> Result:
        state.status = "confirm_cancel"
        rows = [[Button(label="Yes, cancel it", payload=buttons.press("confirm_cancel", Kind.yes)),
                 Button(label="No, carry on", payload=buttons.press("confirm_cancel", Kind.no))]]
        return state, [Outbound(text=self.flow.message("cancel_confirm"), buttons=rows)]

    def _distress(self, state: State) -> Result:
        state.status = "distress"
        scope = scope_of(state)
        text = ("That sounds really hard. Let's stop for a moment; your answers so far are saved. "
                "Would you like me to ask {checkin_person} to check in with you?")
        rows = [[Button(label="Yes, please", payload=buttons.press(scope, Kind.tell)),
                 Button(label="No, thanks", payload=buttons.press(scope, Kind.no))],
                [Button(label="Carry on with the debrief",
                        payload=buttons.press(scope, Kind.carry_on))]]
        if state.context.get("nobody_to_check_in"):  # no promise that nobody could keep
            text = ("That sounds really hard. Let's stop for a moment; your answers so far are "
                    "saved. Please talk to {support_person} today.")
            rows = [[Button(label="Pause here", payload=buttons.press(scope, Kind.no)),
                     Button(label="Carry on with the debrief",
                            payload=buttons.press(scope, Kind.carry_on))]]
        return state, [Outbound(text=self._words(state, text), buttons=rows)]

    # --- controls -----------------------------------------------------------------------------

    def _control(self, state: State, question: Question, action: str) -> Result:
        state.pending = []
        if action in ("skip", "unsure") and question.required:
            msg = Outbound(kind="error", text=self.flow.message("required"))
            return state, [msg, self._ask(state, question)]
        if action == "skip":
            return self._record(state, question, AnswerRecord(status="skipped"))
        if action == "unsure":
            return self._record(state, question, AnswerRecord(status="unsure"))
        if action == "help":
            return state, [Outbound(text=f"ℹ️ {self._words(state, question.help)}"),
                           self._ask(state, question)]
        if action == "pause":
            state.status = "paused"
            return state, [Outbound(text=self.flow.message("paused"))]
        if action == "stop":
            state.status = "submitted"
            state.current = None
            state.ended_early = True
            return state, [Outbound(kind="done", text=self.flow.message("stopped"))]
        if action == "cancel":
            return self._confirm_cancel(state)
        if action == "back":
            if state.editing:
                state.editing = False
                return self._to_summary(state, [])
            previous = self._previous_question(state, question)
            if previous is None:
                msg = Outbound(text=self.flow.message("first_question"))
                return state, [msg, self._ask(state, question)]
            state.current = previous.id
            state.selection = self._preselect(state, previous)
            return state, [self._ask(state, previous)]
        return state, [self._ask(state, question)]

    # --- answers ------------------------------------------------------------------------------

    def _accept_pressed_value(self, state: State, question: Question, value: str) -> Result:
        """A pressed button names its option by value, exactly; never by position in the list."""
        if question.moment is not None and value in state.pending:
            day, _, clock = value.partition("@")
            return self._set_when(state, question, day=date.fromisoformat(day),
                                  clock=time.fromisoformat(clock) if clock else None, replies=[])
        spec = kind_of(question)
        if spec.picks and not spec.many:
            chosen = next((o for o in self._options(state, question) if o.value == value), None)
            if chosen is None:
                stale = Outbound(text=self.flow.message("stale"))
                return state, [stale, *self._current_prompt(state)]
            return self._record(state, question, AnswerRecord(value=chosen.value))
        if spec.yes_or_no and value in ("yes", "no"):
            return self._record(state, question, AnswerRecord(value=value == "yes"))
        return state, self._current_prompt(state)

    def _accept_typed_value(self, state: State, question: Question, text: str) -> Result:
        if question.moment is not None:
            return self._accept_when(state, question, text)
        spec = kind_of(question)
        if spec.picks:
            return self._accept_typed_choice(state, question, text)
        if spec.yes_or_no:
            answer, rest = values.yes_no_lead(text)
            if answer is not None and rest and question.fact and (parse := self._read(text)):
                said = _fact_value(parse.facts, question)  # "no marks, but he said his arm hurt"
                answer = said if isinstance(said, bool) else answer
            if answer is not None:
                return self._record(state, question,
                                    AnswerRecord(value=answer, note=text if rest else None))
        value, problem = self._read_value(state, question, text)
        if problem is not None:
            return self._refused(state, question, text, problem)
        return self._record(state, question, AnswerRecord(value=value))

    def _refused(self, state: State, question: Question, text: str, problem: str) -> Result:
        """Ask again with the reason; words worth keeping are kept as a note with the question."""
        if len(text.split()) >= NOTE_WORDS:
            state.notes.setdefault(question.id, []).append(text)
            problem += " I've kept your words as a note."
        return state, [Outbound(kind="error", text=problem), self._ask(state, question)]

    def _accept_typed_choice(self, state: State, question: Question, text: str) -> Result:
        """Options named in the words; otherwise the words are kept (never thrown away) and said so."""
        options = self._options(state, question)
        names = bool(question.options_from)
        multi = kind_of(question).many
        if multi:
            found, unknown = values.match_options(text, options)
            if unknown or not found:
                found = values.mentioned_options(text, options, names=names)
        else:
            one = values.match_option(text, options, names=names)
            found = [one] if one is not None else []
        plain = values.is_plain_pick(text, options)
        kept = None if plain or (found and not values.says_more(text, found, names=names)) else text
        if found:
            value = [o.value for o in found] if multi else found[0].value
            replies = []
            if kept is not None:
                labels = ", ".join(o.label for o in found)
                replies.append(Outbound(text=f"Noted: {labels} — and I've kept your words with it."))
            return self._record(state, question, AnswerRecord(value=value, note=kept), replies)
        words = len(text.split())
        story = next((q for q in self.flow.questions if q.nlu_prefill), None)
        if (words >= NARRATIVE_WORDS and story is not None and story.id not in state.answers
                and self.applies(state, story)):
            state.answers[story.id] = AnswerRecord(value=text)
            self._prefill(state, text)
            kept_as = Outbound(text=self.flow.message("kept_story"))
            return self._advance(state, question, [kept_as])
        if values.sounds_unsure(text) and not question.required:
            state.notes.setdefault(question.id, []).append(text)
            return self._control(state, question, "unsure")
        other = next((o for o in options if o.value == "other"), None)
        if other is not None and words >= NOTE_WORDS:
            value = [other.value] if multi else other.value
            kept_as = Outbound(text=f"I've put that under “{other.label}”, in your words.")
            return self._record(state, question, AnswerRecord(value=value, note=text), [kept_as])
        if words >= NOTE_WORDS:
            state.notes.setdefault(question.id, []).append(text)
            kept_as = Outbound(text=self.flow.message("kept_note"))
            return state, [kept_as, self._ask(state, question)]
        problem = self.flow.message("choose_many" if multi else "choose")
        return state, [Outbound(kind="error", text=problem), self._ask(state, question)]

    def _read_value(self, state: State, question: Question, text: str) -> tuple[Any, str | None]:
        return kind_of(question).read(question, text, self._asking(state, question))

    def _asking(self, state: State, question: Question) -> Asking:
        """What the question's type needs to read or ask it, from the conversation."""
        noted = [(q, self._describe(state, self.flow.question(q))) for q in self._noted(state)] \
            if kind_of(question).checks_noted else []
        return Asking(options=self._options(state, question), selection=state.selection,
                      label=self.flow.label, message=self.flow.message, read=self._read,
                      noted=noted)

    # --- when it happened ---------------------------------------------------------------------

    def _accept_when(self, state: State, question: Question, text: str) -> Result:
        """A typed day, date or time: read against now in the setting, never guessed silently."""
        now = when.now_of(state.context)
        if state.pending and len(state.pending) == 1 and values.yes_no(text) is True:
            return self._accept_pressed_value(state, question, state.pending[0])
        if state.pending and values.yes_no(text) is False:
            state.pending = []
            return state, [Outbound(text="OK. Please type it again, like “yesterday 22:40”."),
                           self._ask(state, question)]
        options = self._options(state, question)
        reading = when.read(text, now=now)
        plain = values.is_plain_pick(text, options)  # "2" or "3 or more days ago" is a button's
        if question.moment == "day" and (plain or (reading.day is None and not reading.times)):
            option = values.match_option(text, options)
            if option is not None:
                return self._record(state, question, AnswerRecord(value=option.value))
        day = reading.day
        if day is None and question.moment == "time":
            day = self._answered_day(state, now)
        elif day is None and question.moment == "day" and reading.times:
            day = now.date()
        if day is None:
            problem = ("Please give the date, like 14/11 or last Friday." if question.moment == "date"
                       else self.flow.message("choose"))
            return self._refused(state, question, text, problem)
        if day > now.date():
            problem = "That date is still to come. Please check it (like 14/11 or last Friday)."
            return state, [Outbound(kind="error", text=problem), self._ask(state, question)]
        if not reading.times:
            if question.moment == "time":
                problem = "Please give a time of day, like 14:30 or 2.30pm."
                return self._refused(state, question, text, problem)
            return self._set_when(state, question, day=day, clock=None, replies=[])
        return self._settle_times(state, question, day=day, times=reading.times, now=now)

    def _settle_times(self, state: State, question: Question, *, day: date,
                      times: tuple[time, ...], now: datetime) -> Result:
        zone = when.zone_of(state.context)
        past = [t for t in times
                if when.local_moment(day=day, clock=t, zone=zone)[0] <= now + when.FUTURE_GRACE]
        if len(past) == 1:
            return self._checked_time(state, question, day=day, clock=past[0], now=now)
        if len(past) == 2:
            state.pending = [f"{day.isoformat()}@{t:%H:%M}" for t in past]
            text = f"Was that {past[0]:%H:%M} in the morning or {past[1]:%H:%M} in the evening?"
            return state, [Outbound(text=text), self._ask(state, question)]
        yesterday = now.date() - timedelta(days=1)
        if day != now.date():
            problem = "That's later than it is now. Please check the day and time."
            return state, [Outbound(kind="error", text=problem), self._ask(state, question)]
        clock = max(times)
        state.pending = [f"{yesterday.isoformat()}@{clock:%H:%M}"]
        text = (f"That's later than now (it's {now:%H:%M}) — did you mean yesterday at "
                f"{clock:%H:%M}? {{Tap}} it, or type the time again.")
        return state, [Outbound(text=text), self._ask(state, question)]

    def _checked_time(self, state: State, question: Question, *, day: date, clock: time,
                      now: datetime) -> Result:
        """A single reading: offered again when the clocks skipped it, noted when they repeated it."""
        moment, change = when.local_moment(day=day, clock=clock, zone=when.zone_of(state.context))
        if change == "skipped":
            state.pending = [f"{day.isoformat()}@{moment:%H:%M}"]
            text = (f"The clocks went forward that night, so {clock:%H:%M} didn't happen on the "
                    f"clock. Did you mean {moment:%H:%M}? {{Tap}} it, or type the time again.")
            return state, [Outbound(text=text), self._ask(state, question)]
        replies = []
        if change == "twice":
            replies.append(Outbound(text=(
                f"The clocks went back that night, so {clock:%H:%M} happened twice; I've noted the "
                "first one, before the clocks went back.")))
        return self._set_when(state, question, day=day, clock=clock, replies=replies)

    def _set_when(self, state: State, question: Question, *, day: date, clock: time | None,
                  replies: list[Outbound]) -> Result:
        """Store the day (and the date when it was further back) and the time, then carry on."""
        now = when.now_of(state.context)
        state.pending = []
        state.selection = []
        option, date_iso = when.day_answer(day=day, today=now.date())
        for kind, value in (("day", option), ("date", date_iso),
                            ("time", None if clock is None else f"{clock:%H:%M}")):
            target = self._moment_question(kind)
            if target is None or value is None:
                continue
            state.answers[target.id] = AnswerRecord(value=value)
        if clock is not None:
            moment = when.local_moment(day=day, clock=clock, zone=when.zone_of(state.context))[0]
            replies.append(Outbound(text=f"Noted: {when.spoken(moment, now=now)}."))
            if now - moment > when.LATE_RECORD:
                replies.append(Outbound(text=self.flow.message("late_record")))
        return self._advance(state, question, replies)

    def _time_still_past(self, state: State, *, day_option: Any) -> list[Outbound]:
        """A new day with the time already given must not make it later than now; if it does, the
        time is asked again (never stored in the future)."""
        time_question = self._moment_question("time")
        clock = state.value(time_question.id) if time_question else None
        if time_question is None or clock is None:
            return []
        now = when.now_of(state.context)
        day = when.answered_day(day_option=day_option, date_iso=None, today=now.date())
        moment = when.local_moment(day=day, clock=time.fromisoformat(clock),
                                   zone=when.zone_of(state.context))[0]
        if moment <= now + when.FUTURE_GRACE:
            return []
        del state.answers[time_question.id]
        return [Outbound(text=f"That would make {clock} later than now, so please give the time "
                              "again.")]

    def _moment_question(self, kind: str) -> Question | None:
        return next((q for q in self.flow.questions if q.moment == kind), None)

    def _answered_day(self, state: State, now: datetime) -> date | None:
        day_question = self._moment_question("day")
        date_question = self._moment_question("date")
        option = state.value(day_question.id) if day_question else None
        if option is None:
            return None
        date_iso = state.value(date_question.id) if date_question else None
        return when.answered_day(day_option=option,
                                 date_iso=date_iso if option == when.EARLIER else None,
                                 today=now.date())

    def _record(self, state: State, question: Question, record: AnswerRecord,
                replies: list[Outbound] | None = None) -> Result:
        replies = list(replies or [])
        earlier = state.notes.pop(question.id, [])
        if earlier:
            record.note = "\n".join([*earlier, *([record.note] if record.note else [])])
        if question.note_for and record.status == "answered" and question.note_for in state.answers:
            target = state.answers[question.note_for]
            target.note = "\n".join(n for n in (target.note, str(record.value)) if n)
        if question.moment == "day" and record.status == "answered":
            replies.extend(self._time_still_past(state, day_option=record.value))
        if kind_of(question).checks_noted:
            if record.value is False:
                for noted in self._noted(state):
                    del state.answers[noted]
                record = AnswerRecord(value=False)
                replies.append(Outbound(text="Thanks for checking. Let's go through them one by one."))
            else:
                for noted in self._noted(state):
                    state.answers[noted].source = "user"
        state.answers[question.id] = record
        state.suggested.pop(question.id, None)
        state.selection = []
        state.pending = []
        if record.status == "answered":
            replies.extend(self._option_replies(state, question, record.value))
            if question.nlu_prefill and isinstance(record.value, str):
                self._prefill(state, record.value)
        if kind_of(question).checks_noted and record.value is False:
            del state.answers[question.id]
        return self._advance(state, question, replies)

    def _advance(self, state: State, question: Question, replies: list[Outbound]) -> Result:
        upcoming = self._next_question(state)
        if upcoming is None:
            state.editing = False
            return self._finish(state, replies)
        state.current = upcoming.id
        state.selection = self._preselect(state, upcoming)
        return state, [*replies, self._ask(state, upcoming)]

    def _option_replies(self, state: State, question: Question, value: Any) -> list[Outbound]:
        chosen = value if isinstance(value, list) else [value]
        return [Outbound(text=self._words(state, o.reply)) for o in self._options(state, question)
                if o.reply and o.value in chosen]

    def _read(self, text: str) -> ParseResult | None:
        """The NLU's reading of a message, or None without one (a debrief never stops for the NLU)."""
        if self.interpreter is None:
            return None
        try:
            return self.interpreter.parse(text)
        except NluUnavailable:
            log.warning("NLU unavailable; carrying on with plain words")
            return None

    def _prefill(self, state: State, text: str) -> None:
        """Fill what the account says: the NLU's facts, then options named in its words."""
        parse = self._read(text)
        facts = parse.facts if parse is not None else {}
        if parse is not None:
            state.text_facts = facts
        for question in self.flow.questions:
            if question.id in state.answers:
                continue
            value = _fact_value(facts, question) if question.fact else None
            if question.fact == "interventions":
                value = _interventions(facts, value) or None
            if value is None and question.from_story:
                value = self._named_in(state, question, text)
            if value is not None:
                state.answers[question.id] = AnswerRecord(value=value, source="nlu")

    def _named_in(self, state: State, question: Question, text: str) -> Any:
        """The options an account names in its words (people by name), if any."""
        options = [o for o in self._options(state, question) if o.value not in ("none", "other")]
        found = values.mentioned_options(text, options, names=bool(question.options_from))
        if kind_of(question).many:
            if question.id == "interventions" or not found:
                return [o.value for o in found] or None
            return [o.value for o in found]
        return found[0].value if len(found) == 1 else None

    def _noted(self, state: State) -> list[str]:
        return [q for q, r in state.answers.items() if r.source == "nlu"]

    # --- navigation ---------------------------------------------------------------------------

    def applies(self, state: State, question: Question) -> bool:
        """Whether a question is asked, given the setting and the answers so far."""
        if kind_of(question).checks_noted and not self._noted(state):
            return False
        if question.note_for and (state.answers.get(question.note_for) or AnswerRecord()).note \
                and question.id not in state.answers:
            return False  # their words are already kept with that answer
        answers = {q: r.value for q, r in state.answers.items() if r.status == "answered"}
        return question.when is None or question.when.holds(context=state.context, answers=answers)

    def _previous_question(self, state: State, question: Question) -> Question | None:
        """The nearest earlier question that was asked, for Back."""
        for earlier in reversed(self.flow.questions[: self.flow.index(question.id)]):
            if earlier.id in state.answers and self.applies(state, earlier):
                return earlier
        return None

    def _next_question(self, state: State) -> Question | None:
        """The first question that applies and has no answer yet (skipped and unsure count)."""
        for question in self.flow.questions:
            if question.id not in state.answers and self.applies(state, question):
                return question
        return None

    def _start_edit(self, state: State, question_id: str) -> Result:
        if question_id not in {o.value for o in self._edit_options(state)}:
            return state, [self._edit_menu(state)]
        question = self.flow.question(question_id)
        state.status = "active"
        state.editing = True
        state.current = question.id
        state.selection = self._preselect(state, question)
        return state, [self._ask(state, question)]

    # --- rendering ----------------------------------------------------------------------------

    def _current_prompt(self, state: State) -> list[Outbound]:
        if state.status in ("summary", "choose_edit"):
            return self._to_summary(state, [])[1]
        if state.status == "confirm_cancel":
            return self._confirm_cancel(state)[1]
        if state.status == "distress":
            return self._distress(state)[1]
        if state.current is None:
            return []
        return [self._ask(state, self.flow.question(state.current))]

    def _options(self, state: State, question: Question) -> list[Option]:
        if question.options_from:
            raw = state.context.get("options", {}).get(question.options_from, [])
            return [Option.model_validate(o) for o in raw]
        answers = {q: r.value for q, r in state.answers.items() if r.status == "answered"}
        return [o for o in question.options
                if o.when is None or o.when.holds(context=state.context, answers=answers)]

    def _preselect(self, state: State, question: Question) -> list[str]:
        if kind_of(question).checks_noted:
            return self._noted(state)
        value = state.value(question.id) or state.suggested.get(question.id)
        return list(value) if kind_of(question).many and value else []

    def _ask(self, state: State, question: Question, *, replace: bool = False) -> Outbound:
        scope = question.id
        rows: list[list[Button]] = []
        spec = kind_of(question)
        asking = self._asking(state, question)
        text = spec.prompt(question, self._words(state, question.prompt), asking)
        rows.extend(spec.buttons(question, asking))
        if question.moment is not None and state.pending:
            now = when.now_of(state.context)
            zone = when.zone_of(state.context)
            offers = []
            for candidate in state.pending:
                day, _, clock = candidate.partition("@")
                moment = when.local_moment(day=date.fromisoformat(day),
                                           clock=time.fromisoformat(clock), zone=zone)[0]
                offers.append(Button(label=when.spoken(moment, now=now).capitalize(),
                                     payload=buttons.press(scope, Kind.value, candidate)))
            rows.insert(0, offers)
        record = state.answers.get(question.id)
        if record is not None and record.status == "answered" and not replace:
            text += f"\n\nYou said: {self._format(state, question, record.value)}"
            rows.append([Button(label=self.flow.label("keep"),
                                payload=buttons.press(scope, Kind.keep))])
        skippable = () if question.required else ("skip", "unsure")
        for row in (("back", *skippable), ("help", "pause", "stop")):
            controls = [Button(label=self.flow.label(c), payload=buttons.press(scope, Kind.control, c))
                        for c in row if c in self.flow.controls]
            if controls:
                rows.append(controls)
        return Outbound(text=text, buttons=rows, kind="question", question_id=question.id,
                        replace_previous=replace)

    def _format(self, state: State, question: Question, value: Any) -> str:
        if value is None:
            return "—"
        labels = {o.value: o.label for o in self._options(state, question)}
        return kind_of(question).shown(question, value, labels)

    def _describe(self, state: State, question: Question) -> str:
        record = state.answers[question.id]
        return f"{question.short.lower()}: {self._format(state, question, record.value)}"

    def _summary_lines(self, state: State) -> list[str]:
        lines = []
        for number, question in enumerate(self._answered_questions(state), start=1):
            record = state.answers[question.id]
            shown = {"skipped": "skipped", "unsure": "not sure"}.get(
                record.status, self._format(state, question, record.value))
            lines.append(f"{number}. {question.short}: {shown}")
        return lines

    def _answered_questions(self, state: State) -> list[Question]:
        return [q for q in self.flow.questions
                if q.id in state.answers and not kind_of(q).checks_noted
                and self.applies(state, q)]

    def flags(self, state: State) -> list[str]:
        """Points to reflect on, from the structured answers."""
        return flags_from_facts(facts_from_answers(self.flow, state))

    def _finish(self, state: State, replies: list[Outbound]) -> Result:
        """The end of the questions: the summary to check, or (for flows without one) done."""
        if self.flow.show_summary:
            return self._to_summary(state, replies)
        return self._submitted(state, replies)

    def _submitted(self, state: State, replies: list[Outbound]) -> Result:
        state.status = "submitted"
        state.current = None
        state.editing = False
        return state, [*replies, Outbound(kind="done", text=self.flow.done)]

    def _to_summary(self, state: State, replies: list[Outbound]) -> Result:
        state.status = "summary"
        state.current = None
        state.editing = False
        lines = self._summary_lines(state)
        text = self.flow.message("summary_intro") + "\n\n" + "\n".join(lines)
        reflect = [staff_text(f) for f in self.flags(state)]
        if reflect:
            text += "\n\nPoints to reflect on (not a judgement):\n" + "\n".join(
                f"• {r}" for r in reflect)
        rows = [[Button(label=self.flow.label("submit"), payload=buttons.press("summary", Kind.submit)),
                 Button(label=self.flow.label("edit"), payload=buttons.press("summary", Kind.edit))]]
        return state, [*replies, Outbound(text=text, buttons=rows, kind="summary")]

    def _edit_options(self, state: State) -> list[Option]:
        return [Option(value=q.id, label=q.short) for q in self._answered_questions(state)]

    def _edit_menu(self, state: State) -> Outbound:
        options = self._edit_options(state)
        choices = [Button(label=f"{i}. {o.label}",
                          payload=buttons.press("choose_edit", Kind.edit, o.value))
                   for i, o in enumerate(options, start=1)]
        rows = [choices[i:i + 2] for i in range(0, len(choices), 2)]
        rows.append([Button(label="Back to the summary",
                            payload=buttons.press("choose_edit", Kind.summary))])
        return Outbound(text="Which answer would you like to change? ({tap} it or type its number)",
                        buttons=rows)


def scope_of(state: State) -> str:
    """The scope a pressed button must carry to count: the current question, or the status."""
    return state.current if state.status == "active" and state.current else state.status


def facts_from_answers(flow: Flow, state: State) -> dict[str, Any]:
    """The NLU-shaped facts of a conversation's structured answers, for flags and patterns."""
    facts: dict[str, Any] = {"injury": {"child": None, "staff": None}}
    for key in ("pain_inflicted", "used_as_punishment", "prn_medication"):
        facts[key] = state.text_facts.get(key)
    for question in flow.questions:
        value = state.value(question.id)
        if not question.fact or value is None:
            continue
        if question.fact.startswith("injury."):
            facts["injury"][question.fact.split(".", 1)[1]] = value
        elif question.fact == "interventions":
            if "prn" in value:
                facts["prn_medication"] = True
        elif kind_of(question).many:
            facts[question.fact] = [v for v in value if v != "none"]
        elif kind_of(question).picks and question.fact.endswith("s"):
            facts[question.fact] = [] if value in ("none", "other") else [value]
        else:
            facts[question.fact] = value
    return facts


def _fact_value(facts: dict[str, Any], question: Question) -> Any:
    """The answer an NLU fact gives to a structured question, if it says anything."""
    assert question.fact is not None
    if question.fact.startswith("injury."):
        return (facts.get("injury") or {}).get(question.fact.split(".", 1)[1])
    value = facts.get(question.fact)
    if value in (None, []):
        return None
    known = {o.value for o in question.options}
    if kind_of(question).many:
        picked = [v for v in value if v in known]
        return picked or None
    if kind_of(question).picks:
        candidates = value if isinstance(value, list) else [value]
        picked = [v for v in candidates if v in known]
        return picked[0] if picked else None
    return value


def _interventions(facts: dict[str, Any], named: Any) -> list[str]:
    """What was used, from the facts an account gives (a hold, a door, a room, equipment, PRN)."""
    used = list(named or [])
    holds = facts.get("hold_types") or []
    restrictions = set(facts.get("restrictions") or [])

    def add(value: str) -> None:
        if value not in used:
            used.append(value)

    if [h for h in holds if h != "escort"]:
        add("physical_hold")
    if "escort" in holds:
        add("guided")
    if restrictions & {"locked_door"}:
        add("door")
    if restrictions & {"blocked_exit", "isolation", "single_separation", "managing_away"}:
        add("separation")
    if facts.get("equipment") or "mobility_aid_removed" in restrictions:
        add("equipment")
    if facts.get("prn_medication") is True:
        add("prn")
    return used
