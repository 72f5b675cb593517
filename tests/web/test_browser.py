"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright, against the
app served by uvicorn on 127.0.0.1, on SQLite and PostgreSQL. Screenshots at 390x844 (a phone)
and 1280x800 (a desktop) go to .screenshots/ in the worktree."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from pypdf import PdfReader
from sqlmodel import col, select
from support.botapi_standin import BotApiStandIn
from support.telegram_fixtures import run_application, settle

from storage.config import get_config
from storage.db import session_scope
from storage.models import Conversation, Review
from storage.reviews import review_answers
from web.conftest import Served, Ward, init_data, run_async

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
THEME = {"bg_color": "#17212b", "text_color": "#f5f5f5", "hint_color": "#aab4be",
         "link_color": "#6ab3f3", "button_color": "#5288c1", "button_text_color": "#ffffff",
         "secondary_bg_color": "#232e3c"}
# The review, by question id: a button's label where there is one, else what is typed.
REVIEW = {
    "spoken_with_staff": "Yes, with everyone", "legal_necessary": "Yes",
    "legal_necessary_why": "Robin was about to throw a chair at another child",
    "reasonable": "Yes", "reasonable_why": "Space and a calm voice were tried first",
    "minimum_force": "Partly", "minimum_force_why": "Four minutes seated; could have eased sooner",
    "proportionate": "Yes", "proportionate_why": "A real risk of harm to another child",
    "less_restrictive": "Yes, possibly", "less_restrictive_what": "Offer music earlier",
    "impact_on_child": "Upset for an hour, then settled with a blanket",
    "restorative": "planned", "informed": "parents, placing authority", "notifiable": "no",
    "learning": "Calls home are a trigger; plan quiet time after them",
    "action_1": "Add music to Robin's calming plan", "action_1_owner": "Me",
    "action_1_due": "In a week", "action_2": "skip", "plans_to_review": "behaviour support plan",
}


def open_mini_app(page: Any, served: Served, data: str) -> None:
    """Open the dashboard as a Telegram client opens a Mini App (a fresh page load each time)."""
    page.goto("about:blank")
    page.goto(mini_app_url(served, data))


def mini_app_url(served: Served, data: str) -> str:
    """How a Telegram client opens a Mini App: the initData and theme in the URL fragment."""
    return (f"{served.url}/#tgWebAppData={quote(data, safe='')}&tgWebAppVersion=8.0"
            f"&tgWebAppPlatform=android&tgWebAppThemeParams={quote(json.dumps(THEME), safe='')}")


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=PHONE, accept_downloads=True)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


def shot(page: Any, folder: Path, name: str, request: pytest.FixtureRequest) -> Path:
    """A full-page screenshot named after the test (and its database)."""
    path = folder / f"{request.node.name}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def answer_review(page: Any, answers: dict[str, str]) -> list[str]:
    """Answer the review on the web page question by question, then sign it off."""
    asked: list[str] = []
    for _ in range(60):
        sign_off = page.get_by_role("button", name="✅ Sign off")
        if sign_off.count():
            with page.expect_navigation():
                sign_off.click()
            return asked
        question = page.locator(".msg[data-question]").last
        question_id = question.get_attribute("data-question")
        asked.append(question_id)
        answer = answers.get(question_id, "skip")
        button = question.get_by_role("button", name=answer, exact=True)
        with page.expect_navigation():
            if button.count():
                button.click()
            else:
                page.get_by_label("Type your answer").fill(answer)
                page.get_by_role("button", name="Send").click()
    raise AssertionError(f"the review never reached its summary: {asked}")


def test_a_manager_in_telegram_reviews_signs_and_downloads_the_pdf(
        context: Any, served: Served, ward: Ward, screenshots: Path,
        request: pytest.FixtureRequest) -> None:
    page = context.new_page()
    open_mini_app(page, served, init_data(ward.manager.telegram_user_id or 0))
    page.get_by_role("heading", name="Today at Hazel O'Neill House").wait_for()
    # Telegram's theme colours are applied (and kept for the next pages)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(23, 33, 43)"
    assert "#" not in page.url  # the initData left the address bar
    cards = {int(c.get_attribute("data-incident")): c for c in page.locator(".card.incident").all()}
    assert set(cards) == {ward.late, ward.fresh, ward.old}

    def states(incident_id: int) -> list[str]:
        return [li.inner_text() for li in cards[incident_id].locator(".clock").all()]

    assert states(ward.late) == ["Record overdue by 5 h", "Review due in 18 h",
                                 "Child spoken to due in 3 days"]
    assert states(ward.fresh) == ["Record done", "Review due in 45 h",
                                  "Child spoken to due in 4 days"]
    assert states(ward.old) == ["Record done", "Review overdue by 3 days",
                                "Child spoken to overdue by 23 h"]
    overdue = page.locator(".overdue li").all_inner_texts()
    assert len(overdue) == 3
    shot(page, screenshots, "today-phone", request)
    page.set_viewport_size(DESKTOP)
    shot(page, screenshots, "today-desktop", request)

    page.get_by_role("link", name="Robin (test)").first.wait_for()
    cards[ward.late].get_by_role("link").click()
    page.get_by_role("heading", name="Staff accounts").wait_for()
    assert page.locator("table.side-by-side thead th").all_inner_texts() == ["Question",
                                                                             "Alex D'Souza"]
    assert "Still to come: Jordan Test" in page.inner_text("main")
    shot(page, screenshots, "incident-desktop", request)
    page.set_viewport_size(PHONE)
    shot(page, screenshots, "incident-phone", request)

    page.get_by_role("link", name="Review this incident").click()
    page.locator(".msg[data-question]").first.wait_for()
    shot(page, screenshots, "review-phone", request)
    asked = answer_review(page, REVIEW)
    assert asked[:3] == ["spoken_with_staff", "legal_necessary", "legal_necessary_why"]
    assert "Signed off" in page.inner_text("main")
    with session_scope() as s:
        review = s.exec(select(Review)).one()
        assert review.incident_id == ward.late
        assert review.manager_id == ward.manager.id
        assert review.signed_at is not None
        assert review.outcome["minimum_force"] == "partly"
    page.goto(f"{served.url}/incidents/{ward.late}")
    main = page.inner_text("main")
    assert "Signed by Morgan O'Brien" in main
    assert "Add music to Robin's calming plan" in main
    assert page.locator(".clock.done", has_text="Review").count() == 1

    page.get_by_role("link", name="Reports").click()
    with page.expect_download(timeout=90_000) as info:  # the report draws its charts first
        page.get_by_role("link", name="Download the PDF report").click()
    body = Path(info.value.path()).read_bytes()
    assert body.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(body)).pages)
    assert "Robin (test)" in text


def test_a_one_time_link_from_the_bot_signs_in_on_a_desktop_once(
        browser: Any, served: Served, ward: Ward, telegram_config: Any, standin: BotApiStandIn,
        monkeypatch: pytest.MonkeyPatch, screenshots: Path, request: pytest.FixtureRequest) -> None:
    monkeypatch.setenv("FLOURISH_WEB_URL", served.url)
    monkeypatch.setenv("FOLLOWUPS_ENABLED", "false")
    get_config.cache_clear()

    async def ask_for_link() -> str:
        from bot.telegram import build_application

        app = build_application(config=get_config(), interpreter=None)
        async with run_application(app, standin):
            manager = standin.user(ward.manager.telegram_user_id or 0, "Morgan")
            mark = standin.mark()
            manager.send("/dashboard")
            calls = await settle(standin, mark)
        sent = [c for c in calls if c.method == "sendMessage" and c.params["chat_id"] ==
                ward.manager.telegram_user_id]
        assert len(sent) == 1
        return str(sent[0].params["text"]).rsplit("\n", 1)[1]

    link = run_async(ask_for_link)
    assert link.startswith(f"{served.url}/login/")
    desktop = browser.new_context(viewport=DESKTOP)
    page = desktop.new_page()
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Today at Hazel O'Neill House").wait_for()
    shot(page, screenshots, "link-desktop", request)
    second = browser.new_context(viewport=DESKTOP)
    again = second.new_page()
    again.goto(link)
    again.get_by_role("button", name="Sign in").click()
    again.get_by_role("heading", name="This link can't be used").wait_for()
    assert "already been used or has expired" in again.inner_text("main")
    desktop.close()
    second.close()


def test_forged_and_expired_sign_ins_and_other_peoples_records_are_refused(
        context: Any, served: Served, ward: Ward, screenshots: Path,
        request: pytest.FixtureRequest) -> None:
    page = context.new_page()
    forged = init_data(ward.manager.telegram_user_id or 0, token="123456:not-this-bot")
    expired = init_data(ward.manager.telegram_user_id or 0, age=timedelta(days=2))
    for data in (forged, expired):
        open_mini_app(page, served, data)
        status = page.locator("#sign-in-status[role=alert]")
        status.wait_for()
        assert "could not be checked" in status.inner_text()
        assert page.get_by_role("heading", name="Today at Hazel O'Neill House").count() == 0
    shot(page, screenshots, "forged-phone", request)

    open_mini_app(page, served, init_data(ward.staff[1].telegram_user_id or 0))
    page.get_by_role("heading", name="My debriefs").wait_for()
    response = page.goto(f"{served.url}/debriefs/{ward.alex_debrief}")
    assert response is not None
    assert response.status == 403
    assert "something you can open here" in page.inner_text("main")
    assert "Robin" not in page.inner_text("main")

    open_mini_app(page, served, init_data(ward.other_manager.telegram_user_id or 0))
    page.get_by_role("heading", name="Today at Rowan Court").wait_for()
    response = page.goto(f"{served.url}/incidents/{ward.late}")
    assert response is not None
    assert response.status == 403
    assert "Robin" not in page.inner_text("main")


def test_a_review_half_in_the_chat_and_half_on_the_web_is_one_signed_review(
        context: Any, served: Served, ward: Ward, telegram_config: Any, standin: BotApiStandIn,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWUPS_ENABLED", "false")
    get_config.cache_clear()

    async def start_in_chat() -> None:
        from bot.telegram import build_application

        app = build_application(config=get_config(), interpreter=None)
        async with run_application(app, standin):
            manager = standin.user(ward.manager.telegram_user_id or 0, "Morgan")
            for text in (f"/review {ward.late}", "all", "yes",
                         "She was about to hit another child", "yes"):
                mark = standin.mark()
                manager.send(text)
                await settle(standin, mark)

    run_async(start_in_chat)
    page = context.new_page()
    open_mini_app(page, served, init_data(ward.manager.telegram_user_id or 0))
    page.get_by_role("heading", name="Today at Hazel O'Neill House").wait_for()
    page.goto(f"{served.url}/incidents/{ward.late}/review")
    # the web carries on exactly where the chat stopped
    assert page.locator(".msg[data-question]").last.get_attribute("data-question") == \
        "reasonable_why"
    asked = answer_review(page, REVIEW)
    assert asked[0] == "reasonable_why"
    assert "spoken_with_staff" not in asked
    with session_scope() as s:
        review = s.exec(select(Review)).one()
        answers = review_answers(review)
        conversations = s.exec(select(Conversation).where(
            Conversation.person_id == ward.manager.id,
            col(Conversation.flow_id) == "manager_review")).all()
    assert review.signed_at is not None
    assert answers["legal_necessary_why"]["value"] == "She was about to hit another child"  # chat
    assert answers["minimum_force_why"]["value"] == REVIEW["minimum_force_why"]  # web
    assert len(conversations) == 1


def contrast(foreground: str, background: str) -> float:
    """The WCAG contrast ratio of two CSS rgb() colours."""
    def luminance(colour: str) -> float:
        channels = [int(v) / 255 for v in colour[colour.index("(") + 1:-1].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_patterns_filter_by_keyboard_and_show_the_incidents_behind_each_point(
        context: Any, served: Served, ward: Ward, screenshots: Path,
        request: pytest.FixtureRequest) -> None:
    page = context.new_page()
    open_mini_app(page, served, init_data(ward.manager.telegram_user_id or 0))
    page.get_by_role("heading", name="Today at Hazel O'Neill House").wait_for()
    for pill in page.locator(".clock").all():  # the clock states are readable on a dark theme
        colour, background = pill.evaluate(
            "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
        assert contrast(colour, background) >= 4.5, (pill.inner_text(), colour, background)
    page.get_by_role("link", name="Patterns").click()
    page.get_by_role("heading", name="Patterns", exact=True).wait_for()
    assert "3 incidents in the last 28 days" in page.inner_text("main")
    # the charts are drawn by the one chart library, served as images, and described in words
    charts = page.locator("figure.chart img")
    assert charts.count() == 2
    for chart in charts.all():
        chart.scroll_into_view_if_needed()
        page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=chart.element_handle())
        assert chart.evaluate("e => e.naturalWidth") == 700
    assert "Robin (test): " in charts.nth(0).get_attribute("alt") or ""
    assert "of the 3 incidents happened" in (charts.nth(1).get_attribute("alt") or "")
    injury = page.locator("li", has_text="Someone was hurt (1)")
    assert injury.get_by_role("link").count() == 1
    # every control has a label; the filters work from the keyboard alone
    for control in page.locator("main select, main textarea, main input").all():
        assert control.evaluate("e => e.labels.length") >= 1
    page.get_by_label("Period").select_option("90")
    page.get_by_label("Staff member").select_option(label="Sam Okafor")
    page.get_by_role("button", name="Show").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_label("Staff member").input_value() == str(ward.staff[2].id)
    assert "in the last 90 days" in page.inner_text("main")
    by_staff = page.locator("table.bars").nth(1).inner_text()
    assert "Sam Okafor" in by_staff
    assert "Alex D'Souza" not in by_staff
    page.get_by_label("Shift").focus()
    page.keyboard.press("End")  # the last shift: night
    page.get_by_role("button", name="Show").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_label("Shift").input_value() == "night"
    by_shift = page.locator("table.bars").nth(2).locator("tbody tr").all_inner_texts()
    assert by_shift[0].endswith("0")
    assert by_shift[1].endswith("0")  # early and late are empty when only nights are shown
    page.set_viewport_size(DESKTOP)
    shot(page, screenshots, "patterns-desktop", request)
    page.goto(f"{served.url}/patterns")
    injury.get_by_role("link").first.click()
    page.get_by_role("heading", name="Points to reflect on").wait_for()
    assert "Someone was hurt" in page.inner_text("main")
