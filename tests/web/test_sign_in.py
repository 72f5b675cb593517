"""Signing in to the dashboard over real HTTP (uvicorn on 127.0.0.1): initData, one-time links,
sessions and sign-out, and who is refused. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import httpx
import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import select
from support.botapi_standin import TOKEN

from bot.web.app import COOKIE, WebConfig, create_app
from bot.web.links import login_link
from storage.db import session_scope
from storage.models import AuditEvent
from storage.types import utcnow
from storage.web import WebLoginLink, WebSession
from web.conftest import Served, Ward, free_port, init_data


def _sign_in(client: httpx.Client, data: str) -> httpx.Response:
    return client.post("/auth/telegram", data={"init_data": data})


def test_healthz_answers_without_signing_in(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok"


def test_a_manager_signs_in_with_signed_init_data_and_sees_today(client: httpx.Client,
                                                                 ward: Ward) -> None:
    assert ward.manager.telegram_user_id is not None
    response = _sign_in(client, init_data(ward.manager.telegram_user_id))
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    page = client.get("/")
    assert "Today at Hazel O&#39;Neill House" in page.text
    assert "Robin (test)" in page.text
    with session_scope() as s:
        rows = list(s.exec(select(WebSession)))
        assert len(rows) == 1
        assert rows[0].token_hash != client.cookies[COOKIE]  # only the hash is stored
        actions = [e.action for e in s.exec(select(AuditEvent).where(
            AuditEvent.actor_id == ward.manager.id))]
    assert "web_sign_in" in actions
    assert "web_page" in actions


def test_forged_expired_and_unknown_init_data_are_refused(client: httpx.Client, ward: Ward) -> None:
    manager_id = ward.manager.telegram_user_id
    assert manager_id is not None
    forged = init_data(manager_id, token="123456:someone-elses-token")
    tampered = init_data(manager_id).replace(str(manager_id), str(ward.other_manager.telegram_user_id))
    expired = init_data(manager_id, age=timedelta(hours=2))
    unknown = init_data(5_550_001)
    child = init_data(ward.child_user.telegram_user_id or 0)
    for data in (forged, tampered, expired, unknown, child, "", "hash=abc"):
        response = _sign_in(client, data)
        assert response.status_code == 403, data
        assert response.json()["ok"] is False
        assert COOKIE not in client.cookies
    assert "dashboard is for staff and managers" in _sign_in(client, child).json()["error"]
    assert "Please open the dashboard from Telegram" in client.get("/").text


def test_a_one_time_link_signs_in_once_and_expires(client: httpx.Client, served: Served,
                                                   ward: Ward) -> None:
    with session_scope() as s:
        link = login_link(s, person=ward.manager, base_url=served.url + "/")
        stale = login_link(s, person=ward.manager, base_url=served.url)
        assert link is not None
        assert stale is not None
        s.flush()
        row = s.exec(select(WebLoginLink).order_by(WebLoginLink.id.desc())).first()  # type: ignore[union-attr]
        assert row is not None
        row.expires_at -= timedelta(minutes=11)
        s.add(row)
    token = link.rsplit("/", 1)[1]
    # opening the link (or a link preview fetching it) does not use it up
    assert client.get(f"/login/{token}").status_code == 200
    assert client.get(f"/login/{token}").status_code == 200
    first = client.post("/login", data={"token": token})
    assert first.status_code == 303
    assert "Morgan O&#39;Brien" not in client.get("/").text  # names are not shown in the header
    assert "Open incidents" in client.get("/").text
    with httpx.Client(base_url=served.url, trust_env=False) as other:
        again = other.post("/login", data={"token": token})
        assert again.status_code == 403
        assert "already been used or has expired" in again.text
        late = other.post("/login", data={"token": stale.rsplit("/", 1)[1]})
        assert late.status_code == 403


def test_sign_out_ends_the_session_for_good(client: httpx.Client, ward: Ward) -> None:
    _sign_in(client, init_data(ward.manager.telegram_user_id or 0))
    cookie = client.cookies[COOKIE]
    assert client.post("/logout").status_code == 303
    assert "Open incidents" not in client.get("/").text
    # the old cookie, replayed, no longer works
    client.cookies.set(COOKIE, cookie)
    assert "Open incidents" not in client.get("/").text


def test_a_session_expires(client: httpx.Client, ward: Ward) -> None:
    _sign_in(client, init_data(ward.manager.telegram_user_id or 0))
    with session_scope() as s:
        for row in s.exec(select(WebSession)):
            row.expires_at -= timedelta(hours=3)
            s.add(row)
    assert "Open incidents" not in client.get("/").text


def test_staff_see_only_their_own_debriefs(client: httpx.Client, ward: Ward) -> None:
    jordan = ward.staff[1]
    _sign_in(client, init_data(jordan.telegram_user_id or 0))
    home = client.get("/")
    assert "My debriefs" in home.text
    assert "Open incidents" not in home.text
    assert "no submitted debriefs" in home.text
    refused = client.get(f"/debriefs/{ward.alex_debrief}")
    assert refused.status_code == 403
    assert "something you can open here" in refused.text
    assert client.get(f"/incidents/{ward.late}").status_code == 403
    assert client.get("/patterns").status_code == 403
    assert client.get("/reports/records.csv").status_code == 403
    with session_scope() as s:
        refusals = list(s.exec(select(AuditEvent).where(AuditEvent.actor_id == jordan.id,
                                                        AuditEvent.action == "access_refused")))
    assert len(refusals) == 4


def test_a_manager_of_another_setting_is_refused(client: httpx.Client, ward: Ward) -> None:
    _sign_in(client, init_data(ward.other_manager.telegram_user_id or 0))
    assert "Robin (test)" not in client.get("/").text
    for path in (f"/incidents/{ward.late}", f"/incidents/{ward.late}/review",
                 f"/debriefs/{ward.alex_debrief}"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Robin" not in response.text


def test_a_failed_telegram_sign_in_ends_the_session_already_on_the_device(
        client: httpx.Client, ward: Ward) -> None:
    _sign_in(client, init_data(ward.manager.telegram_user_id or 0))
    assert "Open incidents" in client.get("/").text
    forged = init_data(ward.staff[0].telegram_user_id or 0, token="123456:not-this-bot")
    assert _sign_in(client, forged).status_code == 403
    assert "Open incidents" not in client.get("/").text


def test_an_admin_sees_today_without_names_or_narrative(client: httpx.Client, ward: Ward) -> None:
    _sign_in(client, init_data(ward.admin.telegram_user_id or 0))
    today = client.get("/")
    assert "Open incidents (3)" in today.text
    assert "Robin" not in today.text
    assert f"Incident {ward.late}," in today.text
    for path in (f"/incidents/{ward.late}", f"/debriefs/{ward.alex_debrief}", "/patterns",
                 "/reports/report.pdf"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Robin" not in response.text


def test_reports_download_the_chosen_period_as_csv(client: httpx.Client, ward: Ward) -> None:
    _sign_in(client, init_data(ward.manager.telegram_user_id or 0))
    everything = client.get("/reports/records.csv")
    assert everything.status_code == 200
    assert everything.headers["content-type"].startswith("text/csv")
    assert "attachment" in everything.headers["content-disposition"]
    rows = everything.text.splitlines()
    assert rows[0].startswith("incident_id,")
    assert {int(r.split(",")[0]) for r in rows[1:]} == {ward.late, ward.fresh, ward.old}
    today = utcnow().date()
    recent = client.get(f"/reports/records.csv?from={today - timedelta(days=2)}&to={today}")
    assert {int(r.split(",")[0]) for r in recent.text.splitlines()[1:]} == {ward.late, ward.fresh}
    assert client.get("/reports/anything.exe").status_code == 404
    with session_scope() as s:
        exports = list(s.exec(select(AuditEvent).where(AuditEvent.action == "export")))
    assert len(exports) == 2


def test_patterns_across_incidents_come_from_the_insights_with_their_incidents(
        client: httpx.Client, ward: Ward) -> None:
    _sign_in(client, init_data(ward.manager.telegram_user_id or 0))
    for page in (client.get("/patterns"), client.get("/")):
        section = page.text.split('id="across-h"' if "across-h" in page.text
                                  else 'id="patterns-h"')[1].split("</section>")[0]
        escalating = [line for line in section.split("<li>") if "Robin (test)" in line
                      and "3 incidents" in line]
        assert escalating, section
        for incident_id in (ward.late, ward.fresh, ward.old):
            assert f'href="/incidents/{incident_id}"' in escalating[0]
    # the same patterns for one staff member: Alex was only in one incident
    alex = client.get(f"/patterns?staff={ward.staff[0].id}").text
    assert "3 incidents" not in alex.split('id="across-h"')[1].split("</section>")[0]


def test_the_mini_app_cookie_reaches_telegram_webs_iframe_and_the_link_cookie_stays_lax(
        db_engine: Engine, ward: Ward) -> None:
    """On HTTPS the Mini App's session is SameSite=None; Secure (Telegram Web shows it in a
    cross-site iframe, where a Lax cookie is never sent); a desktop link's stays Lax; signing out
    removes the cookie with the same attributes, so it is removed inside the iframe too."""
    app = create_app(config=WebConfig(bot_token=TOKEN, secure_cookies=True))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            mini_app = _sign_in(client, init_data(ward.manager.telegram_user_id or 0))
            assert mini_app.status_code == 200
            cookie = mini_app.headers["set-cookie"]
            assert "SameSite=none" in cookie
            assert "Secure" in cookie
            assert "HttpOnly" in cookie
            token = mini_app.cookies[COOKIE]
            with session_scope() as s:
                link = login_link(s, person=ward.manager, base_url="https://dashboard.example.test/")
            assert link is not None
            desktop = client.post("/login", data={"token": link.rsplit("/", 1)[1]})
            assert desktop.status_code == 303
            assert "SameSite=lax" in desktop.headers["set-cookie"]
            assert "Secure" in desktop.headers["set-cookie"]
            # (httpx does not send a Secure cookie over plain HTTP: hand it over as TLS would)
            out = client.post("/logout", headers={"Cookie": f"{COOKIE}={token}"})
            assert out.status_code == 303
            removed = out.headers["set-cookie"]
            assert f"{COOKIE}=" in removed
            assert "SameSite=none" in removed
            assert "Secure" in removed
            replayed = client.get("/", headers={"Cookie": f"{COOKIE}={token}"})
            assert "Open incidents" not in replayed.text
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_pattern_charts_are_images_for_the_same_filters_and_for_managers_only(
        client: httpx.Client, ward: Ward) -> None:
    _sign_in(client, init_data(ward.manager.telegram_user_id or 0))
    page = client.get("/patterns?period=90").text
    assert 'src="/patterns/chart/weekly.png?period=90"' in page
    assert 'alt="Incidents per week in the last 90 days' in page
    assert "darker where more of the 3 incidents happened" in page
    # (the first chart imports matplotlib: slow on a loaded machine, so a longer wait)
    every = client.get("/patterns/chart/weekly.png?period=90", timeout=120)
    assert every.status_code == 200
    assert every.headers["content-type"] == "image/png"
    assert every.content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(every.content[16:20], "big"), int.from_bytes(
        every.content[20:24], "big")
    assert (width, height) == (700, 320)
    heat = client.get("/patterns/chart/heat.png")
    assert heat.content[:8] == b"\x89PNG\r\n\x1a\n"
    # one staff member's view draws other numbers
    other = ward.staff[0].id
    assert client.get(f"/patterns/chart/weekly.png?period=90&staff={other}").content != every.content
    assert client.get("/patterns/chart/anything.png").status_code == 404
    with httpx.Client(base_url=str(client.base_url), trust_env=False) as staff:
        _sign_in(staff, init_data(ward.staff[1].telegram_user_id or 0))
        refused = staff.get("/patterns/chart/weekly.png")
        assert refused.status_code == 403
        assert refused.content[:4] != b"\x89PNG"
    with httpx.Client(base_url=str(client.base_url), trust_env=False) as nobody:
        assert nobody.get("/patterns/chart/heat.png").status_code == 401
