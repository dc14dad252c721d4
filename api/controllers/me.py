"""Mobile API: /v1/me/… (the member is the token's sub)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.auth import MemberCaller, member_guard
from api.deps import DbConn
from api.dto.common import BalanceSummary, OfferOut, RedemptionOut
from api.dto.me import (
    ActivityPage,
    BalanceOut,
    ClaimedPage,
    ClaimOut,
    MemberCatalog,
    MemberCatalogItem,
    MeOut,
    MovementOut,
    NearbyItem,
    NearbyPage,
    RedemptionIn,
    RedemptionPage,
    RefereeOut,
    ReferralAppliedOut,
    ReferralApply,
    ReferralOut,
)
from api.idempotent import IdempotencyKey, respond_once, respond_once_committed
from api.paging import CursorParam, Limit, decode_cursor, next_cursor
from api.presenters import offer_out, redemption_out, store_out
from api.problems import Problem
from offers.core.geo import MAX_RADIUS_M
from offers.core.offers import Offer, StoredOffer
from offers.nearby import service as nearby_offers
from offers.publishing import service as publishing
from rewards import metrics
from rewards.catalog import service as redemptions
from rewards.core.errors import RewardsError, ValidationFailed
from rewards.ledger import service as ledger
from rewards.members import service as members
from rewards.referrals import service as referrals


class MeController(Controller):
    """A member in the mobile app (member JWT)."""

    path = "/v1/me"
    guards = [member_guard]  # noqa: RUF012
    security = [{"MemberToken": []}]  # noqa: RUF012
    tags = ["mobile"]  # noqa: RUF012

    @get("", summary="Profile, tier and balance; enrolls the member on first call")
    async def me(self, caller: NamedDependency[MemberCaller], conn: DbConn) -> MeOut:
        member = await members.enroll(conn, caller.tenant_id, caller.member_id)
        balance = await ledger.balance(conn, caller.tenant_id, caller.member_id)
        return MeOut(
            member.member_id,
            member.tier,
            member.segments,
            member.card_products,
            BalanceSummary(balance.available, balance.pending),
            member.created_at,
        )

    @get("/balance", summary="Available and pending points, what expires when")
    async def balance(self, caller: NamedDependency[MemberCaller], conn: DbConn) -> BalanceOut:
        found = await ledger.balance(conn, caller.tenant_id, caller.member_id)
        return msgspec.convert(msgspec.to_builtins(found), BalanceOut)

    @get("/activity", summary="The member's points movements, newest first")
    async def activity(
        self,
        caller: NamedDependency[MemberCaller],
        read_conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> ActivityPage:
        moves = await ledger.activity(
            read_conn, caller.tenant_id, caller.member_id, decode_cursor(cursor, int), limit
        )
        return ActivityPage(
            [
                MovementOut(str(m.id), m.kind, m.points, m.transaction_id, m.cause, m.created_at)
                for m in moves
            ],
            next_cursor([m.id for m in moves], limit),
        )


class ReferralController(Controller):
    """Member-gets-member: the member's code, and using someone else's."""

    path = "/v1/me/referral"
    guards = [member_guard]  # noqa: RUF012
    security = [{"MemberToken": []}]  # noqa: RUF012
    tags = ["mobile"]  # noqa: RUF012

    @get(
        "",
        summary="The member's referral code (made on first request) and what it brought",
        description="`referred` counts every member who used the code, `rewarded` those "
        "whose first qualifying purchase paid the bonuses, `points_earned` what the member "
        "earned as referrer (clawed-back bonuses not counted). `referees` pages with "
        "`limit` and `cursor`, newest first; their ids are masked.",
    )
    async def referral(
        self,
        caller: NamedDependency[MemberCaller],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> ReferralOut:
        await members.enroll(conn, caller.tenant_id, caller.member_id)
        found = await referrals.view(
            conn, caller.tenant_id, caller.member_id, limit, _time_key(decode_cursor(cursor, str))
        )
        return ReferralOut(
            found.code,
            found.referred,
            found.rewarded,
            found.points_earned,
            [
                RefereeOut(masked, r.status, r.attached_at, r.settled_at)  # type: ignore[arg-type]
                for masked, r in found.referees
            ],
            next_cursor(
                [f"{r.attached_at.isoformat()}|{r.referee_id}" for _, r in found.referees], limit
            ),
        )

    @post(
        "/apply",
        status_code=200,
        summary="Use a referral code (before the first qualifying purchase)",
        description="Refused with 422 and its own type: `referral_code_unknown` (no such code "
        "in this program), `referral_self`, `referral_already_set` (another code was used; the "
        "same code again answers the first use), `referral_too_late` (a qualifying purchase "
        "was made already), `referral_cycle` (the code's owner was referred by this member, "
        "directly or up a chain), `referrals_off` (the program gives no referral rewards).",
    )
    async def apply(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ReferralApply],
        caller: NamedDependency[MemberCaller],
        conn: DbConn,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ReferralAppliedOut]:
        async def action() -> ReferralAppliedOut:
            await referrals.lock_attachments(conn, caller.tenant_id)
            await members.enroll(conn, caller.tenant_id, caller.member_id)
            done = await referrals.attach(
                conn, caller.tenant_id, caller.member_id, data.code, "member"
            )
            return ReferralAppliedOut(done.code, done.status, done.attached_at)  # type: ignore[arg-type]

        return await respond_once(
            request,
            conn,
            caller.tenant_id,
            caller.member_id,
            idempotency_key,
            200,
            ReferralAppliedOut,
            action,
        )


def _time_key(cursor: str | None) -> tuple[datetime, str] | None:
    """The (moment, id) a newest-first cursor stands for."""
    if cursor is None:
        return None
    at, _, key = cursor.partition("|")
    try:
        return datetime.fromisoformat(at), key
    except ValueError:
        raise ValidationFailed(
            "cursor is not valid", errors=[("cursor", "not a cursor from this list")]
        ) from None


class CatalogMemberController(Controller):
    """The member's benefits: catalog, redemptions, cancels."""

    path = "/v1/me"
    guards = [member_guard]  # noqa: RUF012
    security = [{"MemberToken": []}]  # noqa: RUF012
    tags = ["mobile"]  # noqa: RUF012

    @get("/catalog", summary="Benefits with price, stock and whether this member may redeem")
    async def catalog(
        self,
        caller: NamedDependency[MemberCaller],
        read_conn: DbConn,
        category: FromQuery[str | None] = None,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> MemberCatalog:
        found = await redemptions.member_catalog(
            read_conn,
            caller.tenant_id,
            caller.member_id,
            category,
            decode_cursor(cursor, str),
            limit,
        )
        items = []
        for entry in found:
            v = entry.view
            state: Literal["in_stock", "out_of_stock", "unlimited"] = (
                "unlimited"
                if v.stock_left is None
                else ("in_stock" if v.stock_left > 0 else "out_of_stock")
            )
            items.append(
                MemberCatalogItem(
                    v.item.sku,
                    v.item.title,
                    v.item.category,
                    v.item.description,
                    v.item.points_price,
                    v.item.cash_price_minor,
                    state,
                    v.stock_left,
                    entry.redeemable,
                    entry.reason,
                )
            )
        return MemberCatalog(items, next_cursor([e.view.item.sku for e in found], limit))

    @post(
        "/redemptions",
        status_code=201,
        summary="Redeem a benefit (honours Idempotency-Key)",
        responses=None,
    )
    async def redeem(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[RedemptionIn],
        caller: NamedDependency[MemberCaller],
        plain_conn: DbConn,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RedemptionOut]:
        decided = False  # False when the answer is a stored one, replayed for the key

        async def action(locked: bool) -> RedemptionOut | RewardsError:
            nonlocal decided
            decided = True
            made = await redemptions.redeem(
                plain_conn,
                caller.tenant_id,
                caller.member_id,
                caller.device,
                data.sku,
                data.quantity,
                locked=locked,
            )
            return made if isinstance(made, RewardsError) else redemption_out(made)

        response = await respond_once_committed(
            request,
            plain_conn,
            caller.tenant_id,
            caller.member_id,
            idempotency_key,
            201,
            RedemptionOut,
            action,
        )
        if decided:
            content = response.content
            metrics.record_redemption(content.type if isinstance(content, Problem) else "created")
        return response

    @get("/redemptions", summary="The member's redemptions, newest first")
    async def list_redemptions(
        self,
        caller: NamedDependency[MemberCaller],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> RedemptionPage:
        after = None
        if cursor is not None:
            key = decode_cursor(cursor, str)
            assert key is not None
            stamp, _, rid = key.partition("|")
            try:
                after = (datetime.fromisoformat(stamp), rid)
            except ValueError:
                raise ValidationFailed(
                    "cursor is not valid", errors=[("cursor", "not a cursor from this list")]
                ) from None
        found = await redemptions.list_redemptions(
            conn, caller.tenant_id, caller.member_id, after, limit
        )
        keys = [f"{r.created_at.isoformat()}|{r.id}" for r in found]
        return RedemptionPage([redemption_out(r) for r in found], next_cursor(keys, limit))

    @post(
        "/redemptions/{redemption_id:str}/cancel",
        status_code=200,
        summary="Cancel within the item's cancel window: points and stock back, codes void",
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        redemption_id: FromPath[str],
        caller: NamedDependency[MemberCaller],
        conn: DbConn,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RedemptionOut]:
        async def action() -> RedemptionOut:
            done = await redemptions.cancel(conn, caller.tenant_id, caller.member_id, redemption_id)
            return redemption_out(done)

        return await respond_once(
            request,
            conn,
            caller.tenant_id,
            caller.member_id,
            idempotency_key,
            200,
            RedemptionOut,
            action,
        )


def _bare(offer: Offer, merchant_id: str, created_at: datetime | None) -> OfferOut:
    """An active offer as nearby lists it (its counters are not part of the listing)."""
    at = created_at if created_at is not None else datetime.now(UTC)
    return offer_out(StoredOffer(offer, merchant_id, "active", 0, 0, None, at))


# The wire form of each offer nearby search returns, built once per offer definition: the
# search hands back the same Offer object until the offer changes.
_listings: dict[str, tuple[Offer, OfferOut]] = {}


def _listed(offer: Offer, merchant_id: str, created_at: datetime | None) -> OfferOut:
    cached = _listings.get(offer.id)
    if cached is not None and cached[0] is offer:
        return cached[1]
    out = _bare(offer, merchant_id, created_at)
    _listings[offer.id] = (offer, out)
    return out


class MemberOffersController(Controller):
    """The mobile app: offers near the member, claims."""

    path = "/v1/me/offers"
    guards = [member_guard]  # noqa: RUF012
    security = [{"MemberToken": []}]  # noqa: RUF012
    tags = ["mobile"]  # noqa: RUF012

    @get("/nearby", summary="Active offers with a store within radius_m, nearest first")
    async def nearby(
        self,
        caller: NamedDependency[MemberCaller],
        read_conn: DbConn,
        state: State,
        lat: Annotated[float, QueryParameter(ge=-90, le=90)],
        lng: Annotated[float, QueryParameter(ge=-180, le=180)],
        radius_m: Annotated[float, QueryParameter(gt=0, le=MAX_RADIUS_M)] = 1000,
        category: FromQuery[str | None] = None,
        limit: Limit = 50,
    ) -> NearbyPage:
        found = await nearby_offers.nearby(
            read_conn,
            state.offer_indexes,
            caller.tenant_id,
            caller.member_id,
            lat,
            lng,
            radius_m,
            category,
            limit,
        )
        return NearbyPage(
            [
                NearbyItem(
                    _listed(n.offer, n.merchant_id, n.offer_created_at),
                    store_out(n.store),
                    n.distance_m,
                    n.inside_geofence,
                    n.claimed,
                )
                for n in found
            ]
        )

    @post("/{offer_id:str}/claim", status_code=200, summary="Claim an offer (idempotent)")
    async def claim(
        self,
        request: Request[Any, Any, Any],
        offer_id: FromPath[str],
        caller: NamedDependency[MemberCaller],
        conn: DbConn,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ClaimOut]:
        async def action() -> ClaimOut | RewardsError:
            claimed = await nearby_offers.claim(
                conn, caller.tenant_id, caller.member_id, offer_id, caller.device
            )
            if isinstance(claimed, RewardsError):
                return claimed
            stored = await publishing.get_offer(conn, caller.tenant_id, offer_id)
            return ClaimOut(offer_out(stored), claimed[1])

        return await respond_once(
            request,
            conn,
            caller.tenant_id,
            caller.member_id,
            idempotency_key,
            200,
            ClaimOut,
            action,
        )

    @get("/claimed", summary="The member's claimed offers, newest claim first")
    async def claimed(
        self,
        caller: NamedDependency[MemberCaller],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> ClaimedPage:
        after = _time_key(decode_cursor(cursor, str))
        found = await nearby_offers.claimed(conn, caller.tenant_id, caller.member_id, after, limit)
        return ClaimedPage(
            [ClaimOut(offer_out(c.offer), c.claimed_at, c.uses) for c in found],
            next_cursor([f"{c.claimed_at.isoformat()}|{c.offer.offer.id}" for c in found], limit),
        )
