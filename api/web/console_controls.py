"""The console's controls: purchases whose points are held on a risk score (released or
voided here), changes waiting for a second admin key (approved or rejected here by another
key), and exclusion lists (made, renamed, deleted; a few entries added, removed or replaced
from the page — any number through the API).

Each page calls the same use cases as /v1/admin/holds, /v1/admin/approvals and
/v1/admin/exclusions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from api.deps import DbConn
from api.dto.jobs import ExclusionIn
from api.paging import CursorParam, decode_cursor, next_cursor, time_cursor_key, time_key
from api.web import forms
from api.web.console_forms import caller_of, notice_of
from api.web.i18n import N_
from api.web.pages import CONSOLE, PAGE_SIZE, page_link, problem, redirect, render
from api.web.sign_in import AreaPages
from api.web.words import APPROVAL_STATES, EXCLUSION_MATCHES, HOLD_STATES
from rewards.approvals import service as approvals
from rewards.core.errors import RewardsError, ValidationFailed
from rewards.exclusions import service as exclusions
from rewards.holds import service as holds
from rewards.jobs import service as jobs

MODES = ("add", "remove", "replace")


def _time_cursor(items: list[tuple[Any, str]]) -> str | None:
    return next_cursor([time_cursor_key(at, key) for at, key in items], PAGE_SIZE)


class ConsoleControlsController(AreaPages):
    """Holds, approvals and exclusion lists in the console."""

    path = "/console"
    opt = {"area": CONSOLE}  # noqa: RUF012

    # --- holds ----------------------------------------------------------------------------

    @get("/holds")
    async def holds_page(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        status: FromQuery[str | None] = None,
        cursor: CursorParam = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        return await self._holds(request, conn, status, cursor, notice_of(done), None, 200)

    async def _holds(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        status: str | None,
        cursor: str | None,
        notice: str | None,
        failure: str | None,
        code: int,
    ) -> Response[str]:
        caller = caller_of(request)
        chosen = status if status in HOLD_STATES else "held"
        after = time_key(decode_cursor(cursor, str))
        found = await holds.list_holds(conn, caller.tenant_id, chosen, after, PAGE_SIZE)
        return render(
            request,
            "console/holds.html",
            status=code,
            title=N_("Held points"),
            holds=found,
            chosen=chosen,
            states=tuple(HOLD_STATES),
            next_page=page_link(
                request, _time_cursor([(h.created_at, h.transaction_id) for h in found])
            ),
            notice=notice,
            errors={"form": failure} if failure else {},
        )

    @post("/holds/{transaction_id:str}/{decision:str}")
    async def decide_hold(
        self,
        request: Request[Any, Any, Any],
        transaction_id: FromPath[str],
        decision: FromPath[str],
        conn: DbConn,
    ) -> Response[str]:
        caller = caller_of(request)
        if decision not in ("release", "void"):
            return await self._holds(request, conn, None, None, None, N_("Not found"), 404)
        decide = holds.release if decision == "release" else holds.void
        try:
            async with conn.transaction():
                await decide(conn, caller.tenant_id, caller.actor, transaction_id)
        except RewardsError as exc:
            return await self._holds(request, conn, None, None, None, problem(exc), exc.status)
        done = "hold-released" if decision == "release" else "hold-voided"
        return redirect("/console/holds", done=done)

    # --- approvals ------------------------------------------------------------------------

    @get("/approvals")
    async def approvals_page(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        status: FromQuery[str | None] = None,
        cursor: CursorParam = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        return await self._approvals(request, conn, status, cursor, notice_of(done), None, 200)

    async def _approvals(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        status: str | None,
        cursor: str | None,
        notice: str | None,
        failure: str | None,
        code: int,
    ) -> Response[str]:
        caller = caller_of(request)
        chosen = status if status in APPROVAL_STATES else None
        before = time_key(decode_cursor(cursor, str))
        found = await approvals.list_approvals(conn, caller.tenant_id, chosen, before, PAGE_SIZE)
        return render(
            request,
            "console/approvals.html",
            status=code,
            title=N_("Approvals"),
            approvals=found,
            chosen=chosen or "",
            states=tuple(APPROVAL_STATES),
            own_key=caller.key_id,
            next_page=page_link(
                request, _time_cursor([(a.created_at, a.approval_id) for a in found])
            ),
            notice=notice,
            errors={"form": failure} if failure else {},
        )

    @post("/approvals/{approval_id:str}/{decision:str}")
    async def decide_approval(
        self,
        request: Request[Any, Any, Any],
        approval_id: FromPath[str],
        decision: FromPath[str],
        conn: DbConn,
    ) -> Response[str]:
        caller = caller_of(request)
        if decision not in ("approve", "reject"):
            return await self._approvals(request, conn, None, None, None, N_("Not found"), 404)
        decide = approvals.approve if decision == "approve" else approvals.reject
        try:
            async with conn.transaction():
                await decide(conn, caller.tenant_id, caller.actor, caller.key_id, approval_id)
        except RewardsError as exc:
            failure = problem(exc)
            return await self._approvals(request, conn, None, None, None, failure, exc.status)
        done = "approved-change" if decision == "approve" else "rejected-change"
        return redirect("/console/approvals", done=done)

    # --- exclusion lists ------------------------------------------------------------------

    @get("/exclusions")
    async def exclusions_page(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: CursorParam = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        return await self._exclusions(request, conn, cursor, {}, {}, 200, notice_of(done))

    async def _exclusions(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: str | None,
        values: dict[str, Any],
        errors: forms.Errors,
        code: int,
        notice: str | None = None,
    ) -> Response[str]:
        caller = caller_of(request)
        found = await exclusions.list_lists(
            conn, caller.tenant_id, decode_cursor(cursor, str), PAGE_SIZE
        )
        return render(
            request,
            "console/exclusions.html",
            status=code,
            title=N_("Exclusion lists"),
            lists=found,
            values={"match": "merchant_id", "mode": "add"} | values,
            errors=errors,
            match_options=list(EXCLUSION_MATCHES.items()),
            list_options=[(x.list_id, x.name) for x in found],
            modes=MODES,
            next_page=page_link(request, next_cursor([x.list_id for x in found], PAGE_SIZE)),
            notice=notice,
        )

    @post("/exclusions")
    async def put_exclusion(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        form = await request.form()
        r = forms.Reader(form, form.getall)
        values = forms.typed(form)
        try:
            list_id, name, match = r.text("list_id"), r.text("name"), r.text("match")
            r.done()
            data = forms.convert({"name": name, "match": match}, ExclusionIn)
            if not list_id:
                raise forms.FormErrors({"list_id": N_("Give the list an id.")})
            async with conn.transaction():
                await exclusions.put(
                    conn, caller.tenant_id, caller.actor, list_id, data.name, data.match
                )
        except (forms.FormErrors, ValidationFailed) as exc:
            errors = forms.errors_of(exc, ("list_id", "name", "match"))
            return await self._exclusions(request, conn, None, values, errors, 422)
        except RewardsError as exc:
            errors = {"list_id": problem(exc)}
            return await self._exclusions(request, conn, None, values, errors, exc.status)
        return redirect("/console/exclusions", done="exclusion-saved")

    @post("/exclusions/entries")
    async def entries(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        form = await request.form()
        r = forms.Reader(form, form.getall)
        values = forms.typed(form)
        list_id, mode, text = r.text("list"), r.text("mode"), r.text("entries")
        if mode not in MODES or not text:
            errors: forms.Errors = {"entries": N_("Enter at least one entry, one a line.")}
            return await self._exclusions(request, conn, None, values, errors, 422)
        try:
            async with conn.transaction():
                job = await exclusions.start_entries_job(
                    conn,
                    caller.tenant_id,
                    caller.actor,
                    list_id,
                    mode,  # type: ignore[arg-type]
                )
                await jobs.store_lines(conn, caller.tenant_id, job.job_id, _body(text))
        except RewardsError as exc:
            errors = {"entries": problem(exc)}
            return await self._exclusions(request, conn, None, values, errors, exc.status)
        return redirect(f"/console/jobs/{job.job_id}")

    @post("/exclusions/{list_id:str}/delete")
    async def delete_exclusion(
        self, request: Request[Any, Any, Any], list_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        try:
            async with conn.transaction():
                await exclusions.delete(conn, caller.tenant_id, caller.actor, list_id)
        except RewardsError as exc:
            errors = {"form": problem(exc)}
            return await self._exclusions(request, conn, None, {}, errors, exc.status)
        return redirect("/console/exclusions", done="exclusion-deleted")


async def _body(text: str) -> AsyncIterator[bytes]:
    yield (text.replace("\r\n", "\n") + "\n").encode()
