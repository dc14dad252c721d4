"""The merchant portal: /portal/… — stores, offers and their stats, for one merchant.

Each page calls the same use cases as /v1/merchant/…, with the merchant of the session.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from api.auth import MerchantCaller
from api.deps import DbConn
from api.dto.merchant import OfferIn, OfferPatch, StoreIn, StorePatch
from api.paging import CursorParam, decode_cursor, next_cursor
from api.web import forms, svg
from api.web.pages import PAGE_SIZE, PORTAL, holder_of, page_link, redirect, render
from api.web.reports import STATUS_WORDS, Daily, date_range, program_of
from api.web.sign_in import AreaController
from offers.core.offers import Offer, Store, StoredOffer
from offers.publishing import service as publishing
from rewards.core.errors import Conflict, ValidationFailed
from rewards.core.program import CompiledProgram

REWARD_KINDS = (
    ("percent_off", "Percent off the purchase"),
    ("amount_off", "Amount off the purchase"),
    ("points_multiplier", "Points multiplier (× base points)"),
    ("bonus_points", "Bonus points"),
)
DAYS = ((1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun"))
NOTICES = {
    "store-added": "The store was added.",
    "store-saved": "The store was saved.",
    "store-deleted": "The store was deleted.",
    "offer-created": "The offer was created. It goes live once the program operator approves it.",
    "offer-saved": "The offer was saved. It goes back to review before it goes live again.",
    "offer-paused": "The offer is paused: no purchase matches it until you resume it.",
    "offer-resumed": "The offer is live again.",
}
OTHER_CONDITIONS = "targeting.more"


def _caller(request: Request[Any, Any, Any]) -> MerchantCaller:
    holder = holder_of(request)
    assert holder.merchant_id is not None
    return MerchantCaller(holder.tenant_id, holder.merchant_id)


def _notice(done: str | None) -> str | None:
    return NOTICES.get(done or "")


# --- offers: the form and back ------------------------------------------------------------


def offer_values(stored: StoredOffer, program: CompiledProgram) -> dict[str, Any]:
    """An offer as its form shows it."""
    o, exp, zone = stored.offer, program.exponent, program.zone
    value = o.reward.value
    targeting = msgspec.to_builtins(o.targeting)
    shown = ("card_product_in", "tier_in", "segment_in", "mcc_in", "channel")
    more = {k: v for k, v in targeting.items() if k not in shown}
    return {
        "id": o.id,
        "title": o.title,
        "category": o.category,
        "description": o.description,
        "reward.kind": o.reward.kind,
        "reward.value": forms.major(int(value), exp)
        if o.reward.kind == "amount_off"
        else str(value),
        "reward.max_reward_minor": forms.major(o.reward.max_reward_minor, exp),
        "min_spend_minor": forms.major(o.min_spend_minor, exp),
        "store_ids": list(o.store_ids),
        "geofence_radius_m": str(o.geofence_radius_m),
        "targeting.card_product_in": ", ".join(o.targeting.card_product_in or []),
        "targeting.tier_in": ", ".join(o.targeting.tier_in or []),
        "targeting.segment_in": ", ".join(o.targeting.segment_in or []),
        "targeting.mcc_in": ", ".join(o.targeting.mcc_in or []),
        "targeting.channel": o.targeting.channel or "",
        OTHER_CONDITIONS: msgspec.json.encode(more).decode() if more else "",
        "schedule.starts_at": forms.local_input(o.schedule.starts_at, zone),
        "schedule.ends_at": forms.local_input(o.schedule.ends_at, zone),
        "schedule.days_of_week": [str(d) for d in (o.schedule.days_of_week or [])],
        "budget.max_redemptions": ""
        if o.budget.max_redemptions is None
        else str(o.budget.max_redemptions),
        "budget.max_reward_minor": forms.major(o.budget.max_reward_minor, exp),
        "per_member_limit": "" if o.per_member_limit is None else str(o.per_member_limit),
        "activation": o.activation,
    }


def _blank_offer() -> dict[str, Any]:
    return {
        "id": "",
        "title": "",
        "category": "",
        "description": "",
        "reward.kind": "percent_off",
        "reward.value": "",
        "reward.max_reward_minor": "",
        "min_spend_minor": "",
        "store_ids": [],
        "geofence_radius_m": "500",
        "targeting.card_product_in": "",
        "targeting.tier_in": "",
        "targeting.segment_in": "",
        "targeting.mcc_in": "",
        "targeting.channel": "",
        OTHER_CONDITIONS: "",
        "schedule.starts_at": "",
        "schedule.ends_at": "",
        "schedule.days_of_week": [],
        "budget.max_redemptions": "",
        "budget.max_reward_minor": "",
        "per_member_limit": "",
        "activation": "claim",
    }


def submitted_offer(form: Any) -> dict[str, Any]:
    """What the merchant typed, to show again next to the errors."""
    values = _blank_offer()
    for name in values:
        if name in ("store_ids", "schedule.days_of_week"):
            values[name] = [v for v in form.getall(name, []) if isinstance(v, str)]
        elif isinstance(form.get(name), str):
            values[name] = form.get(name)
    return values


def read_offer(form: Any, program: CompiledProgram, *, with_id: bool) -> dict[str, Any]:
    """The form as the body of POST (``with_id``) or PATCH /v1/merchant/offers.

    Raises:
        forms.FormErrors: a field could not be read (a number that is not one, bad JSON).
    """
    r, exp = forms.Reader(form, form.getall), program.exponent
    kind = r.text("reward.kind")
    value: int | str | None
    if kind == "amount_off":
        value = r.money("reward.value", exp)
    elif kind == "bonus_points":
        value = r.integer("reward.value")
    else:
        value = r.decimal_text("reward.value")
    reward: dict[str, Any] = {"kind": kind}
    if value is not None:
        reward["value"] = value
    elif "reward.value" not in r.errors:
        r.errors["reward.value"] = "Enter the reward."
    if (cap := r.money("reward.max_reward_minor", exp)) is not None:
        reward["max_reward_minor"] = cap
    targeting: dict[str, Any] = {}
    for name in ("card_product_in", "tier_in", "segment_in", "mcc_in"):
        if (words := r.words(f"targeting.{name}")) is not None:
            targeting[name] = words
    if channel := r.text("targeting.channel"):
        targeting["channel"] = channel
    more = r.json(OTHER_CONDITIONS)
    if more is not None and not isinstance(more, dict):
        r.errors[OTHER_CONDITIONS] = 'Enter a JSON object, like {"days_of_week": [6, 7]}.'
    elif more:
        twice = sorted(set(more) & set(targeting))
        if twice:
            r.errors[OTHER_CONDITIONS] = f"Set {', '.join(twice)} in its own field above."
        targeting |= more
    schedule: dict[str, Any] = {}
    for name in ("starts_at", "ends_at"):
        if (moment := r.local_time(f"schedule.{name}", program.zone)) is not None:
            schedule[name] = moment
    days = r.many("schedule.days_of_week")
    if days:
        schedule["days_of_week"] = [int(d) if d.isdigit() else d for d in days]
    budget: dict[str, Any] = {}
    if (most := r.integer("budget.max_redemptions")) is not None:
        budget["max_redemptions"] = most
    if (spend := r.money("budget.max_reward_minor", exp)) is not None:
        budget["max_reward_minor"] = spend
    body: dict[str, Any] = {
        "title": r.text("title"),
        "category": r.text("category"),
        "description": r.text("description"),
        "reward": reward,
        "min_spend_minor": r.money("min_spend_minor", exp) or 0,
        "store_ids": r.many("store_ids"),
        "geofence_radius_m": r.integer("geofence_radius_m") or 0,
        "targeting": targeting,
        "schedule": schedule,
        "budget": budget,
        "per_member_limit": r.integer("per_member_limit"),
        "activation": r.text("activation"),
    }
    if with_id:
        body["id"] = r.text("id")
    r.done()
    return body


class PortalController(AreaController):
    """The merchant portal's pages."""

    path = "/portal"
    opt = {"area": PORTAL}  # noqa: RUF012

    @get("/")
    async def home(self) -> Response[str]:
        return redirect("/portal/offers")

    # --- stores ---------------------------------------------------------------------------

    @get("/stores")
    async def stores(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: CursorParam = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = _caller(request)
        found = await publishing.list_stores(
            conn, caller.tenant_id, caller.merchant_id, decode_cursor(cursor, str), PAGE_SIZE
        )
        more = next_cursor([s.store_id for s in found], PAGE_SIZE)
        return render(
            request,
            "portal/stores.html",
            title="Stores",
            stores=found,
            next_page=page_link(request, more),
            notice=_notice(done),
        )

    @get("/stores/new")
    async def new_store(self, request: Request[Any, Any, Any]) -> Response[str]:
        blank = {"id": "", "name": "", "address": "", "lat": "", "lng": ""}
        return render(
            request, "portal/store.html", title="Add a store", store=None, values=blank, errors={}
        )

    @post("/stores")
    async def add_store(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = _caller(request)
        form = await request.form()
        values = {k: str(form.get(k) or "") for k in ("id", "name", "address", "lat", "lng")}
        try:
            r = forms.Reader(form, form.getall)
            body: dict[str, Any] = {
                "name": r.text("name"),
                "address": r.text("address"),
                "id": r.optional_text("id"),
                "lat": r.number("lat"),
                "lng": r.number("lng"),
            }
            r.done()
            data = forms.convert(body, StoreIn)
            store = Store(
                data.id or "", caller.merchant_id, data.name, data.address, data.lat, data.lng
            )
            async with conn.transaction():
                await publishing.create_store(conn, caller.tenant_id, caller.actor, store)
        except (forms.FormErrors, ValidationFailed, Conflict) as exc:
            return render(
                request,
                "portal/store.html",
                status=409 if isinstance(exc, Conflict) else 422,
                title="Add a store",
                store=None,
                values=values,
                errors=_errors_of(exc),
            )
        return redirect("/portal/stores", done="store-added")

    @get("/stores/{store_id:str}")
    async def store(
        self,
        request: Request[Any, Any, Any],
        store_id: FromPath[str],
        conn: DbConn,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = _caller(request)
        store = await publishing.get_store(conn, caller.tenant_id, caller.merchant_id, store_id)
        values = {
            "id": store.store_id,
            "name": store.name,
            "address": store.address,
            "lat": repr(store.lat),
            "lng": repr(store.lng),
        }
        return await self._store_page(request, conn, caller, store, values, {}, 200, done)

    async def _store_page(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        caller: MerchantCaller,
        store: Store,
        values: dict[str, str],
        errors: dict[str, str],
        status: int,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        offers = await publishing.list_offers(conn, caller.tenant_id, caller.merchant_id, None, 500)
        here = [
            s.offer for s in offers if not s.offer.store_ids or store.store_id in s.offer.store_ids
        ]
        radius = max((o.geofence_radius_m for o in here), default=500)
        return render(
            request,
            "portal/store.html",
            status=status,
            title=store.name,
            store=store,
            values=values,
            errors=errors,
            offers=here,
            radius=radius,
            map=svg.store_map(store.name, store.lat, store.lng, radius),
            notice=_notice(done),
        )

    @post("/stores/{store_id:str}")
    async def save_store(
        self, request: Request[Any, Any, Any], store_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = _caller(request)
        store = await publishing.get_store(conn, caller.tenant_id, caller.merchant_id, store_id)
        form = await request.form()
        values = {k: str(form.get(k) or "") for k in ("name", "address", "lat", "lng")}
        values["id"] = store.store_id
        try:
            r = forms.Reader(form, form.getall)
            body: dict[str, Any] = {
                "name": r.text("name"),
                "address": r.text("address"),
                "lat": r.number("lat"),
                "lng": r.number("lng"),
            }
            r.done()
            patch = forms.convert(body, StorePatch)
            async with conn.transaction():
                await publishing.patch_store(
                    conn,
                    caller.tenant_id,
                    caller.actor,
                    caller.merchant_id,
                    store_id,
                    msgspec.to_builtins(patch),
                )
        except (forms.FormErrors, ValidationFailed, Conflict) as exc:
            return await self._store_page(
                request, conn, caller, store, values, _errors_of(exc), 422
            )
        return redirect(f"/portal/stores/{store_id}", done="store-saved")

    @post("/stores/{store_id:str}/delete")
    async def delete_store(
        self, request: Request[Any, Any, Any], store_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = _caller(request)
        await publishing.delete_store(
            conn, caller.tenant_id, caller.actor, caller.merchant_id, store_id
        )
        return redirect("/portal/stores", done="store-deleted")

    # --- offers ---------------------------------------------------------------------------

    @get("/offers")
    async def offers(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: CursorParam = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = _caller(request)
        found = await publishing.list_offers(
            conn, caller.tenant_id, caller.merchant_id, decode_cursor(cursor, str), PAGE_SIZE
        )
        program = await program_of(conn, caller.tenant_id)
        more = next_cursor([o.offer.id for o in found], PAGE_SIZE)
        return render(
            request,
            "portal/offers.html",
            title="Offers",
            offers=[(o, publishing.status_of(o)) for o in found],
            words=STATUS_WORDS,
            exponent=program.exponent,
            currency=program.program.currency,
            major=forms.major,
            next_page=page_link(request, more),
            notice=_notice(done),
        )

    async def _offer_form(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        caller: MerchantCaller,
        values: dict[str, Any],
        errors: dict[str, str],
        *,
        stored: StoredOffer | None,
        status: int = 200,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        stores = await publishing.list_stores(conn, caller.tenant_id, caller.merchant_id, None, 500)
        program = await program_of(conn, caller.tenant_id)
        return render(
            request,
            "portal/offer.html",
            status=status,
            title=stored.offer.title if stored else "Create an offer",
            stored=stored,
            state=publishing.status_of(stored) if stored else None,
            words=STATUS_WORDS,
            values=values,
            errors=errors,
            stores=stores,
            kinds=REWARD_KINDS,
            days=DAYS,
            currency=program.program.currency,
            zone=program.program.time_zone,
            notice=_notice(done),
        )

    @get("/offers/new")
    async def new_offer(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        return await self._offer_form(
            request, conn, _caller(request), _blank_offer(), {}, stored=None
        )

    @post("/offers")
    async def create_offer(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = _caller(request)
        form = await request.form()
        program = await program_of(conn, caller.tenant_id)
        try:
            data = forms.convert(read_offer(form, program, with_id=True), OfferIn)
            offer = msgspec.convert(msgspec.to_builtins(data), Offer)
            async with conn.transaction():
                stored = await publishing.create_offer(
                    conn, caller.tenant_id, caller.actor, caller.merchant_id, offer
                )
        except (forms.FormErrors, ValidationFailed, Conflict) as exc:
            return await self._offer_form(
                request,
                conn,
                caller,
                submitted_offer(form),
                _errors_of(exc),
                stored=None,
                status=409 if isinstance(exc, Conflict) else 422,
            )
        return redirect(f"/portal/offers/{stored.offer.id}", done="offer-created")

    @get("/offers/{offer_id:str}")
    async def offer(
        self,
        request: Request[Any, Any, Any],
        offer_id: FromPath[str],
        conn: DbConn,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = _caller(request)
        stored = await publishing.get_offer(conn, caller.tenant_id, offer_id, caller.merchant_id)
        program = await program_of(conn, caller.tenant_id)
        return await self._offer_form(
            request, conn, caller, offer_values(stored, program), {}, stored=stored, done=done
        )

    @post("/offers/{offer_id:str}")
    async def save_offer(
        self, request: Request[Any, Any, Any], offer_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = _caller(request)
        stored = await publishing.get_offer(conn, caller.tenant_id, offer_id, caller.merchant_id)
        form = await request.form()
        program = await program_of(conn, caller.tenant_id)
        try:
            patch = forms.convert(read_offer(form, program, with_id=False), OfferPatch)
            async with conn.transaction():
                await publishing.patch_offer(
                    conn,
                    caller.tenant_id,
                    caller.actor,
                    caller.merchant_id,
                    offer_id,
                    msgspec.to_builtins(patch),
                )
        except (forms.FormErrors, ValidationFailed, Conflict) as exc:
            values = submitted_offer(form) | {"id": offer_id}
            return await self._offer_form(
                request, conn, caller, values, _errors_of(exc), stored=stored, status=422
            )
        return redirect(f"/portal/offers/{offer_id}", done="offer-saved")

    @post("/offers/{offer_id:str}/pause")
    async def pause(
        self, request: Request[Any, Any, Any], offer_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        return await self._transition(request, conn, offer_id, "pause", "offer-paused")

    @post("/offers/{offer_id:str}/resume")
    async def resume(
        self, request: Request[Any, Any, Any], offer_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        return await self._transition(request, conn, offer_id, "resume", "offer-resumed")

    async def _transition(
        self, request: Request[Any, Any, Any], conn: DbConn, offer_id: str, action: str, done: str
    ) -> Response[str]:
        caller = _caller(request)
        await publishing.transition(
            conn, caller.tenant_id, caller.actor, offer_id, action, merchant_id=caller.merchant_id
        )
        return redirect(f"/portal/offers/{offer_id}", done=done)

    @get("/offers/{offer_id:str}/stats")
    async def stats(
        self,
        request: Request[Any, Any, Any],
        offer_id: FromPath[str],
        conn: DbConn,
    ) -> Response[str]:
        caller = _caller(request)
        stored = await publishing.get_offer(conn, caller.tenant_id, offer_id, caller.merchant_id)
        program = await program_of(conn, caller.tenant_id)
        first, last, errors = date_range(request, program)
        days = []
        if not errors:
            try:
                days = await publishing.stats(
                    conn, caller.tenant_id, caller.merchant_id, offer_id, first, last
                )
            except ValidationFailed as exc:
                errors = _errors_of(exc)
        daily = Daily(first, last, None if errors else days)
        rows, labels, column = daily.rows, daily.labels, daily.column

        exp = program.exponent
        return render(
            request,
            "portal/stats.html",
            status=422 if errors else 200,
            title=f"Stats: {stored.offer.title}",
            stored=stored,
            first=first.isoformat(),
            last=last.isoformat(),
            errors=errors,
            table=[
                (
                    label,
                    row,
                    forms.major(row.reward_minor, exp) if row else "0",
                    forms.major(row.spend_minor, exp) if row else "0",
                )
                for label, row in zip(labels, rows, strict=True)
            ],
            totals={
                n: sum(column(n))
                for n in ("claims", "redemptions", "reward_minor", "points", "spend_minor")
            },
            major=forms.major,
            exponent=exp,
            currency=program.program.currency,
            uses_chart=svg.bar_chart(
                "Claims and redemptions per day",
                labels,
                [("claims", column("claims")), ("redemptions", column("redemptions"))],
            ),
            money_chart=svg.bar_chart(
                f"Reward paid and matched spend per day ({program.program.currency})",
                labels,
                [("reward paid", column("reward_minor")), ("matched spend", column("spend_minor"))],
                exponent=exp,
            ),
        )


def _errors_of(exc: Exception) -> dict[str, str]:
    if isinstance(exc, forms.FormErrors):
        return exc.errors
    if isinstance(exc, ValidationFailed):
        return forms.api_errors(exc)
    return {"form": forms.in_words(str(exc))}
