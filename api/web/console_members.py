"""The console's members: found by id; a member's balance, open points by expiry, activity,
and a goodwill adjustment with its reason (audited).

Each page calls the same use cases as /v1/admin/members/….
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from api.deps import DbConn
from api.dto.admin import AdjustmentIn
from api.paging import CursorParam, decode_cursor, next_cursor
from api.web import forms
from api.web.console_forms import caller_of, notice_of, waits
from api.web.i18n import N_
from api.web.pages import CONSOLE, PAGE_SIZE, page_link, problem, redirect, render
from api.web.sign_in import AreaPages
from rewards.core.errors import NotFound, RewardsError, ValidationFailed
from rewards.ledger import service as ledger
from rewards.members import service as members

STATUSES = ("active", "suspended", "closed")
#: The most lots a member's page lists (the soonest to expire; the balance counts them all).
MOST_LOTS = 50


class ConsoleMembersController(AreaPages):
    """Members in the console."""

    path = "/console"
    opt = {"area": CONSOLE}  # noqa: RUF012

    @get("/members")
    async def members_page(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        member: FromQuery[str | None] = None,
        cursor: CursorParam = None,
    ) -> Response[str]:
        caller = caller_of(request)
        wanted = (member or "").strip()
        if wanted:
            try:
                await members.get(conn, caller.tenant_id, wanted)
            except NotFound:
                return self._list(
                    request,
                    await members.list_members(conn, caller.tenant_id, None, None, None, PAGE_SIZE),
                    None,
                    wanted,
                    N_("No member %(member)s in this program.", member=wanted),
                    404,
                )
            return redirect(f"/console/members/{wanted}")
        found = await members.list_members(
            conn, caller.tenant_id, None, None, decode_cursor(cursor, str), PAGE_SIZE
        )
        more = next_cursor([m.member.member_id for m in found], PAGE_SIZE)
        return self._list(request, found, page_link(request, more), "", None, 200)

    def _list(
        self,
        request: Request[Any, Any, Any],
        found: list[Any],
        next_page: str | None,
        wanted: str,
        problem: str | None,
        status: int,
    ) -> Response[str]:
        return render(
            request,
            "console/members.html",
            status=status,
            title=N_("Members"),
            members=found,
            wanted=wanted,
            problem=problem,
            next_page=next_page,
        )

    @get("/members/{member_id:str}")
    async def member(
        self,
        request: Request[Any, Any, Any],
        member_id: FromPath[str],
        conn: DbConn,
        cursor: CursorParam = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        return await self._member(
            request, conn, member_id, decode_cursor(cursor, int), {}, {}, 200, notice_of(done)
        )

    async def _member(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        member_id: str,
        before: int | None,
        values: dict[str, str],
        errors: forms.Errors,
        status: int,
        notice: str | None = None,
    ) -> Response[str]:
        caller = caller_of(request)
        found = await members.get(conn, caller.tenant_id, member_id)
        balance = await ledger.balance(conn, caller.tenant_id, member_id)
        moves = await ledger.activity(conn, caller.tenant_id, member_id, before, PAGE_SIZE)
        open_lots = await ledger.open_lots(conn, caller.tenant_id, member_id, MOST_LOTS)
        return render(
            request,
            "console/member.html",
            status=status,
            title=N_("Member %(member)s", member=member_id),
            member=found,
            balance=balance,
            moves=moves,
            lots=open_lots,
            now=datetime.now(UTC),
            more_lots=len(open_lots) == MOST_LOTS,
            values=values,
            errors=errors,
            notice=notice,
            next_page=page_link(request, next_cursor([m.id for m in moves], PAGE_SIZE)),
        )

    @post("/members/{member_id:str}/status")
    async def set_status(
        self, request: Request[Any, Any, Any], member_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        """Suspend, close or reinstate: the member's other attributes stay as they are;
        closing forfeits the available points."""
        caller = caller_of(request)
        form = await request.form()
        status = form.get("status")
        if status not in STATUSES:
            errors: forms.Errors = {"status": N_("Choose one of the listed values.")}
            return await self._member(request, conn, member_id, None, {}, errors, 422)
        found = await members.get(conn, caller.tenant_id, member_id)
        async with conn.transaction():
            await members.update(
                conn,
                caller.tenant_id,
                caller.actor,
                member_id,
                found.tier,
                None,
                found.card_products,
                None,
                status,
            )
            if status == "closed":
                await ledger.forfeit(conn, caller.tenant_id, caller.actor, member_id)
        return redirect(f"/console/members/{member_id}", done=f"member-{status}")

    @post("/members/{member_id:str}/adjustments")
    async def adjust(
        self, request: Request[Any, Any, Any], member_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        form = await request.form()
        r = forms.Reader(form, form.getall)
        values = forms.typed(form)
        try:
            points, reason = r.integer("points"), r.text("reason")
            r.done()
            errors: forms.Errors = {}
            if not points:
                errors["points"] = N_("Enter the points to add, or to take with a minus sign.")
            if not reason:
                errors["reason"] = N_("Say why: the member's statement and the audit log show it.")
            if errors:
                raise forms.FormErrors(errors)
            data = forms.convert({"points": points, "reason": reason}, AdjustmentIn)
            change = {"member_id": member_id, "points": data.points, "reason": data.reason}
            async with conn.transaction():
                pending = await waits(conn, caller, "adjustment", change, change, data.points)
                if not pending:
                    await ledger.adjust(
                        conn, caller.tenant_id, caller.actor, member_id, data.points, data.reason
                    )
        except (forms.FormErrors, ValidationFailed) as exc:
            errors = forms.errors_of(exc, ("points", "reason"))
            return await self._member(request, conn, member_id, None, values, errors, 422)
        except RewardsError as exc:
            errors = {"points": problem(exc)}
            return await self._member(request, conn, member_id, None, values, errors, exc.status)
        if pending:
            return redirect("/console/approvals", done="approval-pending")
        return redirect(f"/console/members/{member_id}", done="adjusted")
