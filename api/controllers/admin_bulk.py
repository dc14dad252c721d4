"""The operator's bulk work: member imports, segments and their members, grants. Uploaded
bodies are streamed into the job's lines as they arrive (memory does not grow with them)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter, QueryParameter

from api.auth import Admin, admin_guard
from api.controllers.admin_controls import gated
from api.controllers.admin_jobs import job_out
from api.deps import DbConn
from api.dto.controls import ApprovalPending
from api.dto.jobs import (
    GrantIn,
    GrantOut,
    JobOut,
    SegmentIn,
    SegmentOut,
    SegmentPage,
    SegmentStatusIn,
)
from api.paging import CursorParam, Limit, decode_cursor, next_cursor
from rewards.core.errors import UnsupportedMediaType
from rewards.grants import service as grants
from rewards.imports import service as imports
from rewards.jobs import service as jobs
from rewards.segments import service as segments
from rewards.statuses import service as statuses

#: What an import's body may be, by media type.
IMPORT_TYPES = {
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "text/csv": "csv",
}
#: What a segment's member list may be: one id a line (a CSV column with a member_id header).
ID_LIST_TYPES = ("text/plain", "text/csv", "application/x-ndjson")

_UPLOADS = re.compile(
    r"^/v1/admin/(imports/members|segments/[^/]+/members|exclusions/[^/]+/entries)/?$"
)


def is_upload(path: str) -> bool:
    """Whether a path takes a body streamed into a job (no limit on its size or its time)."""
    return _UPLOADS.match(path) is not None


SegmentId = Annotated[str, Parameter(min_length=1, max_length=64)]
ModeParam = Annotated[
    Literal["replace", "add", "remove"],
    QueryParameter(description="replace (all at once), add or remove the listed members"),
]


def _media_type(request: Request[Any, Any, Any], allowed: tuple[str, ...]) -> str:
    given = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if given not in allowed:
        raise UnsupportedMediaType(
            f"send the lines as {' or '.join(allowed)} (not {given or 'no Content-Type'})"
        )
    return given


async def _with_lines(
    conn: DbConn, caller: Admin, job: jobs.Job, request: Request[Any, Any, Any]
) -> JobOut:
    """The job, once the request's body is stored as its lines (in the same transaction)."""
    await jobs.store_lines(conn, caller.tenant_id, job.job_id, request.stream())
    return job_out(await jobs.get(conn, caller.tenant_id, job.job_id))


def segment_out(s: segments.Segment) -> SegmentOut:
    return SegmentOut(s.segment_id, s.name, s.description, s.members, s.created_at, s.updated_at)


class AdminImportsController(Controller):
    """Moving a running program in from another system."""

    path = "/v1/admin/imports"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin", "bulk"]  # noqa: RUF012

    @post(
        "/members",
        status_code=202,
        summary="Import members, one a line (NDJSON or CSV), as a background job",
        request_max_body_size=None,
    )
    async def import_members(
        self, request: Request[Any, Any, Any], caller: NamedDependency[Admin], conn: DbConn
    ) -> JobOut:
        format = IMPORT_TYPES[_media_type(request, tuple(IMPORT_TYPES))]
        job = await imports.start(conn, caller.tenant_id, caller.actor, format)  # type: ignore[arg-type]
        return await _with_lines(conn, caller, job, request)


class AdminSegmentsController(Controller):
    """Segments: named sets of members that rules target."""

    path = "/v1/admin/segments"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin", "bulk"]  # noqa: RUF012

    @get("", summary="Segments by id, with how many members each has")
    async def list_segments(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> SegmentPage:
        found = await segments.list_segments(
            conn, caller.tenant_id, decode_cursor(cursor, str), limit
        )
        return SegmentPage(
            [segment_out(s) for s in found], next_cursor([s.segment_id for s in found], limit)
        )

    @put("/{segment_id:str}", summary="Create a segment, or rename it")
    async def put_segment(
        self,
        segment_id: SegmentId,
        data: JSONBody[SegmentIn],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> SegmentOut:
        return segment_out(
            await segments.put(
                conn, caller.tenant_id, caller.actor, segment_id, data.name, data.description
            )
        )

    @get("/{segment_id:str}", summary="A segment, with how many members it has")
    async def get_segment(
        self, segment_id: SegmentId, caller: NamedDependency[Admin], conn: DbConn
    ) -> SegmentOut:
        return segment_out(await segments.get(conn, caller.tenant_id, segment_id))

    @delete("/{segment_id:str}", status_code=204, summary="Delete a segment")
    async def delete_segment(
        self, segment_id: SegmentId, caller: NamedDependency[Admin], conn: DbConn
    ) -> None:
        await segments.delete(conn, caller.tenant_id, caller.actor, segment_id)

    @put(
        "/{segment_id:str}/members",
        status_code=202,
        summary="Replace, add or remove a segment's members (ids one a line), as a job",
        request_max_body_size=None,
    )
    async def put_members(
        self,
        segment_id: SegmentId,
        request: Request[Any, Any, Any],
        caller: NamedDependency[Admin],
        conn: DbConn,
        mode: ModeParam = "replace",
    ) -> JobOut:
        _media_type(request, ID_LIST_TYPES)
        job = await segments.start_members_job(
            conn, caller.tenant_id, caller.actor, segment_id, mode
        )
        return await _with_lines(conn, caller, job, request)

    @post(
        "/{segment_id:str}/status",
        status_code=202,
        summary="Suspend, close or reinstate every member of a segment, as a job",
    )
    async def set_status(
        self,
        segment_id: SegmentId,
        data: JSONBody[SegmentStatusIn],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> JobOut:
        job = await statuses.start(conn, caller.tenant_id, caller.actor, segment_id, data.status)
        return job_out(job)


class AdminGrantsController(Controller):
    """Grants: points and offers for every member of a segment or a list."""

    path = "/v1/admin/grants"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin", "bulk"]  # noqa: RUF012

    @post(
        "",
        status_code=202,
        summary="Grant points and/or an offer to a segment or a list, once each (a job)",
        description="Over the program's `approvals.grants_over_points` (points a member), the "
        'grant waits for another admin key: `{"approval_id", "status": "pending_approval"}`.',
    )
    async def grant(
        self, data: JSONBody[GrantIn], caller: NamedDependency[Admin], conn: DbConn
    ) -> JobOut | ApprovalPending:
        request = grants.GrantRequest(
            data.id,
            data.reason,
            data.audience.segment,
            data.audience.member_ids,
            data.points,
            data.expires_at,
            data.offer_id,
        )
        change = msgspec.to_builtins(request)
        summary = {"grant_id": data.id, "points": data.points}
        waits = await gated(conn, caller, "grant", change, summary, data.points)
        if waits is not None:
            return waits.content
        return job_out(await grants.start(conn, caller.tenant_id, caller.actor, request))

    @get("/{grant_id:str}", summary="A grant, with its job")
    async def get_grant(
        self, grant_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> GrantOut:
        g = await grants.get(conn, caller.tenant_id, grant_id)
        job = await jobs.get(conn, caller.tenant_id, g.job_id)
        return GrantOut(
            g.grant_id,
            g.job_id,
            g.audience,
            g.points,
            g.expires_at,
            g.offer_id,
            g.reason,
            g.created_at,
            job_out(job),
        )
