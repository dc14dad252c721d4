"""The console's bulk work: background jobs (imports, segment loads, grants, replays) with
their progress and the lines they could not apply; segments with their member counts; and
grants to a segment.

The pages call the same use cases as /v1/admin/jobs, /v1/admin/segments and
/v1/admin/grants.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from api.deps import DbConn
from api.paging import CursorParam, decode_cursor, next_cursor, time_key
from api.web import forms
from api.web.console_forms import caller_of, notice_of, waits
from api.web.i18n import N_
from api.web.pages import CONSOLE, PAGE_SIZE, page_link, problem, redirect, render
from api.web.reports import program_of
from api.web.sign_in import AreaPages
from rewards.core.errors import RewardsError, ValidationFailed
from rewards.grants import service as grants
from rewards.jobs import service as jobs
from rewards.segments import service as segments
from rewards.statuses import service as statuses

KINDS = (
    ("", N_("All")),
    ("import", N_("Imports")),
    ("segment", N_("Segments")),
    ("member_status", N_("Member status of a segment")),
    ("exclusions", N_("Exclusion lists")),
    ("grant", N_("Grants")),
    ("replay", N_("Replays")),
)
GRANT_FIELDS = ("id", "segment", "points", "expires_at", "offer_id", "reason")


class ConsoleJobsController(AreaPages):
    """Jobs, segments and grants in the console."""

    path = "/console"
    opt = {"area": CONSOLE}  # noqa: RUF012

    @get("/jobs")
    async def jobs_page(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        kind: FromQuery[str | None] = None,
        cursor: CursorParam = None,
    ) -> Response[str]:
        caller = caller_of(request)
        chosen = kind if kind in {k for k, _ in KINDS if k} else None
        found = await jobs.list_jobs(
            conn, caller.tenant_id, chosen, time_key(decode_cursor(cursor, str)), PAGE_SIZE
        )
        keys = [f"{j.created_at.isoformat()}|{j.job_id}" for j in found]
        running = any(j.status in ("queued", "running") for j in found)
        return render(
            request,
            "console/jobs.html",
            title=N_("Jobs"),
            jobs=found,
            kinds=KINDS,
            kind=chosen or "",
            refresh_seconds=2 if running else None,
            next_page=page_link(request, next_cursor(keys, PAGE_SIZE)),
        )

    @get("/jobs/{job_id:str}")
    async def job_page(
        self,
        request: Request[Any, Any, Any],
        job_id: FromPath[str],
        conn: DbConn,
        cursor: CursorParam = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = caller_of(request)
        job = await jobs.get(conn, caller.tenant_id, job_id)
        errors = await jobs.errors(
            conn, caller.tenant_id, job_id, decode_cursor(cursor, int), PAGE_SIZE
        )
        running = job.status in ("queued", "running")
        return render(
            request,
            "console/job.html",
            title=N_("Job %(id)s", id=job_id),
            job=job,
            line_errors=errors,
            running=running,
            refresh_seconds=2 if running else None,
            next_page=page_link(request, next_cursor([e.line for e in errors], PAGE_SIZE)),
            notice=notice_of(done),
        )

    @post("/jobs/{job_id:str}/cancel")
    async def cancel(
        self, request: Request[Any, Any, Any], job_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        await jobs.cancel(conn, caller.tenant_id, job_id)
        return redirect(f"/console/jobs/{job_id}", done="job-cancelled")

    @get("/segments")
    async def segments_page(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: CursorParam = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        return await self._segments(request, conn, cursor, {}, {}, 200, notice_of(done))

    async def _segments(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: str | None,
        values: dict[str, str],
        errors: dict[str, str],
        status: int,
        notice: str | None = None,
    ) -> Response[str]:
        caller = caller_of(request)
        found = await segments.list_segments(
            conn, caller.tenant_id, decode_cursor(cursor, str), PAGE_SIZE
        )
        return render(
            request,
            "console/segments.html",
            status=status,
            title=N_("Segments and grants"),
            segments=found,
            values=values,
            errors=errors,
            notice=notice,
            segment_options=[("", "—")] + [(s.segment_id, s.name) for s in found],
            next_page=page_link(request, next_cursor([s.segment_id for s in found], PAGE_SIZE)),
        )

    @post("/segments")
    async def put_segment(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        form = await request.form()
        r = forms.Reader(form, form.getall)
        values = forms.typed(form)
        try:
            segment_id, name = r.text("segment_id"), r.text("name")
            description = r.optional_text("description") or ""
            r.done()
            errors: forms.Errors = {}
            if not 1 <= len(segment_id) <= 64:
                errors["segment_id"] = N_("Enter an id of 1 to 64 characters.")
            if not 1 <= len(name) <= 200:
                errors["name"] = N_("Enter a name.")
            if errors:
                raise forms.FormErrors(errors)
            async with conn.transaction():
                await segments.put(
                    conn, caller.tenant_id, caller.actor, segment_id, name, description
                )
        except forms.FormErrors as exc:
            return await self._segments(request, conn, None, values, exc.errors, 422)
        return redirect("/console/segments", done="segment-saved")

    @post("/grants")
    async def grant(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        program = await program_of(conn, caller.tenant_id)
        form = await request.form()
        r = forms.Reader(form, form.getall)
        values = forms.typed(form)
        try:
            grant_id, segment = r.text("id"), r.text("segment")
            points = r.integer("points")
            expires_at = r.local_time("expires_at", program.zone)
            offer_id = r.optional_text("offer_id")
            reason = r.text("reason")
            r.done()
            errors: forms.Errors = {}
            if not grant_id:
                errors["id"] = N_("Enter an id for the grant (it keeps it from being given twice).")
            if not segment:
                errors["segment"] = N_("Choose a segment.")
            if not reason:
                errors["reason"] = N_("Say why the grant is given.")
            if errors:
                raise forms.FormErrors(errors)
            request_ = grants.GrantRequest(
                grant_id,
                reason,
                segment=segment,
                points=points,
                expires_at=expires_at,
                offer_id=offer_id,
            )
            change, summary = (
                msgspec.to_builtins(request_),
                {"grant_id": grant_id, "points": points},
            )
            async with conn.transaction():
                if await waits(conn, caller, "grant", change, summary, points):
                    return redirect("/console/approvals", done="approval-pending")
                job = await grants.start(conn, caller.tenant_id, caller.actor, request_)
        except (forms.FormErrors, ValidationFailed) as exc:
            errors = forms.errors_of(exc, GRANT_FIELDS)
            return await self._segments(request, conn, None, values, errors, 422)
        except RewardsError as exc:
            return await self._segments(
                request, conn, None, values, {"form": problem(exc)}, exc.status
            )
        return redirect(f"/console/jobs/{job.job_id}")

    @post("/segments/status")
    async def set_status(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        form = await request.form()
        r = forms.Reader(form, form.getall)
        values = forms.typed(form)
        segment, status = r.text("status_segment"), r.text("status")
        if not segment or status not in statuses.STATUSES:
            errors: forms.Errors = {"status_segment": N_("Choose a segment and a status.")}
            return await self._segments(request, conn, None, values, errors, 422)
        try:
            async with conn.transaction():
                job = await statuses.start(conn, caller.tenant_id, caller.actor, segment, status)
        except RewardsError as exc:
            errors = {"status_segment": problem(exc)}
            return await self._segments(request, conn, None, values, errors, exc.status)
        return redirect(f"/console/jobs/{job.job_id}")
