"""The console's replays — build a draft from the current rules, run it over recorded
history, read what it would have cost — and the explanation of any recorded transaction.

The pages call the same use cases as /v1/admin/replays and /v1/admin/transactions/…/explanation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from api.deps import DbConn
from api.paging import CursorParam, decode_cursor, next_cursor, time_key
from api.web import forms, svg
from api.web.console_forms import caller_of, notice_of
from api.web.i18n import N_
from api.web.pages import CONSOLE, PAGE_SIZE, page_link, redirect, render, translator
from api.web.reports import program_of
from api.web.sign_in import AreaPages
from rewards.core.errors import NotFound, ValidationFailed
from rewards.core.replay import Changes, Draft
from rewards.program import service as programs
from rewards.replays import explanations
from rewards.replays import service as replays

#: The fields of the new-replay form, as the API's errors name them.
REPLAY_FIELDS = ("from", "to", "draw_samples", "program", "earn_rules", "draw_campaigns", "offers")


def _pretty(value: Any) -> str:
    return msgspec.json.format(msgspec.json.encode(value), indent=2).decode()


def changes(current: list[dict[str, Any]], edited: Any, name: str) -> Changes:
    """What an edited list of rules (or campaigns) changes of the current one: those added
    or changed are upserted, those left out removed.

    Raises:
        forms.FormErrors: the list is not a JSON array of objects with ids.
    """
    if edited is None:
        edited = []
    if not isinstance(edited, list) or not all(
        isinstance(item, dict) and isinstance(item.get("id"), str) for item in edited
    ):
        raise forms.FormErrors({name: N_("Enter a JSON array of objects, each with an id.")})
    now = {item["id"]: item for item in current}
    ids = [item["id"] for item in edited]
    if len(set(ids)) != len(ids):
        raise forms.FormErrors({name: N_("Each id may appear once.")})
    return Changes(
        upsert=[item for item in edited if now.get(item["id"]) != item],
        remove=sorted(set(now) - set(ids)),
    )


async def _current(
    conn: DbConn, tenant_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rules = [
        msgspec.to_builtins(r.rule) for r in await programs.list_rules(conn, tenant_id, None, 500)
    ]
    campaigns = [
        msgspec.to_builtins(c.campaign)
        for c in await programs.list_campaigns(conn, tenant_id, None, 500)
    ]
    return rules, campaigns


class ConsoleReplaysController(AreaPages):
    """Replays and explanations in the console."""

    path = "/console"
    opt = {"area": CONSOLE}  # noqa: RUF012

    @get("/replays")
    async def replays_page(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: CursorParam = None,
    ) -> Response[str]:
        caller = caller_of(request)
        program = await program_of(conn, caller.tenant_id)
        rules, campaigns = await _current(conn, caller.tenant_id)
        now = datetime.now(UTC)
        values = {
            "from": forms.local_input(now - timedelta(days=30), program.zone),
            # The minute now is included: the field has no seconds.
            "to": forms.local_input(now + timedelta(minutes=1), program.zone),
            "draw_samples": "100",
            "program": "{}",
            "earn_rules": _pretty(rules),
            "draw_campaigns": _pretty(campaigns),
            "offers": "[]",
            "remove_offers": "",
        }
        return await self._page(request, conn, cursor, values, {}, 200)

    async def _page(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: str | None,
        values: dict[str, str],
        errors: dict[str, str],
        status: int,
    ) -> Response[str]:
        caller = caller_of(request)
        found = await replays.list_replays(
            conn, caller.tenant_id, time_key(decode_cursor(cursor, str)), PAGE_SIZE
        )
        keys = [f"{r.job.created_at.isoformat()}|{r.job.job_id}" for r in found]
        return render(
            request,
            "console/replays.html",
            status=status,
            title=N_("Replays"),
            replays=found,
            values=values,
            errors=errors,
            next_page=page_link(request, next_cursor(keys, PAGE_SIZE)),
        )

    @post("/replays")
    async def start(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        form = await request.form()
        program = await program_of(conn, caller.tenant_id)
        r = forms.Reader(form, form.getall)
        values = forms.typed(form)
        try:
            opens, closes = r.local_time("from", program.zone), r.local_time("to", program.zone)
            samples = r.integer("draw_samples")
            patch, rules, campaigns = (
                r.json("program"),
                r.json("earn_rules"),
                r.json("draw_campaigns"),
            )
            offers = r.json("offers")
            r.done()
            if opens is None or closes is None:
                raise forms.FormErrors(
                    {"from" if opens is None else "to": N_("Enter a date and time.")}
                )
            if patch is not None and not isinstance(patch, dict):
                raise forms.FormErrors({"program": N_("Enter a JSON object of settings.")})
            current_rules, current_campaigns = await _current(conn, caller.tenant_id)
            draft = Draft(
                program=patch or {},
                earn_rules=changes(current_rules, rules, "earn_rules"),
                draw_campaigns=changes(current_campaigns, campaigns, "draw_campaigns"),
                offers=Changes(
                    upsert=offers if isinstance(offers, list) else [],
                    remove=r.words("remove_offers") or [],
                ),
            )
            request_ = replays.ReplayRequest(
                from_=opens, to=closes, draft=draft, draw_samples=samples or 100
            )
            async with conn.transaction():
                job = await replays.start(conn, caller.tenant_id, caller.actor, request_)
        except (forms.FormErrors, ValidationFailed) as exc:
            errors = forms.errors_of(exc, REPLAY_FIELDS)
            return await self._page(request, conn, None, values, errors, 422)
        return redirect(f"/console/replays/{job.job_id}")

    @get("/replays/{replay_id:str}")
    async def replay(
        self,
        request: Request[Any, Any, Any],
        replay_id: FromPath[str],
        conn: DbConn,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = caller_of(request)
        found = await replays.get(conn, caller.tenant_id, replay_id)
        said = translator(request)
        result = found.result
        chart = None
        if result is not None and result["by_day"]:
            days = [d["date"] for d in result["by_day"]]
            chart = svg.bar_chart(
                said(N_("Points per day: baseline and draft")),
                days,
                [
                    (said(N_("baseline")), [d["baseline_points"] for d in result["by_day"]]),
                    (said(N_("draft")), [d["draft_points"] for d in result["by_day"]]),
                ],
            )
        running = found.job.status in ("queued", "running")
        return render(
            request,
            "console/replay.html",
            title=N_("Replay %(id)s", id=found.job.job_id),
            replay=found,
            job=found.job,
            result=result,
            chart=chart,
            running=running,
            refresh_seconds=2 if running else None,
            notice=notice_of(done),
        )

    @post("/replays/{replay_id:str}/cancel")
    async def cancel(
        self, request: Request[Any, Any, Any], replay_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        await replays.cancel(conn, caller.tenant_id, replay_id)
        return redirect(f"/console/replays/{replay_id}", done="replay-cancelled")

    @get("/transactions")
    async def find_transaction(
        self, transaction: FromQuery[str | None] = None, replay: FromQuery[str | None] = None
    ) -> Response[str]:
        if not transaction:
            raise NotFound(N_("Name a transaction id."))
        target = f"/console/transactions/{transaction.strip()}"
        return redirect(target, replay=replay or None)

    @get("/transactions/{transaction_id:str}")
    async def transaction(
        self,
        request: Request[Any, Any, Any],
        transaction_id: FromPath[str],
        conn: DbConn,
        replay: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = caller_of(request)
        explained = await explanations.explanation(conn, caller.tenant_id, transaction_id)
        ledger = msgspec.json.decode(
            await explanations.recorded_answer(conn, caller.tenant_id, transaction_id)
        )
        compared = None
        if replay:
            _, baseline, draft = await replays.compared(
                conn, caller.tenant_id, replay, transaction_id
            )
            compared = {
                "replay": replay,
                "baseline": msgspec.json.decode(baseline) if baseline else ledger,
                "draft": msgspec.json.decode(draft) if draft else ledger,
            }
        return render(
            request,
            "console/explanation.html",
            title=N_("Transaction %(id)s", id=transaction_id),
            e=explained,
            ledger=ledger,
            compared=compared,
        )
