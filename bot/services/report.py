"""The inspection report: one PDF an inspector who has never seen Flourish can read.

A cover with the period's figures and a chart, how to read the report, the pattern flags with the
incidents behind them, the numbers by child, staff, shift, place and measure, then one section per
incident: every regulation 35(3) field, the staff accounts, the child's own view, the review and
sign-off with times, the three deadlines met or missed, addenda and actions. Drawn with fpdf2 and
the DejaVu fonts that ship inside matplotlib, so nothing is fetched at run time.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.services import charts
from bot.services import insights as service
from bot.services.export import export_records
from storage import crud
from storage.models import Setting
from storage.types import utcnow

MARGIN = 15
WIDTH = 210 - 2 * MARGIN
GREY = (90, 90, 90)
# The staff debrief's answers by regulation 35(3)(a) item (the record made within 24 hours).
REG35_FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("35(3)(a)(i)", "Name of the child", ()),
    ("35(3)(a)(ii)", "Date, time and location", ("location",)),
    ("35(3)(a)(iii)", "The child's behaviour that led to the measure",
     ("communication", "triggers", "tried_first", "necessity")),
    ("35(3)(a)(iv)", "The measure used, its description and duration",
     ("interventions", "hold_types", "restrictions", "equipment", "describe", "duration",
      "staff_count")),
    ("35(3)(a)(v)", "Who used the measure, and anyone else present", ()),
    ("35(3)(a)(vi)", "Effectiveness and consequences", ("ending", "least_restrictive",
                                                         "next_time")),
    ("35(3)(a)(vii)", "Injuries to anyone, and medical treatment",
     ("child_injured", "staff_injured", "injury_details")),
)
DEADLINE_TITLES = (("recorded_within_24h", "Record made within 24 hours (35(3)(a))"),
                   ("review_signed_within_48h",
                    "Staff spoken to and record signed within 48 hours (35(3)(b))"),
                   ("child_spoken_to_within_5_days", "Child spoken to within 5 days (35(3)(c))"))
HOW_TO_READ = (
    "Flourish is a debrief tool used by staff after a child has been physically restrained or "
    "had their liberty restricted. Each member of staff involved answers a short, structured "
    "debrief; the registered manager then reviews it, and the child is offered a way to give "
    "their own view. This report holds, for the period above, the figures across all incidents, "
    "the patterns the system found (each with the incidents behind it, so it can be checked), "
    "and then the full record of every incident in date order. Times are local to the home. "
    "A deadline is 'met' when the step was done in time, 'missed' when it was late or is "
    "overdue, and 'not yet due' when its time has not come.")


def _font_dir() -> str:
    import matplotlib

    return os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf")


def _pdf() -> Any:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    folder = _font_dir()
    pdf.add_font("DejaVu", "", os.path.join(folder, "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", os.path.join(folder, "DejaVuSans-Bold.ttf"))
    pdf.set_font("DejaVu", size=10)
    return pdf


class _Writer:
    """Small helpers over fpdf2: headings, paragraphs, label/value rows, tables, images."""

    def __init__(self) -> None:
        from fpdf.enums import XPos, YPos

        self.pdf = _pdf()
        self.next_line = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
        self.widths: dict[tuple[str, str, float, str], float] = {}

    def heading(self, text: str, *, size: int = 14, page: bool = False) -> None:
        if page or self.pdf.get_y() > 250:
            self.pdf.add_page()
        self.pdf.set_font("DejaVu", "B", size)
        for line in self._lines(text, WIDTH - 2):
            self.pdf.cell(WIDTH, size * 0.5, line, **self.next_line)
        self.pdf.ln(1.5)
        self.pdf.set_font("DejaVu", "", 10)

    def _lines(self, text: str, width: float) -> list[str]:
        """Greedy word wrap by measured word widths (fpdf2's own multi_cell is far slower)."""
        lines: list[str] = []
        space = self.pdf.get_string_width(" ")
        for paragraph in text.split("\n"):
            line, used = "", 0.0
            for word in paragraph.split(" "):
                size = self._width(word)
                if line and used + space + size > width:
                    lines.append(line)
                    line, used = "", 0.0
                while size > width and len(word) > 1:  # a word longer than the line
                    cut = max(1, int(len(word) * width / size) - 1)
                    lines.append(word[:cut])
                    word = word[cut:]
                    size = self._width(word)
                line, used = (f"{line} {word}", used + space + size) if line else (word, size)
            lines.append(line)
        return lines

    def _width(self, word: str) -> float:
        key = (self.pdf.font_family, self.pdf.font_style, self.pdf.font_size_pt, word)
        if key not in self.widths:
            self.widths[key] = float(self.pdf.get_string_width(word))
        return self.widths[key]

    def _block(self, x: float, width: float, height: float, text: str) -> float:
        """Write wrapped text in a column starting at x and the current y; return the end y."""
        y = float(self.pdf.get_y())
        for line in self._lines(text, width - 2):
            self.pdf.set_xy(x, y)
            self.pdf.cell(width, height, line)
            y += height
        return y

    def text(self, text: str, *, style: str = "", size: int = 10, grey: bool = False) -> None:
        self.pdf.set_font("DejaVu", style, size)
        if grey:
            self.pdf.set_text_color(*GREY)
        for line in self._lines(text, WIDTH - 2):
            self.pdf.cell(WIDTH, 5, line, **self.next_line)
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.set_font("DejaVu", "", 10)

    def row(self, label: str, value: str, *, label_width: float = 62) -> None:
        """A label in bold on the left, its value wrapped on the right."""
        if self.pdf.get_y() > 270:
            self.pdf.add_page()
        y = self.pdf.get_y()
        self.pdf.set_font("DejaVu", "B", 9)
        label_end = self._block(MARGIN, label_width, 4.6, label)
        self.pdf.set_y(y)
        self.pdf.set_font("DejaVu", "", 9)
        value_end = self._block(MARGIN + label_width, WIDTH - label_width, 4.6, value or "—")
        self.pdf.set_xy(MARGIN, max(label_end, value_end) + 0.8)
        self.pdf.set_font("DejaVu", "", 10)

    def counts(self, title: str, counts: Mapping[Any, int], total: int) -> None:
        """A small table: each value, its count and its share of the incidents."""
        if not counts:
            return
        self.text(title, style="B")
        for key, count in counts.items():
            share = f" ({round(100 * count / total)}%)" if total else ""
            self.row(f"  {key}", f"{count}{share}", label_width=80)
        self.pdf.ln(1)

    def image(self, png: bytes, *, width: float = WIDTH) -> None:
        if self.pdf.get_y() > 200:
            self.pdf.add_page()
        self.pdf.image(io.BytesIO(png), w=width)
        self.pdf.ln(2)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _local(iso: str | None, zone: ZoneInfo) -> str:
    if not iso:
        return "—"
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%a %d %b %Y, %H:%M")


def _answer_text(answer: Mapping[str, Any] | None) -> str:
    if not answer:
        return "—"
    if answer.get("status") == "skipped":
        return "(skipped)"
    if answer.get("status") == "unsure":
        return "(not sure)"
    words = answer.get("label")
    if words in (None, ""):
        value = answer.get("value")
        words = "; ".join(map(str, value)) if isinstance(value, list) else value
    return str(words) if words not in (None, "") else "—"


def _deadline_text(entry: Mapping[str, Any], zone: ZoneInfo) -> str:
    status = entry.get("status", "")
    done = entry.get("done_at")
    due = _local(entry.get("due_at"), zone)
    if done:
        return f"{status.upper()}: done {_local(done, zone)} (due by {due})"
    return f"{status.upper()}: not done (due by {due})"


def build_report(session: Session, *, setting_id: int, start: datetime, end: datetime,
                 actor_id: int | None = None, now: datetime | None = None) -> bytes:
    """The inspection PDF of one setting for incidents in [start, end), as bytes."""
    now = now or utcnow()
    setting = crud.get_setting(session, setting_id=setting_id)
    if setting is None:
        raise ValueError(f"There is no setting {setting_id}.")
    zone = ZoneInfo(setting.timezone)
    numbers = service.summary(session, setting_id=setting_id, start=start, end=end, now=now)
    records = export_records(session, setting_id=setting_id, actor_id=actor_id, start=start,
                             end=end, now=now)
    per_child = service.weekly(session, setting_id=setting_id, start=start, end=end)
    measures = service.weekly(session, setting_id=setting_id, start=start, end=end, by="measure")
    w = _Writer()
    _cover(w, numbers=numbers, setting=setting, zone=zone, now=now)
    w.image(charts.deadlines_met(deadlines=numbers.deadlines), width=WIDTH * 0.85)
    w.image(charts.incidents_per_week(weeks=per_child.weeks, series=per_child.series),
            width=WIDTH * 0.85)
    w.heading("How to read this report", size=12)
    w.text(HOW_TO_READ, size=9)
    _flags(w, flags=numbers.flags, records=records, zone=zone)
    _numbers(w, numbers=numbers, measures=measures)
    for record in records:
        _incident(w, record=record, zone=zone)
    if not records:
        w.heading("Incidents", size=14, page=True)
        w.text("No incidents were recorded in this period.")
    return w.output()


def _cover(w: _Writer, *, numbers: service.Summary, setting: Setting, zone: ZoneInfo,
           now: datetime) -> None:
    w.pdf.add_page()
    w.heading(f"Restraint and restriction records: {setting.name}", size=17)
    first, last, made = (at.astimezone(zone) for at in (numbers.start, numbers.end, now))
    w.text(f"Period: {first:%d %b %Y} to {last:%d %b %Y} (incidents before {last:%H:%M} on the "
           f"last day). Produced {made:%d %b %Y at %H:%M} by Flourish for inspection. Contains "
           f"children's personal data: keep it safe.", grey=True, size=9)
    w.pdf.ln(2)
    holds = sum(numbers.by_hold.values())
    w.row("Incidents", f"{numbers.total} ({numbers.per_week} a week)")
    w.row("Children involved", str(len(numbers.by_child)))
    w.row("Physical holds (by type, total uses)", str(holds))
    w.row("Prone or floor holds", numbers.rate(numbers.injuries["ground_hold"]))
    w.row("A child was hurt", numbers.rate(numbers.injuries["child_injured"]))
    w.row("A member of staff was hurt", numbers.rate(numbers.injuries["staff_injured"]))
    for deadline in numbers.deadlines:
        w.row(deadline.name, f"met {deadline.met}, missed {deadline.missed}, "
                             f"not yet due {deadline.pending}")
    median = numbers.review_hours_median
    w.row("Time to sign a review", "—" if median is None else
          f"median {median:g} hours (90% within {numbers.review_hours_p90:g} hours)")
    actions = numbers.actions
    w.row("Review actions", f"{actions.total}: done {actions.done}, open {actions.open}, "
                            f"overdue {actions.overdue}")
    w.row("Patterns found", str(len(numbers.flags)))


def _flags(w: _Writer, *, flags: Sequence[service.PatternFlag], records: list[dict[str, Any]],
           zone: ZoneInfo) -> None:
    w.heading("Patterns across incidents", page=True)
    if not flags:
        w.text("No pattern was found in the last window of this period.")
        return
    w.text("Each pattern below is worked out from the structured answers of the debriefs (not "
           "from anyone's opinion) over the last weeks of the period. The incidents behind it "
           "are listed so each can be checked in its section below.", size=9, grey=True)
    w.pdf.ln(1)
    titles = {r["id"]: f"#{r['id']} {r['child']}, {_local(r['occurred_at'], zone)}"
              for r in records}
    for flag in flags:
        w.text(flag.sentence, style="B", size=10)
        listed = [titles.get(i, f"#{i} (before this period)") for i in flag.incident_ids]
        w.text("Incidents: " + "; ".join(listed), size=8, grey=True)
        w.pdf.ln(1.5)


def _numbers(w: _Writer, *, numbers: service.Summary, measures: service.Weekly) -> None:
    w.heading("The numbers", page=True)
    w.image(charts.heat_map(heat=numbers.heat), width=WIDTH * 0.85)
    w.image(charts.holds_over_time(weeks=measures.weeks, series=measures.series),
            width=WIDTH * 0.85)
    total = numbers.total
    for title, counts in (("By child", numbers.by_child), ("By member of staff involved",
                                                         numbers.by_staff),
                          ("By shift", numbers.by_shift), ("By weekday", numbers.by_weekday),
                          ("By place", numbers.by_location),
                          ("By kind of intervention", numbers.by_intervention),
                          ("By hold", numbers.by_hold), ("By restriction", numbers.by_restriction),
                          ("By how long it lasted", numbers.by_duration),
                          ("By what seemed to set it off", numbers.by_trigger)):
        w.counts(title, counts, total)


def _incident(w: _Writer, *, record: Mapping[str, Any], zone: ZoneInfo) -> None:
    when = _local(record["occurred_at"], zone)
    w.heading(f"Incident #{record['id']}: {record['child']}, {when}", size=13, page=True)
    debriefs = record["debriefs"]
    first = debriefs[0]["answers"] if debriefs else {}
    merged: dict[str, Any] = {}
    for debrief in debriefs:
        for question_id, answer in debrief["answers"].items():
            merged.setdefault(question_id, answer)
    flags = ", ".join(f.replace("_", " ") for f in record["flags"]) or "none"
    w.text(f"Points to reflect on raised by the debriefs: {flags}.", size=9, grey=True)
    w.text("Regulation 35(3) record", style="B", size=11)
    for item, title, question_ids in REG35_FIELDS:
        if item == "35(3)(a)(i)":
            value = str(record["child"])
        elif item == "35(3)(a)(ii)":
            value = f"{when}; {_answer_text(first.get('location') or merged.get('location'))}"
        elif item == "35(3)(a)(v)":
            people = [d["person"] for d in debriefs]
            others = [p for p in record["staff"] if p not in people[:1]]
            value = (f"Recorded by {people[0] if people else '—'}; also involved: "
                     f"{', '.join(others) or 'nobody else'}")
        else:
            value = "\n".join(f"{merged[q].get('question', q)}: {_answer_text(merged[q])}"
                              for q in question_ids if q in merged) or "—"
        w.row(f"{item} {title}", value)
    w.pdf.ln(1)
    w.text("Deadlines", style="B", size=11)
    for key, title in DEADLINE_TITLES:
        entry = record.get("regulation_35", {}).get(key)
        if entry:
            w.row(title, _deadline_text(entry, zone))
    for debrief in debriefs:
        w.pdf.ln(1)
        w.text(f"Account of {debrief['person']} (submitted {_local(debrief['submitted_at'], zone)})",
               style="B", size=11)
        _answers(w, debrief["answers"].values())
    for view in record.get("child_views", []):
        w.pdf.ln(1)
        how = "in their own words" if view["mode"] == "self" else \
            f"recorded with {view['recorded_by'] or 'a member of staff'}"
        ended = " The child chose to stop early." if view["ended_early"] else ""
        w.text(f"The child's view ({how}, {_local(view['created_at'], zone)}).{ended}",
               style="B", size=11)
        _answers(w, view["answers"].values())
    if not record.get("child_views"):
        w.text("The child's view: none recorded through Flourish.", size=9, grey=True)
    for review in record.get("reviews", []):
        w.pdf.ln(1)
        w.text(f"Manager's review, signed by {review['manager']} on "
               f"{_local(review['signed_at'], zone)}", style="B", size=11)
        _answers(w, review["answers"].values())
        for action in review["actions"]:
            done = _local(action["done_at"], zone) if action["done_at"] else "not done yet"
            w.row(f"Action ({action['owner'] or 'no owner'})",
                  f"{action['description']} (due {_local(action['due_at'], zone)}; {done})")
        for addendum in review["addenda"]:
            w.row(f"Addendum by {addendum['author']}, {_local(addendum['created_at'], zone)}",
                  addendum["text"])
    if not record.get("reviews"):
        w.text("Manager's review: not signed yet.", style="B", size=10)


def _answers(w: _Writer, answers: Iterable[Mapping[str, Any]]) -> None:
    for answer in answers:
        w.row(str(answer.get("question", "")), _answer_text(answer))
