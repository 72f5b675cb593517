"""The downloads of the Reports page: the inspection records of a manager's setting.

CSV comes from `bot.services.export`, like `flourish export`. The PDF is the insights' inspection report
(`bot.services.report`) once it is on main; until then a plain PDF of the same records.
Both cover a period (whole days in the setting's time zone).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from importlib import import_module
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.services.export import export_records, to_csv
from storage.models import Person, Setting

KINDS = {"records.csv": "text/csv; charset=utf-8", "report.pdf": "application/pdf"}


class UnknownReport(LookupError):
    """Not a report this page offers."""


def period(start: str | None, end: str | None, *, today: date) -> tuple[date, date]:
    """The period asked for (inclusive dates), by default the last three months."""
    first = _day(start) or today - timedelta(days=91)
    last = _day(end) or today
    return (first, last) if first <= last else (last, first)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def render(session: Session, *, person: Person, kind: str, first: date,
           last: date) -> tuple[bytes, str, str]:
    """(body, media type, file name) of one download for the person's setting and period (audited)."""
    if kind not in KINDS:
        raise UnknownReport(kind)
    setting = session.get(Setting, person.setting_id)
    zone = ZoneInfo(setting.timezone if setting else "Europe/London")
    start = datetime.combine(first, time(0, 0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0, 0), tzinfo=zone)
    name = f"flourish-{first:%Y%m%d}-{last:%Y%m%d}"
    try:
        report = import_module("bot.services.report")
    except ImportError:
        report = None
    if kind == "report.pdf" and report is not None:
        pdf = report.build_report(session, setting_id=person.setting_id, start=start, end=end,
                                  actor_id=person.id)
        return bytes(pdf), KINDS[kind], f"{name}.pdf"
    records = [r for r in export_records(session, setting_id=person.setting_id, actor_id=person.id)
               if start <= datetime.fromisoformat(r["occurred_at"]) < end]
    if kind == "records.csv":
        return to_csv(records).encode("utf-8"), KINDS[kind], f"{name}.csv"
    return _plain_pdf(records), KINDS[kind], f"{name}.pdf"


def _plain_pdf(records: list[dict[str, Any]]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Flourish: restrictive interventions", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 6, f"{len(records)} incidents", new_x="LMARGIN", new_y="NEXT")
    for record in records:
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 6, _latin(f"Incident {record['id']}: {record['child']}, "
                                    f"{record['occurred_at']}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=9)
        lines = [f"Staff: {', '.join(record['staff'])}",
                 f"Points to reflect on: {', '.join(record['flags']) or 'none'}",
                 f"Debriefs: {len(record['debriefs'])}"]
        for review in record["reviews"]:
            lines.append(f"Review signed by {review['manager']} at {review['signed_at']}")
        lines.append(f"Child's view recorded: {'yes' if record['child_views'] else 'no'}")
        for line in lines:
            pdf.multi_cell(0, 5, _latin(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")
