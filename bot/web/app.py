"""The dashboard's ASGI app: sign-in (Mini App initData or a one-time link), then the pages.

Every page is a thin call into `bot.web.views` (which asks `bot.services.access` who may see what) and a
server-rendered template. Sessions are rows in the database; the cookie holds only a random id.
Every page a person opens is written to the audit table (the path's shape, never its content).
Endpoints are plain functions, so Starlette runs their database work on its thread pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from anyio import from_thread
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.services import access
from bot.services.conversations import Conversations
from bot.services.reviews import MANAGER_REVIEW
from bot.web import reports, views
from bot.web.initdata import InitDataError, validate
from dialogues import wording
from dialogues.engine import Inbound, Outbound, State
from storage import crud
from storage import web as web_store
from storage.db import get_engine, ping, session_scope
from storage.models import Person, Role
from storage.types import utcnow

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
COOKIE = "flourish_session"
SESSION_TTL = timedelta(hours=2)
LINK_TTL = timedelta(minutes=10)
NOT_SIGNED_IN = "Please open the dashboard from Telegram, or send /dashboard to the bot for a link."
CHILDREN_REFUSED = "Sorry, the dashboard is for staff and managers."


@dataclass
class WebConfig:
    """What the dashboard needs to know: the bot token (for initData) and whether it runs on HTTPS."""

    bot_token: str | None
    secure_cookies: bool = True
    clock: Callable[[], datetime] = utcnow
    # Sends (telegram user id, message) notices to other people, e.g. a new action's owner after a
    # review signed on the web; None where no bot runs in this process.
    notify: Callable[[list[tuple[int, Outbound]]], Coroutine[Any, Any, None]] | None = None


class Dashboard:
    """The pages, bound to one database engine and one configuration."""

    def __init__(self, *, config: WebConfig, engine: Engine | None = None) -> None:
        self.config = config
        self.engine = engine
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.conversations = Conversations()

    # --- plumbing --------------------------------------------------------------------------------

    def db(self) -> Any:
        return session_scope(self.engine or get_engine())

    def page(self, request: Request, template: str, status_code: int = 200,
             **context: Any) -> HTMLResponse:
        return self.templates.TemplateResponse(request, template, context, status_code=status_code)

    def person(self, session: Session, request: Request) -> Person | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        return web_store.person_of_session(session, token=token, now=self.config.clock())

    def signed_in(self, request: Request, session: Session, *, what: str,
                  object_id: int | None = None) -> Person | None:
        """The signed-in person (children are never signed in), with the page opening audited."""
        person = self.person(session, request)
        if person is not None:
            crud.record_audit(session, actor_id=person.id, action="web_page", object_type=what,
                              object_id=object_id, detail={"via": "web"})
        return person

    def refused(self, request: Request, exc: access.Refused, person: Person) -> HTMLResponse:
        return self.page(request, "message.html", status_code=403, person=person,
                         title="Not available", message=exc.message)

    def start_session(self, session: Session, person: Person, via: str) -> Response:
        assert person.id is not None
        token = web_store.create_web_session(session, person_id=person.id, via=via,
                                             ttl=SESSION_TTL, now=self.config.clock())
        crud.record_audit(session, actor_id=person.id, action="web_sign_in", object_type="person",
                          object_id=person.id, detail={"via": via})
        response: Response = (JSONResponse({"ok": True, "next": "/"}) if via == "telegram"
                              else RedirectResponse("/", status_code=303))
        response.set_cookie(COOKIE, token, max_age=int(SESSION_TTL.total_seconds()), httponly=True,
                            secure=self.config.secure_cookies, samesite=self.same_site(via),
                            path="/")
        return response

    def same_site(self, via: str) -> Literal["lax", "none"]:
        """SameSite=None for the Mini App, whose page is a cross-site iframe in Telegram Web (a Lax
        cookie would never reach it; None needs Secure, so only on HTTPS); Lax for a desktop link."""
        return "none" if via == "telegram" and self.config.secure_cookies else "lax"

    # --- sign-in and out -------------------------------------------------------------------------

    def healthz(self, request: Request) -> Response:
        """200 when the database answers."""
        with self.db() as session:
            ping(session)
        return PlainTextResponse("ok")

    async def telegram_sign_in(self, request: Request) -> Response:
        """POST initData from the Mini App: a session for the enrolled person it was signed for."""
        form = await request.form()
        init_data = str(form.get("init_data") or "")
        response = await _in_thread(self._telegram_sign_in, init_data)
        if response.status_code != 200 and request.cookies.get(COOKIE):
            # whoever was signed in on this device before, it is not who Telegram vouches for now
            await _in_thread(self._end_session, request.cookies[COOKIE], response)
        return response

    def _end_session(self, token: str, response: Response) -> Response:
        with self.db() as session:
            person_id = web_store.end_web_session(session, token=token, now=self.config.clock())
            if person_id is not None:
                crud.record_audit(session, actor_id=person_id, action="web_sign_out")
        # the same attributes as when set, so the Mini App's cross-site cookie is removed too
        response.delete_cookie(COOKIE, path="/", secure=self.config.secure_cookies, httponly=True,
                               samesite="none" if self.config.secure_cookies else "lax")
        return response

    def _telegram_sign_in(self, init_data: str) -> Response:
        if not self.config.bot_token:
            return JSONResponse({"ok": False, "error": "Sign-in from Telegram is not set up."},
                                status_code=503)
        try:
            user = validate(init_data, bot_token=self.config.bot_token, now=self.config.clock())
        except InitDataError as exc:
            log.info("refused a Mini App sign-in: %s", exc)
            return JSONResponse({"ok": False, "error": "This sign-in could not be checked. Please "
                                 "close the dashboard and open it again from Telegram."},
                                status_code=403)
        with self.db() as session:
            person = crud.person_by_telegram_id(session, telegram_user_id=user.telegram_user_id)
            if person is None or person.role == Role.child:
                crud.record_audit(session, actor_id=person.id if person else None,
                                  action="web_sign_in_refused", detail={"via": "telegram"})
                message = CHILDREN_REFUSED if person else NOT_SIGNED_IN
                return JSONResponse({"ok": False, "error": message}, status_code=403)
            return self.start_session(session, person, "telegram")

    def link_page(self, request: Request) -> Response:
        """GET a one-time link: a button to sign in (link previews must not use the link up)."""
        return self.page(request, "link.html", token=request.path_params["token"])

    async def link_sign_in(self, request: Request) -> Response:
        """POST a one-time link's token: a session, once, while the link is fresh."""
        form = await request.form()
        return await _in_thread(self._link_sign_in, request, str(form.get("token") or ""))

    def _link_sign_in(self, request: Request, token: str) -> Response:
        with self.db() as session:
            person_id = web_store.redeem_login_link(session, token=token, now=self.config.clock())
            person = crud.get_person(session, person_id=person_id) if person_id is not None else None
            if person is None or not person.active or person.role == Role.child:
                crud.record_audit(session, actor_id=person_id, action="web_sign_in_refused",
                                  detail={"via": "link"})
                return self.page(request, "message.html", status_code=403, person=None,
                                 title="This link can't be used",
                                 message="This sign-in link has already been used or has expired. "
                                         "Send /dashboard to the bot for a new one.")
            return self.start_session(session, person, "link")

    async def sign_out(self, request: Request) -> Response:
        """End this browser's session."""
        token = request.cookies.get(COOKIE, "")
        return await _in_thread(self._end_session, token, RedirectResponse("/", status_code=303))

    # --- pages -----------------------------------------------------------------------------------

    def home(self, request: Request) -> Response:
        """Today for a manager (or an admin, without names); a staff member's own debriefs."""
        now = self.config.clock()
        with self.db() as session:
            person = self.signed_in(request, session, what="today")
            if person is None:
                return self.page(request, "sign_in.html", person=None, message=NOT_SIGNED_IN)
            if person.role == Role.staff:
                return self.page(request, "mine.html", person=person,
                                 debriefs=views.own_debriefs(session, person=person))
            return self.page(request, "today.html", person=person,
                             today=views.today(session, person=person, now=now))

    def incident(self, request: Request) -> Response:
        """One incident: accounts side by side, the child's view, points to reflect on, the review."""
        incident_id = int(request.path_params["incident_id"])
        with self.db() as session:
            person = self.signed_in(request, session, what="incident", object_id=incident_id)
            if person is None:
                return self.page(request, "sign_in.html", status_code=401, person=None,
                                 message=NOT_SIGNED_IN)
            try:
                page = views.incident_page(session, person=person, incident_id=incident_id,
                                           now=self.config.clock())
            except access.Refused as exc:
                return self.refused(request, exc, person)
            return self.page(request, "incident.html", person=person, incident=page)

    def debrief(self, request: Request) -> Response:
        """One debrief, for its author (or a manager of its setting)."""
        debrief_id = int(request.path_params["debrief_id"])
        with self.db() as session:
            person = self.signed_in(request, session, what="debrief", object_id=debrief_id)
            if person is None:
                return self.page(request, "sign_in.html", status_code=401, person=None,
                                 message=NOT_SIGNED_IN)
            try:
                debrief = access.check_debrief(session, person=person,
                                               debrief=crud.get_debrief(session, debrief_id=debrief_id),
                                               debrief_id=debrief_id)
            except access.Refused as exc:
                return self.refused(request, exc, person)
            names, rows = views.debrief_rows(session, debriefs=[debrief])
            return self.page(request, "debrief.html", person=person, rows=rows,
                             title=f"Debrief by {names[0]}")

    async def review(self, request: Request) -> Response:
        """The manager review of an incident: the same flow, runner and record as in the chat."""
        inbound = None
        if request.method == "POST":
            form = await request.form()
            if form.get("payload"):
                inbound = Inbound.pressed(str(form["payload"]))
            elif str(form.get("text") or "").strip():
                inbound = Inbound.typed(str(form["text"]))
        return await _in_thread(self._review, request, inbound)

    def _review(self, request: Request, inbound: Inbound | None) -> Response:
        incident_id = int(request.path_params["incident_id"])
        with self.db() as session:
            person = self.signed_in(request, session, what="review", object_id=incident_id)
            if person is None:
                return self.page(request, "sign_in.html", status_code=401, person=None,
                                 message=NOT_SIGNED_IN)
            assert person.id is not None
            try:
                access.check_review(session, person=person, incident_id=incident_id,
                                    incident=crud.get_incident(session, incident_id=incident_id))
            except access.Refused as exc:
                return self.refused(request, exc, person)
            if inbound is not None and self._reviewing(session, person.id, incident_id):
                reply = self.conversations.handle(session, person_id=person.id, inbound=inbound)
                messages = reply.messages
            else:  # opening it, or an answer meant for another conversation: show this review
                reply = self.conversations.command(session, person_id=person.id, name="review",
                                                   argument=incident_id)
                messages = [m for m in reply.messages
                            if not m.text.startswith(("📋 Review of", "Side by side"))]
            notices = [(target.telegram_user_id, Outbound(text=n.text, buttons=n.buttons))
                       for n in reply.notices
                       if (target := crud.get_person(session, person_id=n.person_id)) is not None
                       and target.telegram_user_id is not None]
            page = self.page(request, "review.html", person=person, incident_id=incident_id,
                             messages=[_message(m) for m in messages], status=reply.status)
        if notices and self.config.notify is not None:  # after the commit, as in the chat
            from_thread.run(self.config.notify, notices)
        return page

    @staticmethod
    def _reviewing(session: Session, person_id: int, incident_id: int) -> bool:
        """Whether this person's conversation in progress is the review of this incident."""
        current = crud.active_conversation(session, person_id=person_id)
        if current is None or current.flow_id != MANAGER_REVIEW:
            return False
        return State.model_validate_json(current.state).context.get("incident_id") == incident_id

    def patterns(self, request: Request) -> Response:
        """Counts, charts and points to reflect on for a period, by child, staff member and shift."""
        with self.db() as session:
            person = self.signed_in(request, session, what="patterns")
            if person is None:
                return self.page(request, "sign_in.html", status_code=401, person=None,
                                 message=NOT_SIGNED_IN)
            try:
                found = self._patterns(session, request, person)
            except access.Refused as exc:
                return self.refused(request, exc, person)
            return self.page(request, "patterns.html", person=person, patterns=found,
                             periods=views.PERIODS, shifts=views.SHIFTS)

    def _patterns(self, session: Session, request: Request, person: Person) -> views.Patterns:
        query = request.query_params
        return views.patterns(session, person=person, now=self.config.clock(),
                              period=query.get("period", "28"), child_id=_int(query.get("child")),
                              staff_id=_int(query.get("staff")), shift=query.get("shift") or None)

    def pattern_chart(self, request: Request) -> Response:
        """One chart of the Patterns page as a PNG, for the same filters (managers only)."""
        name = request.path_params["name"]
        with self.db() as session:
            person = self.signed_in(request, session, what=f"patterns_chart_{name}")
            if person is None:
                return PlainTextResponse(NOT_SIGNED_IN, status_code=401)
            try:
                found = self._patterns(session, request, person)
            except access.Refused:
                return PlainTextResponse("Not available", status_code=403)
        try:
            png = views.chart_png(found, name)
        except KeyError:
            return PlainTextResponse("Not found", status_code=404)
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})

    def reports(self, request: Request) -> Response:
        """The downloads for inspection."""
        with self.db() as session:
            person = self.signed_in(request, session, what="reports")
            if person is None:
                return self.page(request, "sign_in.html", status_code=401, person=None,
                                 message=NOT_SIGNED_IN)
            if person.role != Role.manager:
                exc = access.refuse(session, person=person, action="open_reports",
                                    object_type="setting", object_id=person.setting_id)
                return self.refused(request, exc, person)
            first, last = reports.period(request.query_params.get("from"),
                                         request.query_params.get("to"),
                                         today=self.config.clock().date())
            return self.page(request, "reports.html", person=person, first=first, last=last)

    def download(self, request: Request) -> Response:
        """The inspection records of the manager's setting, as CSV or PDF."""
        kind = request.path_params["kind"]
        with self.db() as session:
            person = self.signed_in(request, session, what=f"report_{kind}")
            if person is None:
                return self.page(request, "sign_in.html", status_code=401, person=None,
                                 message=NOT_SIGNED_IN)
            if person.role != Role.manager:
                exc = access.refuse(session, person=person, action=f"download_{kind}",
                                    object_type="setting", object_id=person.setting_id)
                return self.refused(request, exc, person)
            first, last = reports.period(request.query_params.get("from"),
                                         request.query_params.get("to"),
                                         today=self.config.clock().date())
            try:
                body, media, name = reports.render(session, person=person, kind=kind,
                                                   first=first, last=last)
            except reports.UnknownReport:
                return PlainTextResponse("Not found", status_code=404)
        return Response(body, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "no-store"})

    # --- the app ---------------------------------------------------------------------------------

    def routes(self) -> list[Any]:
        return [
            Route("/healthz", self.healthz),
            Route("/", self.home),
            Route("/auth/telegram", self.telegram_sign_in, methods=["POST"]),
            Route("/login/{token}", self.link_page),
            Route("/login", self.link_sign_in, methods=["POST"]),
            Route("/logout", self.sign_out, methods=["POST"]),
            Route("/incidents/{incident_id:int}", self.incident),
            Route("/incidents/{incident_id:int}/review", self.review, methods=["GET", "POST"]),
            Route("/debriefs/{debrief_id:int}", self.debrief),
            Route("/patterns", self.patterns),
            Route("/patterns/chart/{name:str}.png", self.pattern_chart),
            Route("/reports", self.reports),
            Route("/reports/{kind:str}", self.download),
            Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
        ]


async def _in_thread(work: Callable[..., Response], *args: Any) -> Response:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(work, *args)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _message(message: Outbound) -> dict[str, Any]:
    return {"text": wording.for_web(message.text), "kind": message.kind, "question_id": message.question_id,
            "buttons": [[{"label": b.label, "payload": b.payload} for b in row]
                        for row in message.buttons]}


def create_app(*, config: WebConfig, engine: Engine | None = None,
               extra_routes: list[Any] | None = None, lifespan: Any = None) -> Starlette:
    """The dashboard as one ASGI app (plus any extra routes, such as the Telegram webhook)."""
    dashboard = Dashboard(config=config, engine=engine)
    app = Starlette(routes=[*(extra_routes or []), *dashboard.routes()], lifespan=lifespan)
    app.state.dashboard = dashboard
    return app
