"""The Starlette app behind the daemon's `http:` listener: /healthz, /readyz, /metrics, and the
page for the people on watch at `/`, with its actions.

Handlers run on the daemon's loop and use the daemon's store directly: every query is indexed
and paginated, so a page costs milliseconds, and a write never interleaves with a poll's
transaction. Actions need the configured token (a session cookie) plus the CSRF token of that
session; without `http.token` the page is read-only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jinja2
from markupsafe import Markup
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from monitor.app import App
from monitor.db import StateUnavailableError
from monitor.durations import parse_duration
from monitor.health import Health
from monitor.metrics import REGISTRY
from monitor.models import Severity
from monitor.notify.render import safe_link
from monitor.store import mixed_setups
from monitor.web import auth
from monitor.web.highlight import highlight
from monitor.web.stories import SINCE, StoryFilters, story_card
from monitor.web.trend import DAYS, chart, last_days
from monitor.web.views import PAGE_SIZE, Page, feed_rows, page_number, release

MAX_FORM = 16 * 1024  # bytes of an action's form body; ours are a few hundred
LIVE_HEADER = "x-live"  # the page's script asks for the live part only

# The page loads nothing from elsewhere and runs only its own script, so even a headline that
# slipped past escaping could not run code or send data away.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on our own forms.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("monitor.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _utc(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(seconds: float) -> str:
    seconds = round(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def _ago(then: float | None, now: float) -> str:
    if then is None:
        return "never"
    if then > now:
        return f"in {_span(then - now)}"
    return f"{_span(now - then)} ago"


def _when(seconds: float | None, now: float) -> Markup:
    """A <time> saying how long ago (or in how long), the exact UTC time on hover."""
    if seconds is None:
        return Markup("never")
    exact = _utc(seconds)
    return Markup('<time datetime="{0}" title="{0}">{1}</time>').format(exact, _ago(seconds, now))


def _page_url(query: dict[str, str], key: str, number: int) -> str:
    """The page's URL with listing `key` at page `number`, the other listings where they were."""
    params = {k: v for k, v in query.items() if k != "done"}
    params[key] = str(number)
    return "/?" + urlencode(params)


_ENV.filters["utc"] = _utc
_ENV.globals.update(
    ago=_ago, when=_when, safe_link=safe_link, page_url=_page_url, highlight=highlight
)


def _text(status: int, body: str, **headers: str) -> PlainTextResponse:
    return PlainTextResponse(body + "\n", status, headers={"Cache-Control": "no-store", **headers})


def _html(body: str, status: int = 200, **headers: str) -> HTMLResponse:
    return HTMLResponse(body, status, headers={**_SECURITY_HEADERS, **headers})


class Refused(Exception):
    """An action that must not run; the message says why and what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class WebUI:
    """The endpoints, bound to one daemon's health and App."""

    def __init__(
        self, health: Health, app: App, on_change: Callable[[], None], clock: Callable[[], float]
    ) -> None:
        self.health = health
        self.app = app
        self.on_change = on_change
        self.clock = clock

    # -- operations endpoints -------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        now = self.clock()
        age = self.health.age(now)
        if self.health.alive(now):
            return _text(200, f"ok: loop ticked {age:.1f} s ago")
        if self.health.stuck:
            return _text(503, self.health.stuck)
        limit = self.health.stale_after
        return _text(503, f"stalled: loop last ticked {age:.0f} s ago (limit {limit:.0f} s)")

    async def readyz(self, request: Request) -> Response:
        if self.health.problem:
            return _text(503, f"not ready: {self.health.problem}")
        if self.health.ready:
            return _text(200, "ready")
        return _text(503, "not ready: starting, or the state database is unreachable")

    async def metrics(self, request: Request) -> Response:
        # With thousands of feeds rendering takes a second or more; a thread keeps the loop ticking.
        body = await asyncio.to_thread(generate_latest, REGISTRY)
        return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    # -- the page ---------------------------------------------------------------

    def _session(self, request: Request) -> str | None:
        """The session cookie if it proves the token, else None."""
        token = self.app.config.http_token
        cookie = request.cookies.get(auth.SESSION_COOKIE)
        if token and cookie and auth.session_valid(token, cookie, time.time()):
            return cookie
        return None

    def _frame(self, request: Request) -> dict[str, Any]:
        """What the page shows without reading the store: the loop, readiness, the actions."""
        ticked = self.clock()
        token = self.app.config.http_token
        session = self._session(request)
        return {
            "now": time.time(),
            "alive": self.health.alive(ticked),
            "ready": self.health.ready,
            "tick_age": self.health.age(ticked),
            "rules": sorted(r.info.id for r in self.app.rulebook.rules),
            "token_configured": bool(token),
            "can_act": session is not None,
            "csrf": auth.csrf_token(token, session) if token and session else "",
            "query": dict(request.query_params),
            "done": request.query_params.get("done", ""),
            "outage": None,
        }

    def _context(self, request: Request) -> dict[str, Any]:
        frame = self._frame(request)
        now = frame["now"]
        store, config = self.app.store, self.app.config
        query = request.query_params
        replicas = store.replicas(now) if isinstance(config.state, str) else None
        rows = feed_rows(config.feeds, {s.name: s for s in store.feed_states()}, now)
        feeds = Page.of(query.get("feeds"), len(rows))
        counts = store.delivery_counts()
        outbox = {}
        for status in counts:
            page = Page.of(query.get(status), counts[status])
            outbox[status] = (page, store.delivery_page(status, page.size, page.offset))
        rulebook = self.app.rulebook
        filters = StoryFilters.read(
            query, [ladder.id for ladder in rulebook.ladders], frame["rules"]
        )
        stories_page = page_number(query.get("stories"))
        story_rows = store.stories(
            filters.since_time(now),
            filters.rule,
            PAGE_SIZE + 1,  # one more than shown tells whether an older page exists
            (stories_page - 1) * PAGE_SIZE,
            ladder=filters.ladder,
            min_severity=filters.severity,
        )
        messages = store.messages_of([row.id for row in story_rows[:PAGE_SIZE]])
        trends = [
            (
                ladder,
                chart(
                    last_days(store.ladder_trend(ladder.id, now - DAYS * 86400), now),
                    ladder.top,
                ),
            )
            for ladder in rulebook.ladders
        ]
        return {
            **frame,
            "stories": [story_card(row, messages[row.id]) for row in story_rows[:PAGE_SIZE]],
            "stories_page": stories_page,
            "stories_older": len(story_rows) > PAGE_SIZE,
            "filters": filters,
            "since_choices": list(SINCE),
            "ladders": rulebook.ladders,
            "severities": [severity.label for severity in Severity],
            "trends": trends,
            "feeds": rows[feeds.offset : feeds.offset + feeds.size],
            "feeds_page": feeds,
            "failing": sum(1 for r in rows if r.failing),
            "counts": counts,
            "outbox": outbox,
            "release": lambda d: release(d, now),
            "silences": store.silences(now),
            "replicas": replicas,
            "alive_replicas": {r.id for r in replicas if r.alive(now)} if replicas else set(),
            "this_replica": self.app.replica.id,
            "mixed_setups": replicas is not None and mixed_setups(replicas, now),
        }

    async def page(self, request: Request) -> Response:
        live = bool(request.headers.get(LIVE_HEADER))
        try:
            context = self._context(request)
        except StateUnavailableError as exc:
            # The database is away: say so where the stories and outbox would be. The live part
            # answers 200 so the open page's script swaps it in; a fresh load is a 503.
            context = {**self._frame(request), "outage": str(exc)}
            status = 200 if live else 503
        else:
            status = 200
        template = "live.html" if live else "page.html"
        return _html(_ENV.get_template(template).render(context), status)

    async def story(self, request: Request) -> Response:
        story_id = request.path_params["story_id"]
        try:
            return self._story(story_id)
        except StateUnavailableError as exc:
            return _html(_ENV.get_template("refused.html").render(message=str(exc)), 503)

    def _story(self, story_id: str) -> Response:
        store = self.app.store
        row = store.story(story_id)
        if row is None:
            return _html(
                _ENV.get_template("refused.html").render(
                    message=f"no story {story_id!r}: it may be older than the state keeps"
                ),
                404,
            )
        card = story_card(row, store.messages_of([story_id])[story_id])
        context = {
            "now": time.time(),
            "card": card,
            "reports": store.story_reports(story_id),
            "history": store.story_messages(story_id),
        }
        return _html(_ENV.get_template("story.html").render(context))

    # -- actions ----------------------------------------------------------------

    async def _form(self, request: Request) -> dict[str, str]:
        """The url-encoded body, refused past MAX_FORM so a client cannot grow our memory."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_FORM:
            raise Refused(413, f"form too large (limit {MAX_FORM} bytes)")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM:
                raise Refused(413, f"form too large (limit {MAX_FORM} bytes)")
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    def _authorize(self, request: Request, form: dict[str, str]) -> None:
        token = self.app.config.http_token
        if not token:
            raise Refused(
                403,
                "read-only: this daemon has no http.token; set one in config.yaml to enable "
                "actions",
            )
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
            raise Refused(403, f"refused: request from another site ({origin})")
        session = self._session(request)
        if session is None:
            raise Refused(403, "refused: unlock the actions with the token first")
        if not auth.csrf_valid(token, session, form.get("csrf", "")):
            raise Refused(403, "refused: the form is stale or from another site; reload the page")

    async def _act(
        self, request: Request, action: Callable[[dict[str, str], float], str]
    ) -> Response:
        try:
            form = await self._form(request)
            self._authorize(request, form)
            try:
                done = action(form, time.time())
            except StateUnavailableError as exc:
                raise Refused(503, f"not done: {exc}") from None
        except Refused as refused:
            return _html(
                _ENV.get_template("refused.html").render(message=str(refused)), refused.status
            )
        self.on_change()
        return RedirectResponse(f"/?done={done}", status_code=303)

    async def silence(self, request: Request) -> Response:
        def action(form: dict[str, str], now: float) -> str:
            rule = form.get("rule", "")
            if rule not in {r.info.id for r in self.app.rulebook.rules}:
                raise Refused(400, f"no rule with id {rule!r} in the rulebook")
            try:
                seconds = parse_duration(form.get("duration", ""))
            except ValueError as exc:
                raise Refused(400, f"duration: {exc}") from None
            if seconds <= 0:
                raise Refused(400, "duration must be longer than zero")
            comment = form.get("comment", "").strip()[:200]
            self.app.store.add_silence(rule, None, now + seconds, comment, now)
            return "silenced"

        return await self._act(request, action)

    async def retry(self, request: Request) -> Response:
        def action(form: dict[str, str], now: float) -> str:
            if not self.app.store.retry_delivery(
                form.get("alert", ""), form.get("notifier", ""), now
            ):
                raise Refused(404, "no such delivery waiting (it may have been sent meanwhile)")
            return "retried"

        return await self._act(request, action)

    async def retry_failed(self, request: Request) -> Response:
        def action(form: dict[str, str], now: float) -> str:
            self.app.store.requeue(None, None, now)
            return "retried-all"

        return await self._act(request, action)

    async def unlock(self, request: Request) -> Response:
        token = self.app.config.http_token
        try:
            form = await self._form(request)
            if not token:
                raise Refused(403, "read-only: this daemon has no http.token")
            if not auth.token_matches(token, form.get("token", "")):
                raise Refused(403, "refused: wrong token")
        except Refused as refused:
            return _html(
                _ENV.get_template("refused.html").render(message=str(refused)), refused.status
            )
        response = RedirectResponse("/?done=unlocked", status_code=303)
        response.set_cookie(
            auth.SESSION_COOKIE,
            auth.new_session(token, time.time()),
            max_age=auth.SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def lock(self, request: Request) -> Response:
        response = RedirectResponse("/?done=locked", status_code=303)
        response.delete_cookie(auth.SESSION_COOKIE)
        return response


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        return _text(405, "method not allowed here", Allow="GET, HEAD")
    if status == 404:
        return _text(404, "not found: try /, /healthz, /readyz or /metrics")
    return _text(status, "error")


def build_web_app(
    health: Health,
    app: App,
    *,
    on_change: Callable[[], None] = lambda: None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The ASGI app for one daemon; `clock` is the one the daemon's health ticks are on."""
    ui = WebUI(health, app, on_change, clock)
    return Starlette(
        routes=[
            Route("/", ui.page, methods=["GET"]),
            Route("/stories/{story_id}", ui.story, methods=["GET"]),
            Route("/healthz", ui.healthz, methods=["GET"]),
            Route("/readyz", ui.readyz, methods=["GET"]),
            Route("/metrics", ui.metrics, methods=["GET"]),
            Route("/unlock", ui.unlock, methods=["POST"]),
            Route("/lock", ui.lock, methods=["POST"]),
            Route("/actions/silence", ui.silence, methods=["POST"]),
            Route("/actions/retry", ui.retry, methods=["POST"]),
            Route("/actions/retry-failed", ui.retry_failed, methods=["POST"]),
            Mount("/static", StaticFiles(packages=[("monitor.web", "static")]), name="static"),
        ],
        exception_handlers={HTTPException: _not_found},
    )
