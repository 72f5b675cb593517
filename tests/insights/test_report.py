"""The inspection export as an inspector gets it: the PDF from the real `flourish export` command,
rendered to PNG pages with pdftoppm and read back; the JSON and CSV with labels, regulation 35
timings and timestamps, and no staff wellbeing answers; `flourish demo-data` with its patterns."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.ci import skip_or_fail

from bot.services import insights
from bot.services.demo_history import PLANTED, Measure, record_incident
from bot.services.export import export_records, to_csv
from storage import crud
from storage import reviews as review_store
from storage.db import session_scope
from storage.models import Incident

from .conftest import NOW, Home

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# 23:50 on Saturday 28 March 2026 in London (GMT), the night the clocks go forward.
OCCURRED = datetime(2026, 3, 28, 23, 50, tzinfo=UTC)


def _known_incident(home: Home) -> int:
    """Jay's incident: a prone hold in the bedroom, a child hurt, a second account, a late review."""
    with session_scope() as s:
        incident_id = record_incident(
            s, setting_id=home.setting_id, child_id=home.children[0],
            reporter_id=home.staff[2], others=[home.staff[3]], occurred_at=OCCURRED,
            measure=Measure(location="bedroom", holds=["prone", "kneeling"], triggers=["family"],
                            duration=12, staff_count=3, child_injured=True),
            review_after=timedelta(hours=50), manager_id=home.manager_id,
            action_owner_id=home.staff[3], now=OCCURRED + timedelta(days=3))
        incident = s.get(Incident, incident_id)
        assert incident is not None
        crud.save_debrief(s, incident=incident, person_id=home.staff[3], flow_id="staff_debrief",
                          flags=[], answers=[
                              {"question_id": "wellbeing", "status": "answered", "value": "hurt"},
                              {"question_id": "wellbeing_checkin", "status": "answered",
                               "value": True},
                              {"question_id": "describe", "status": "answered",
                               "text": "I held his legs while Pat kept him safe on the floor"},
                              {"question_id": "staff_injured", "status": "answered",
                               "value": False}])
        review = review_store.signed_review(s, incident_id=incident_id)
        assert review is not None
        review_store.add_addendum(s, review=review, author_id=home.manager_id,
                                  text="The hold lasted 12 minutes, not 10")
        review_store.save_child_view(
            s, incident_id=incident_id, child_id=home.children[0], recorded_by_id=home.staff[3],
            mode="assisted", answers={"feel_now": {"status": "answered", "value": "sad"}},
            choices={}, alerts=[], ended_early=False)
    return incident_id


@SQLITE_ONLY
def test_the_pdf_report_holds_every_regulation_35_field_and_a_chart_on_the_cover(
        home: Home, flourish_env: dict[str, str], tmp_path: Path) -> None:
    missing = [t for t in ("pdftoppm", "pdftotext", "pdfimages") if shutil.which(t) is None]
    if missing:
        skip_or_fail(f"{missing} (poppler-utils) not installed; scripts/setup installs it")
    incident_id = _known_incident(home)
    home.add(1, days_ago=2)  # another incident in the period
    pdf = tmp_path / "report.pdf"
    subprocess.run([sys.executable, "-m", "bot.cli", "export", "--format", "pdf", "--setting",
                    str(home.setting_id), "--from", "2026-03-01", "--to", "2026-03-31", "-o",
                    str(pdf)], env=flourish_env, check=True, timeout=240, capture_output=True)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "page")], check=True,
                   timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 4
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pages)
    cover_images = subprocess.run(["pdfimages", "-list", "-f", "1", "-l", "1", str(pdf)],
                                  capture_output=True, text=True, check=True).stdout
    assert len(cover_images.strip().splitlines()) >= 3, "a chart on the cover"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = " ".join(text.split())
    section = flat[flat.index(f"Incident #{incident_id}: Jay O'Neill (test)"):]
    for expected in (
        "Restraint and restriction records: Birch House (test)",
        "Patterns across incidents",
        f"Incident #{incident_id}: Jay O'Neill (test), Sat 28 Mar 2026, 23:50",  # (a)(i), (ii)
        "Bedroom",  # (a)(ii) location, as its label
        "They seemed overwhelmed and wanted to be heard.",  # (a)(iii) behaviour
        "Family contact or news",  # (a)(iii) trigger
        "Physical hold", "Prone (face down), Kneeling", "12 minutes",  # (a)(iv) measure, duration
        "Recorded by Pat O'Hara (test); also involved: Chris Adeyemi (test)",  # (a)(v)
        "Settled with a drink and a chat.",  # (a)(vi) effectiveness and consequences
        "Child hurt: Yes", "A red mark on the forearm, checked by the shift lead.",  # (a)(vii)
        "Record made within 24 hours (35(3)(a)) MET",
        "MISSED: done Tue 31 Mar 2026, 02:50",  # review signed after 50 h (in BST)
        "Account of Chris Adeyemi (test)",
        "I held his legs while Pat kept him safe on the floor",
        "The child's view (recorded with Chris Adeyemi (test)",
        "Manager's review, signed by Morgan Ellis-Grey (test)",
        "Update the behaviour support plan",
        "The hold lasted 12 minutes, not 10",
    ):
        assert expected in (flat if expected.startswith(("Restraint", "Patterns")) else section), \
            expected
    assert "I was hurt" not in flat
    assert "Manager to check in" not in flat


@SQLITE_ONLY
def test_json_and_csv_have_words_timings_and_timestamps_and_no_wellbeing(home: Home) -> None:
    incident_id = _known_incident(home)
    home.add(1, days_ago=40)  # before the period
    start = datetime(2026, 3, 1, tzinfo=UTC)
    with session_scope() as s:
        records = export_records(s, setting_id=home.setting_id, start=start, end=NOW, now=NOW)
    assert [r["id"] for r in records] == [incident_id]
    (record,) = records
    first, second = record["debriefs"]
    assert first["answers"]["location"] == {"status": "answered", "value": "bedroom",
                                            "source": "user", "question": "Where",
                                            "label": "Bedroom"}
    child = first["answers"]["child"]
    assert (child["value"], child["label"]) == (str(home.children[0]), "Jay O'Neill (test)")
    assert "wellbeing" not in second["answers"]
    assert "wellbeing_checkin" not in second["answers"]
    timings = record["regulation_35"]
    assert timings["recorded_within_24h"]["met"] is True
    assert timings["review_signed_within_48h"]["met"] is False
    assert timings["review_signed_within_48h"]["done_at"] == "2026-03-31T01:50:00+00:00"
    assert timings["child_spoken_to_within_5_days"]["status"] == "met"
    rows = list(csv.DictReader(io.StringIO(to_csv(records))))
    assert {r["question_id"] for r in rows}.isdisjoint({"wellbeing", "wellbeing_checkin"})
    where = next(r for r in rows if r["question_id"] == "location")
    assert where["answer_words"] == "Bedroom"
    assert where["answered_at"] == "2026-03-29T02:50:00+00:00"
    assert where["review_signed_within_48h"] == "missed"
    assert where["recorded_at"] == "2026-03-29T02:50:00+00:00"


@SQLITE_ONLY
def test_demo_data_command_plants_every_pattern_it_documents(
        home: Home, flourish_env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "bot.cli", "demo-data", "--setting",
                           str(home.setting_id), "--months", "3"], env=flourish_env, check=True,
                          timeout=240, capture_output=True, text=True)
    assert "Planted patterns:" in done.stdout
    with session_scope() as s:
        found = {f.name for f in insights.pattern_flags(s, setting_id=home.setting_id)}
    assert set(PLANTED) <= found
    bad = subprocess.run([sys.executable, "-m", "bot.cli", "demo-data", "--setting", "98765"],
                         env=flourish_env, timeout=240, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "There is no setting 98765." in bad.stderr


def test_the_command_and_the_dashboard_export_the_same_whole_days_across_the_clock_change(
        home: Home, flourish_env: dict[str, str]) -> None:
    """`flourish export --from D --to D` and the dashboard's download for day D use one period
    (whole local days) and one query: the same incidents, near midnight and the clock change."""
    from bot.web.reports import render

    times = {"sat 23:50 GMT": datetime(2026, 3, 28, 23, 50, tzinfo=UTC),
             "sun 00:10 GMT": datetime(2026, 3, 29, 0, 10, tzinfo=UTC),
             "sun 23:50 BST": datetime(2026, 3, 29, 22, 50, tzinfo=UTC),
             "mon 00:10 BST": datetime(2026, 3, 29, 23, 10, tzinfo=UTC)}
    ids = {}
    with session_scope() as s:
        for name, at in times.items():
            ids[name] = record_incident(
                s, setting_id=home.setting_id, child_id=home.children[1],
                reporter_id=home.staff[0], others=[home.staff[1]], occurred_at=at,
                measure=Measure(), review_after=None, now=NOW + timedelta(days=2))
    command = subprocess.run(
        [sys.executable, "-m", "bot.cli", "export", "--format", "csv", "--setting",
         str(home.setting_id), "--from", "2026-03-29", "--to", "2026-03-29"],
        env=flourish_env, check=True, timeout=240, capture_output=True, text=True).stdout
    from_command = {int(row["incident_id"]) for row in csv.DictReader(io.StringIO(command))}
    with session_scope() as s:
        manager = crud.get_person(s, person_id=home.manager_id)
        assert manager is not None
        body, _, name = render(s, person=manager, kind="records.csv",
                               first=datetime(2026, 3, 29).date(), last=datetime(2026, 3, 29).date())
    from_web = {int(row["incident_id"]) for row in csv.DictReader(io.StringIO(body.decode()))}
    assert from_command == from_web == {ids["sun 00:10 GMT"], ids["sun 23:50 BST"]}
    assert name == "flourish-20260329-20260329.csv"
    backwards = subprocess.run(
        [sys.executable, "-m", "bot.cli", "export", "--format", "csv", "--setting",
         str(home.setting_id), "--from", "2026-03-30", "--to", "2026-03-29"],
        env=flourish_env, timeout=240, capture_output=True, text=True)
    assert backwards.returncode != 0
    assert "--to must not be before --from" in backwards.stderr + backwards.stdout
