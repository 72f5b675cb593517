"""The downloads of the Reports page: the inspection records of a manager's setting.

The same as `flourish export --format csv|pdf --from --to`: CSV from `bot.services.export`, the PDF
from the inspection report (`bot.services.report`), for whole days in the setting's time zone
(`export.whole_days`, as the command), the incidents chosen by the export's own query.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from bot.services.export import export_records, to_csv, whole_days
from bot.services.report import build_report
from storage import crud
from storage.models import Person

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
    setting = crud.get_setting(session, setting_id=person.setting_id)
    start, end = whole_days(first=first, last=last,
                            timezone=setting.timezone if setting else "Europe/London")
    assert start is not None
    assert end is not None
    name = f"flourish-{first:%Y%m%d}-{last:%Y%m%d}"
    if kind == "report.pdf":
        pdf = build_report(session, setting_id=person.setting_id, start=start, end=end,
                           actor_id=person.id)
        return bytes(pdf), KINDS[kind], f"{name}.pdf"
    records = export_records(session, setting_id=person.setting_id, actor_id=person.id,
                             start=start, end=end)
    return to_csv(records).encode("utf-8"), KINDS[kind], f"{name}.csv"
