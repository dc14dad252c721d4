"""What the portal and the console share: templates, sessions, CSRF, headers and errors."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ExceptionHandlersMap

from api.web import i18n, words
from api.web.i18n import C_, N_, Text
from rewards.core.errors import RewardsError
from rewards.core.program import CompiledProgram, Program
from rewards.program.service import compiled_for
from rewards.tenants import sessions
from rewards.tenants.sessions import SessionHolder

_log = logging.getLogger("rewards.web")

STATIC_PATH = "/web/static"
STATIC_DIR = Path(__file__).parent / "static"


@cache
def _templates(locale: str) -> jinja2.Environment:
    """The templates in one language (``{% trans %}`` and ``_()`` from its catalog)."""
    made = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    made.policies["ext.i18n.trimmed"] = True
    made.globals.update(words.in_language(locale))
    made.install_gettext_translations(  # type: ignore[attr-defined]
        i18n.translations(locale), newstyle=True
    )
    return made


#: Pages load only this process's own stylesheet; no script, no frame, no other host.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
HTML = "text/html"  # Litestar adds "; charset=utf-8" to text types
PAGE_SIZE = 25

#: The cookie that carries the sign-in form's token before there is a session.
SIGN_IN_COOKIE = "rewards_sign_in"


class Area(msgspec.Struct, frozen=True):
    """The portal or the console: its path, who may sign in, its cookie and its menu."""

    name: str
    title: Text
    role: str
    key_name: Text
    nav: tuple[tuple[str, str], ...]

    @property
    def root(self) -> str:
        return f"/{self.name}"

    @property
    def cookie(self) -> str:
        return f"rewards_{self.name}"


PORTAL = Area(
    "portal",
    N_("Merchant portal"),
    "merchant",
    N_("merchant API key"),
    (
        (N_("Offers"), "/portal/offers"),
        (N_("Stores"), "/portal/stores"),
        (N_("Statements"), "/portal/statements"),
    ),
)
CONSOLE = Area(
    "console",
    N_("Operator console"),
    "admin",
    N_("admin API key"),
    (
        (N_("Overview"), "/console/overview"),
        (N_("Review"), "/console/review"),
        (N_("Program"), "/console/program"),
        (N_("Earn rules"), "/console/earn-rules"),
        (N_("Draws"), "/console/draw-campaigns"),
        (N_("Catalog"), "/console/catalog"),
        (C_("menu", "Members"), "/console/members"),
        (N_("Replays"), "/console/replays"),
        (N_("Jobs"), "/console/jobs"),
        (N_("Segments"), "/console/segments"),
        (N_("Liability"), "/console/liability"),
        (N_("Breakage"), "/console/breakage"),
        (N_("Settlements"), "/console/settlements"),
        (N_("Audit log"), "/console/audit"),
        (N_("Risk events"), "/console/risk"),
        (N_("Holds"), "/console/holds"),
        (N_("Approvals"), "/console/approvals"),
        (N_("Exclusions"), "/console/exclusions"),
        (N_("API keys"), "/console/keys"),
        (N_("Events"), "/console/events"),
    ),
)


class SignInNeeded(Exception):
    """The request has no live session of this area: the browser is sent to sign in."""


class FormRefused(RewardsError):
    """A form that did not come from one of this session's pages (CSRF)."""

    status = 403
    type = "form_refused"
    title = N_("This form has expired")


def area_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Area:
    area: Area = connection.route_handler.opt["area"]
    return area


def holder_of(request: Request[Any, Any, Any]) -> SessionHolder:
    holder: SessionHolder = request.state.web
    return holder


def secure_cookies(request: Request[Any, Any, Any]) -> bool:
    """Cookies are ``Secure`` when the page was served over https (or the server says so)."""
    forced: bool = request.app.state.settings.web_secure_cookies
    return forced or request.url.scheme == "https"


def cookie(request: Request[Any, Any, Any], name: str, value: str, **extra: Any) -> Cookie:
    """An HttpOnly, SameSite=Strict cookie for this area's paths only."""
    return Cookie(
        key=name,
        value=value,
        path=area_of(request).root,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        **extra,
    )


# --- guards and checks ----------------------------------------------------------------------


async def session_guard(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """A live session of this area's role, unless the page is public (sign in)."""
    if connection.route_handler.opt.get("public"):
        return
    area = area_of(connection)
    token = connection.cookies.get(area.cookie)
    if not token:
        raise SignInNeeded
    # One connection for the session and the program (its language, zone and currency).
    async with connection.app.state.pool.acquire() as conn:
        holder = await sessions.find(conn, token)
        if holder is None or holder.role != area.role:
            raise SignInNeeded
        connection.state.program = (await compiled_for(conn, holder.tenant_id)).program
    connection.state.web = holder


async def check_form(request: Request[Any, Any, Any]) -> None:
    """Every POST must come from a page of this site, carrying the session's form token
    (or, to sign in, the token of the sign-in cookie)."""
    if request.method != "POST":
        return
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise FormRefused(N_("The form was sent from another site."))
    form = await request.form()
    sent = form.get("csrf_token")
    holder: SessionHolder | None = getattr(request.state, "web", None)
    expected = holder.csrf_token if holder else request.cookies.get(SIGN_IN_COOKIE)
    if (
        not isinstance(sent, str)
        or not expected
        or not hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise FormRefused(N_("The form was not sent from this session's page: open it again."))


def new_form_token() -> str:
    return secrets.token_urlsafe(32)


# --- responses ------------------------------------------------------------------------------


def render(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status: int = 200,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Response[str]:
    """A page of this area, with the site's security headers."""
    return render_in(area_of(request), request, template, status=status, cookies=cookies, **context)


def render_in(
    area: Area,
    request: Request[Any, Any, Any],
    template: str,
    *,
    status: int = 200,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Response[str]:
    """A page of ``area`` (for a request that no page of it matched, too), in the
    language chosen for the request; the messages among ``context`` translated."""
    holder: SessionHolder | None = getattr(request.state, "web", None)
    locale, formats = language_of(request)
    said = i18n.translations(locale)
    body = (
        _templates(locale)
        .get_template(template)
        .render(
            area=msgspec.structs.replace(
                area,
                title=area.title.translated(said),
                key_name=area.key_name.translated(said),
                nav=tuple((i18n.translate(label, said), href) for label, href in area.nav),
            ),
            holder=holder,
            path=request.url.path,
            notice=i18n.translate(context.pop("notice", None), said),
            lang=locale.replace("_", "-"),
            locale=locale,
            fmt=formats,
            languages=LANGUAGES,
            **{k: i18n.translate(v, said) for k, v in context.items()},
        )
    )
    return Response(body, status_code=status, media_type=HTML, headers=HEADERS, cookies=cookies)


#: The language switch on every page: each language named in itself.
LANGUAGES = (("zh_CN", "中文"), ("en", "English"))


def language_of(request: Request[Any, Any, Any]) -> tuple[str, i18n.Formats]:
    """The language a request is shown in, and its formats in the program's zone and
    currency (the defaults before sign-in)."""
    program: CompiledProgram | None = getattr(request.state, "program", None)
    if program is None:
        program = _default_program()
    locale = i18n.choose(
        request.cookies.get(i18n.LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
        program.program.locale,
    )
    formats = i18n.Formats(locale, program.zone, program.program.currency, program.exponent)
    return locale, formats


def translator(request: Request[Any, Any, Any]) -> Callable[[Text], str]:
    """Messages in the request's language, for what is drawn before the page (a chart)."""
    said = i18n.translations(language_of(request)[0])
    return lambda text: text.translated(said)


@cache
def _default_program() -> CompiledProgram:
    return CompiledProgram.of(Program())


def redirect(to: str, *, cookies: list[Cookie] | None = None, **query: str | None) -> Response[str]:
    """303 See Other, so that a browser that posted a form fetches the next page."""
    given = {k: v for k, v in query.items() if v is not None}
    location = f"{to}?{urlencode(given)}" if given else to
    return Response(
        "",
        status_code=303,
        media_type=HTML,
        headers=HEADERS | {"Location": location},
        cookies=cookies,
    )


def page_link(request: Request[Any, Any, Any], cursor: str | None) -> str | None:
    """The link to the next page of a list, keeping the other query parameters."""
    if cursor is None:
        return None
    query = {k: v for k, v in request.query_params.items() if k != "cursor"}
    return f"{request.url.path}?{urlencode(query | {'cursor': cursor})}"


# --- errors ---------------------------------------------------------------------------------

_WORDS = {
    400: N_("The address of this page is not valid."),
    401: N_("Please sign in again."),
    403: N_("You may not do this."),
    404: N_("This page does not exist, or it belongs to someone else."),
    405: N_("This page cannot be used that way."),
    409: N_("This cannot be done now."),
    413: N_("What you sent is too large."),
    422: N_("Some of what you entered is not valid."),
    429: N_("Too many requests: please wait a moment and try again."),
}


def error_page(
    request: Request[Any, Any, Any], status: int, detail: str, title: str | None = None
) -> Response[str]:
    """An error page: its title by the status (or as given) and what went wrong."""
    return render(
        request,
        "error.html",
        status=status,
        title=title or _WORDS.get(status, N_("Something went wrong.")),
        detail=detail,
        status_code=status,
    )


def area_at(path: str) -> Area | None:
    """The area a path lies in, if any."""
    for area in (PORTAL, CONSOLE):
        if path == area.root or path.startswith(area.root + "/"):
            return area
    return None


def missing_page(request: Request[Any, Any, Any], area: Area, status: int) -> Response[str]:
    """The page for a path of an area that no page matches (404) or a method no page of it
    takes (405): an HTML page with the area's headers, not the API's JSON."""
    return render_in(
        area,
        request,
        "error.html",
        status=status,
        title=_WORDS.get(status, N_("Something went wrong.")),
        detail="",
        status_code=status,
    )


def _on_sign_in_needed(request: Request[Any, Any, Any], _: Exception) -> Response[str]:
    area = area_of(request)
    expired = (
        [cookie(request, area.cookie, "", max_age=0)] if area.cookie in request.cookies else []
    )
    return redirect(f"{area.root}/sign-in", cookies=expired)


def problem(exc: RewardsError) -> str:
    """What went wrong, in the page's words where the problem's type has them, with the
    service's own detail."""
    if exc.args and isinstance(exc.args[0], Text):
        return exc.args[0]
    words_for = words.PROBLEMS.get(exc.type)
    return (
        N_("%(problem)s (%(detail)s)", problem=words_for, detail=exc.detail)
        if words_for
        else exc.detail
    )


def _on_rewards_error(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    assert isinstance(exc, RewardsError)
    title = exc.title if isinstance(exc, FormRefused) else None
    return error_page(request, exc.status, problem(exc), title)


def _on_http(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    assert isinstance(exc, HTTPException)
    if isinstance(exc, ValidationException):
        return error_page(request, 400, N_("A value in the page's address is not valid."))
    return error_page(request, exc.status_code, "")


def _on_unhandled(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    _log.error("a web page failed", exc_info=exc)
    return error_page(request, 500, N_("The error was logged. Please try again later."))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SignInNeeded: _on_sign_in_needed,
    RewardsError: _on_rewards_error,
    HTTPException: _on_http,
    Exception: _on_unhandled,
}
