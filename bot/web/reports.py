"""The downloads of the Reports page: the inspection records of a manager's setting.

CSV comes from `bot.export`, like `flourish export`. The PDF is the insights' inspection report
(`bot.services.report`) once it is on main; until then a plain PDF of the same records.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from sqlmodel import Session

from bot.export import export_records, to_csv
from storage.models import Person

KINDS = {"records.csv": "text/csv; charset=utf-8", "report.pdf": "application/pdf"}


class UnknownReport(LookupError):
    """Not a report this page offers."""


def render(session: Session, *, person: Person, kind: str) -> tuple[bytes, str, str]:
    """(body, media type, file name) of one download for the person's setting (audited)."""
    if kind not in KINDS:
        raise UnknownReport(kind)
    records = export_records(session, setting_id=person.setting_id, actor_id=person.id)
    if kind == "records.csv":
        return to_csv(records).encode("utf-8"), KINDS[kind], "flourish-records.csv"
    return _pdf(session, person=person, records=records), KINDS[kind], "flourish-report.pdf"


def _pdf(session: Session, *, person: Person, records: list[dict[str, Any]]) -> bytes:
    try:
        report = import_module("bot.services.report")
    except ImportError:
        return _plain_pdf(records)
    return bytes(report.render_pdf(session, setting_id=person.setting_id))


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
