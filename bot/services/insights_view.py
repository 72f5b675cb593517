"""What `/insights` and `/report` answer, for any channel: text, charts and buttons, or a PDF.

Managers of a setting only: staff and children are refused politely (and the refusal audited),
the same way `bot.services.access` refuses everything else. A manager picks a period, a child or a member
of staff with buttons; payloads are `in:<what>:<id>` (`p` days, `c` child id, `s` person id,
`a` all), under Telegram's 64 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.services import access, charts
from bot.services import insights as service
from bot.services.report import build_report
from storage import crud
from storage.models import Person, Role, Setting
from storage.types import utcnow

PREFIX = "in"
PERIODS = ((28, "4 weeks"), (84, "12 weeks"), (365, "a year"))
DEFAULT_DAYS = 84
MANAGERS_ONLY = ("Sorry, insights and reports are for managers. If you have noticed a pattern, "
                 "please talk to your manager.")
TOP = 5


@dataclass(frozen=True)
class Photo:
    """A chart to send as an image, with its caption."""

    caption: str
    png: bytes


@dataclass(frozen=True)
class InsightsReply:
    """A short summary, the pattern flags, charts and the buttons to pick what to look at."""

    text: str
    photos: list[Photo] = field(default_factory=list)
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)  # (label, payload)


@dataclass(frozen=True)
class ReportFile:
    """The inspection PDF for a manager: file name, bytes and a caption."""

    filename: str
    data: bytes
    caption: str


def check_manager(session: Session, *, person: Person, action: str) -> Setting:
    """The manager's setting, or a polite refusal (audited) for staff, children and admins."""
    setting = crud.get_setting(session, setting_id=person.setting_id)
    if person.role != Role.manager or setting is None or setting.id is None:
        message = None if person.role == Role.child else MANAGERS_ONLY
        raise access.refuse(session, person=person, action=action, object_type="setting",
                            object_id=person.setting_id, message=message)
    return setting


def parse(payload: str) -> tuple[str, int]:
    """`in:c:12` -> ("c", 12); anything else -> the default period."""
    parts = payload.split(":")
    if len(parts) == 3 and parts[0] == PREFIX and parts[1] in "pcsa" and parts[2].isdigit():
        return parts[1], int(parts[2])
    return "p", DEFAULT_DAYS


def insights_reply(session: Session, *, person: Person, payload: str = "",
                   now: datetime | None = None) -> InsightsReply:
    """The /insights answer for a manager: the chosen period, child or staff member."""
    setting = check_manager(session, person=person, action="open_insights")
    assert setting.id is not None
    now = now or utcnow()
    what, number = parse(payload)
    days = number if what == "p" and number in {d for d, _ in PERIODS} else DEFAULT_DAYS
    start = now - timedelta(days=days)
    names = service.names_of(session, setting_id=setting.id)
    numbers = service.summary(session, setting_id=setting.id, start=start, end=now, now=now)
    buttons = [[(f"Last {label}", f"{PREFIX}:p:{d}") for d, label in PERIODS]]
    children = [(names.children.get(cid, "a child"), cid) for cid in names.children]
    buttons += [[(name, f"{PREFIX}:c:{cid}") for name, cid in children[i:i + 3]]
                for i in range(0, min(len(children), 9), 3)]
    if what == "c" and number in names.children:
        return _one(session, setting_id=setting.id, title=names.children[number], now=now,
                    flags=service.pattern_flags(session, setting_id=setting.id, as_of=now,
                                                child_id=number, names=names),
                    count=numbers.by_child.get(names.children[number], 0), days=days,
                    buttons=buttons)
    if what == "s" and number in names.people:
        return _one(session, setting_id=setting.id, title=names.people[number], now=now,
                    flags=[f for f in numbers.flags if f.subject == f"person:{number}"],
                    count=numbers.by_staff.get(names.people[number], 0), days=days,
                    buttons=buttons)
    staff = [(name, pid) for pid, name in names.people.items() if name in numbers.by_staff]
    buttons += [[(name, f"{PREFIX}:s:{pid}") for name, pid in staff[i:i + 3]]
                for i in range(0, min(len(staff), 6), 3)]
    lines = [f"{setting.name}: the last {dict(PERIODS)[days]}",
             f"{numbers.total} incidents ({numbers.per_week} a week).",
             _top("Children", numbers.by_child), _top("Shifts", numbers.by_shift),
             _top("Holds", numbers.by_hold),
             f"Prone or floor holds: {numbers.rate(numbers.injuries['ground_hold'])}; "
             f"a child hurt: {numbers.rate(numbers.injuries['child_injured'])}."]
    lines += [f"{d.name}: {d.met} met, {d.missed} missed" for d in numbers.deadlines]
    lines.append(f"Review actions: {numbers.actions.done} done, {numbers.actions.overdue} overdue.")
    lines += _flag_lines(numbers.flags)
    per_week = service.weekly(session, setting_id=setting.id, start=start, end=now, names=names)
    photos = [Photo("Incidents per week, by child",
                    charts.incidents_per_week(weeks=per_week.weeks, series=per_week.series)),
              Photo("When incidents happen", charts.heat_map(heat=numbers.heat)),
              Photo("Regulation 35 deadlines", charts.deadlines_met(deadlines=numbers.deadlines))]
    return InsightsReply(text="\n".join(line for line in lines if line), photos=photos,
                         buttons=buttons)


def _top(title: str, counts: dict[str, int]) -> str:
    shown = [f"{name} {count}" for name, count in list(counts.items())[:TOP] if count]
    return f"{title}: {', '.join(shown)}." if shown else ""


def _flag_lines(flags: list[service.PatternFlag]) -> list[str]:
    if not flags:
        return ["", "No patterns found in the last 4 weeks."]
    return ["", "Patterns to look at:"] + [
        f"• {f.sentence} (incidents {', '.join(f'#{i}' for i in f.incident_ids)})" for f in flags]


def _one(session: Session, *, setting_id: int, title: str, now: datetime, days: int, count: int,
         flags: list[service.PatternFlag], buttons: list[list[tuple[str, str]]]) -> InsightsReply:
    """The answer about one child or one member of staff."""
    lines = [f"{title}: {count} incidents in the last {dict(PERIODS)[days]}."]
    lines += _flag_lines(flags)
    return InsightsReply(text="\n".join(lines), buttons=buttons)


def report_for(session: Session, *, person: Person, days: int = 365,
               now: datetime | None = None) -> ReportFile:
    """The inspection PDF of the manager's setting for the last `days` days."""
    setting = check_manager(session, person=person, action="open_report")
    assert setting.id is not None
    now = now or utcnow()
    data = build_report(session, setting_id=setting.id, start=now - timedelta(days=days),
                        end=now, actor_id=person.id, now=now)
    return ReportFile(filename=f"flourish-report-{now:%Y-%m-%d}.pdf", data=data,
                      caption=f"{setting.name}: the inspection report for the last {days} days. "
                              f"It holds children's personal data: keep it safe.")


NUDGE_FLAGS = 5
DIGEST_WEEKS = 8


def nudge_patterns(session: Session, setting_id: int, incident_id: int | None,
                   at: datetime) -> tuple[list[str], bytes | None]:
    """What a nudge adds (`bot.followups.messages.PatternNotes`): for one incident, the pattern
    flags it is part of (a manager's review nudge: a flag raised by this incident shows at once);
    for the weekly digest, the setting's flags and one chart, incidents per week by child."""
    if incident_id is not None:
        return [f.sentence for f in service.flags_for_incident(
            session, incident_id=incident_id, setting_id=setting_id, as_of=at)][:NUDGE_FLAGS], None
    flags = service.pattern_flags(session, setting_id=setting_id, as_of=at)
    sentences = [f.sentence for f in flags[:NUDGE_FLAGS]]
    if len(flags) > NUDGE_FLAGS:
        sentences.append(f"and {len(flags) - NUDGE_FLAGS} more: send /insights to see them all.")
    per_week = service.weekly(session, setting_id=setting_id,
                              start=at - timedelta(weeks=DIGEST_WEEKS), end=at)
    if not any(sum(counts) for counts in per_week.series.values()):
        return sentences, None
    return sentences, charts.incidents_per_week(weeks=per_week.weeks, series=per_week.series,
                                                title=f"Incidents per week, by child (last "
                                                      f"{DIGEST_WEEKS} weeks)")
