"""Signing in and out: an API key typed once is exchanged for a session cookie.

The key travels only in the body of a POST and is never stored in the page, the URL or
the browser; the session token is an ``HttpOnly``, ``SameSite=Strict`` cookie for this
area's paths (``Secure`` over https).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery

from api.web import i18n
from api.web.i18n import N_
from api.web.pages import (
    EXCEPTION_HANDLERS,
    SIGN_IN_COOKIE,
    area_of,
    check_form,
    cookie,
    new_form_token,
    redirect,
    render,
    secure_cookies,
    session_guard,
)
from rewards.core.errors import NotFound, Unauthenticated
from rewards.core.records import Role
from rewards.tenants import sessions


class AreaPages(Controller):
    """What every page of the portal and the console has: sessions, form checks, error
    pages. Each area's pages are split among controllers of this kind by what they manage."""

    guards = [session_guard]  # noqa: RUF012
    # Litestar calls a hook set on the class unbound (it is not a method of the controller).
    before_request = check_form  # type: ignore[assignment]
    exception_handlers = EXCEPTION_HANDLERS
    include_in_schema = False


class AreaController(AreaPages):
    """An area's first controller: its pages and the sign-in and sign-out pages."""

    @get("/sign-in", opt={"public": True})
    async def sign_in_page(self, request: Request[Any, Any, Any]) -> Response[str]:
        token = request.cookies.get(SIGN_IN_COOKIE) or new_form_token()
        return _sign_in_form(request, token, None, 200)

    @post("/sign-in", opt={"public": True})
    async def sign_in(self, request: Request[Any, Any, Any]) -> Response[str]:
        area = area_of(request)
        form = await request.form()
        key = form.get("api_key")
        lifetime = request.app.state.settings.web_session_minutes * 60
        role: Role = "admin" if area.role == "admin" else "merchant"
        settings = request.app.state.settings
        token = request.cookies.get(SIGN_IN_COOKIE) or new_form_token()
        try:
            if not isinstance(key, str) or not key.strip():
                raise Unauthenticated("enter your key")
            opened = await sessions.sign_in(
                request.app.state.pool,
                key,
                role,
                lifetime,
                client=request.client.host if request.client else "unknown",
                max_failures=settings.web_sign_in_failures_per_minute,
            )
        except sessions.SignInThrottled as exc:
            message = N_("Too many failed sign-ins from this address. Please wait a minute.")
            refused = _sign_in_form(request, token, message, 429)
            refused.headers["Retry-After"] = str(exc.retry_after)
            return refused
        except Unauthenticated:
            message = N_("This key is not valid, or it was revoked.")
            return _sign_in_form(request, token, message, 401)
        return redirect(
            f"{area.root}/",
            cookies=[
                cookie(request, area.cookie, opened.token, max_age=int(lifetime)),
                cookie(request, SIGN_IN_COOKIE, "", max_age=0),
            ],
        )

    @get("/language/{code:str}", opt={"public": True})
    async def language(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        back: FromQuery[str | None] = None,
    ) -> Response[str]:
        """The language switch: remembered in a cookie (a year, both areas), then back to
        the page it was chosen on."""
        area = area_of(request)
        if code not in i18n.LOCALES:
            raise NotFound(N_("There is no such language."))
        inside = back is not None and (back == area.root or back.startswith(f"{area.root}/"))
        target = back if inside and back is not None and "\\" not in back else f"{area.root}/"
        chosen = Cookie(
            key=i18n.LANGUAGE_COOKIE,
            value=code,
            path="/",
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=secure_cookies(request),
        )
        return redirect(target, cookies=[chosen])

    @post("/sign-out")
    async def sign_out(self, request: Request[Any, Any, Any]) -> Response[str]:
        area = area_of(request)
        token = request.cookies.get(area.cookie)
        if token:
            await sessions.sign_out(request.app.state.pool, token)
        return redirect(
            f"{area.root}/sign-in",
            signed_out="1",
            cookies=[cookie(request, area.cookie, "", max_age=0)],
        )


def _sign_in_form(
    request: Request[Any, Any, Any], token: str, error: str | None, status: int
) -> Response[str]:
    signed_out = request.query_params.get("signed_out") == "1"
    return render(
        request,
        "sign_in.html",
        status=status,
        title=N_("Sign in"),
        form_token=token,
        error=error,
        notice=N_("You are signed out.") if signed_out and error is None else None,
        cookies=[cookie(request, SIGN_IN_COOKIE, token)],
    )
