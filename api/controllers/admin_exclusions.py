"""Exclusion lists: merchants, merchant names and acquirers whose purchases earn nothing and
match no offer; their entries uploaded in bulk into a job, as a segment's members are."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, delete, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from api.auth import Admin, admin_guard
from api.controllers.admin_bulk import ID_LIST_TYPES, SegmentId, _media_type, _with_lines
from api.deps import DbConn
from api.dto.jobs import ExclusionIn, ExclusionOut, ExclusionPage, JobOut
from api.paging import CursorParam, Limit, decode_cursor, next_cursor
from rewards.exclusions import service as exclusions

EntriesMode = Annotated[
    Literal["replace", "add", "remove"],
    QueryParameter(description="replace (all at once), add or remove the listed entries"),
]


def exclusion_out(x: exclusions.ExclusionList) -> ExclusionOut:
    return ExclusionOut(x.list_id, x.name, x.match, x.entries, x.created_at, x.updated_at)


class AdminExclusionsController(Controller):
    """Exclusion lists: merchants, merchant names and acquirers whose purchases earn
    nothing and match no offer."""

    path = "/v1/admin/exclusions"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin", "controls"]  # noqa: RUF012

    @get("", summary="Exclusion lists by id, with how many entries each has")
    async def list_exclusions(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> ExclusionPage:
        found = await exclusions.list_lists(
            conn, caller.tenant_id, decode_cursor(cursor, str), limit
        )
        return ExclusionPage(
            [exclusion_out(x) for x in found], next_cursor([x.list_id for x in found], limit)
        )

    @put("/{list_id:str}", summary="Create an exclusion list, or rename it")
    async def put_exclusion(
        self,
        list_id: SegmentId,
        data: JSONBody[ExclusionIn],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> ExclusionOut:
        made = await exclusions.put(
            conn, caller.tenant_id, caller.actor, list_id, data.name, data.match
        )
        return exclusion_out(made)

    @get("/{list_id:str}", summary="An exclusion list, with how many entries it has")
    async def get_exclusion(
        self, list_id: SegmentId, caller: NamedDependency[Admin], conn: DbConn
    ) -> ExclusionOut:
        return exclusion_out(await exclusions.get(conn, caller.tenant_id, list_id))

    @delete("/{list_id:str}", status_code=204, summary="Delete an exclusion list")
    async def delete_exclusion(
        self, list_id: SegmentId, caller: NamedDependency[Admin], conn: DbConn
    ) -> None:
        await exclusions.delete(conn, caller.tenant_id, caller.actor, list_id)

    @put(
        "/{list_id:str}/entries",
        status_code=202,
        summary="Replace, add or remove a list's entries (one a line), as a job",
        request_max_body_size=None,
    )
    async def put_entries(
        self,
        list_id: SegmentId,
        request: Request[Any, Any, Any],
        caller: NamedDependency[Admin],
        conn: DbConn,
        mode: EntriesMode = "replace",
    ) -> JobOut:
        _media_type(request, ID_LIST_TYPES)
        job = await exclusions.start_entries_job(
            conn, caller.tenant_id, caller.actor, list_id, mode
        )
        return await _with_lines(conn, caller, job, request)
