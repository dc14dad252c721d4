"""The demo tenant: a small card program with merchants, ready to call."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import msgspec

from db.types import Conn
from offers.core.offers import Offer, OfferBudget, OfferFunding, OfferReward, Store
from offers.merchants import service as merchants
from offers.publishing import service as publishing
from rewards.abuse import service as abuse
from rewards.catalog import service as catalog
from rewards.core.campaigns import DrawBudget, DrawCampaign
from rewards.core.catalog import CatalogItem, MemberLimit
from rewards.core.conditions import Conditions
from rewards.core.credentials import encode_member_token
from rewards.core.draw import Prize
from rewards.core.earning import Caps, EarnRule, Effect
from rewards.core.errors import NotFound
from rewards.core.explanations import Explanation
from rewards.core.program import AbuseLimits, Program, Referral, Tier
from rewards.core.transactions import CardTransaction
from rewards.hook import service as hook
from rewards.ledger import service as ledger
from rewards.members import service as members
from rewards.program import service as programs
from rewards.referrals import service as referrals
from rewards.replays import explanations
from rewards.tenants import service as tenants
from rewards.tenants.service import FIRST_ADMIN_KEY, create_tenant, issue_admin_key

DEMO_TENANT_ID = "demo-bank"
DEMO_ADMIN_KEY_LABEL = "demo refresh"
DEMO_MERCHANT_KEY_LABEL = "demo"
# What the demo labels the keys it prints; a refresh revokes these (and nothing else).
DEMO_KEY_LABELS = [FIRST_ADMIN_KEY, DEMO_ADMIN_KEY_LABEL, DEMO_MERCHANT_KEY_LABEL]
DEMO_TENANT_NAME = "Demo Bank"
DEMO_MEMBER_ID = "m-42"

DEMO_MERCHANTS = [
    ("shell-futian", "Shell Futian", "fuel"),
    ("sinopec-nanshan", "Sinopec Nanshan", "fuel"),
    ("haidilao-futian", "Haidilao Futian", "dining"),
    ("starbucks-coco-park", "Starbucks COCO Park", "coffee"),
]


class DemoCredentials(msgspec.Struct, frozen=True):
    """What the demo prints: enough to call every API."""

    tenant_id: str
    admin_api_key: str
    merchant_id: str
    merchant_api_key: str
    hook_secret: str
    member_token_secret: str
    member_id: str
    member_token: str
    referral_code: str  # the demo member's: a referee's first purchase pays both
    third_member_token: str  # a member beyond the shared device's limit
    program_kept: bool = False  # an operator changed the demo's program; it was left so
    explained: Explanation | None = None  # why the member's first purchase earned what it did


async def create_or_refresh_demo(conn: Conn, *, reset: bool = False) -> DemoCredentials:
    """Create the demo tenant, or refresh it.

    Keys are stored hashed, so an old one cannot be shown again: a refresh revokes the keys
    the demo handed out before and prints new ones, so that running it twice leaves one live
    admin key and one live merchant key of the demo's, not more. A program an operator
    changed since is kept as it is, unless ``reset`` asks for the demo's again.
    """
    secrets = await tenants.secrets_of(conn, DEMO_TENANT_ID)
    if secrets is None:
        created = await create_tenant(conn, DEMO_TENANT_NAME, DEMO_TENANT_ID)
        admin_key = created.admin_api_key
        secrets = await tenants.secrets_of(conn, DEMO_TENANT_ID)
        assert secrets is not None
    else:
        await tenants.revoke_labelled_keys(conn, DEMO_TENANT_ID, DEMO_KEY_LABELS)
        admin_key = await issue_admin_key(conn, DEMO_TENANT_ID, DEMO_ADMIN_KEY_LABEL)
    for merchant_id, name, category in DEMO_MERCHANTS:
        if not await merchants.exists(conn, DEMO_TENANT_ID, merchant_id):
            await merchants.create_merchant(
                conn, DEMO_TENANT_ID, "demo", merchant_id, name, category
            )
    kept = await _points_program(conn, reset)
    await _catalog(conn)
    await _welcome_points(conn)
    await _city(conn)
    explained = await _first_purchase(conn)
    referral_code = await referrals.code_for(conn, DEMO_TENANT_ID, DEMO_MEMBER_ID)
    for member_id in [*DEMO_DEVICE_MEMBERS, DEMO_THIRD_MEMBER_ID]:
        await members.enroll(conn, DEMO_TENANT_ID, member_id)
    for member_id in DEMO_DEVICE_MEMBERS:
        await abuse.sighting(
            conn, DEMO_TENANT_ID, secrets.device_key, member_id, DEMO_SHARED_DEVICE
        )
    merchant_key = await merchants.issue_merchant_key(
        conn, DEMO_TENANT_ID, DEMO_MERCHANTS[0][0], DEMO_MERCHANT_KEY_LABEL
    )
    token, third = (
        encode_member_token(
            secrets.member_token_secrets[0],
            sub=member_id,
            tid=DEMO_TENANT_ID,
            exp=int(time.time()) + 30 * 86400,
        )
        for member_id in (DEMO_MEMBER_ID, DEMO_THIRD_MEMBER_ID)
    )
    return DemoCredentials(
        tenant_id=DEMO_TENANT_ID,
        admin_api_key=admin_key,
        merchant_id=DEMO_MERCHANTS[0][0],
        merchant_api_key=merchant_key,
        hook_secret=secrets.hook_secrets[0],
        member_token_secret=secrets.member_token_secrets[0],
        member_id=DEMO_MEMBER_ID,
        member_token=token,
        referral_code=referral_code,
        third_member_token=third,
        program_kept=kept,
        explained=explained,
    )


DEMO_PROGRAM = Program(
    currency="CNY",
    time_zone="Asia/Shanghai",
    base_rate="1",
    mcc_rates={"5541": "0.5", "5542": "0.5"},
    excluded_mccs=["6010", "6011", "4829"],
    expiry_months=24,
    pending_days=0,
    refund_policy="allow_negative",
    tiers=[Tier("silver", 1_000_000), Tier("gold", 5_000_000)],
    referral=Referral(
        referrer_points=500, referee_points=300, min_first_purchase_minor=10000, max_per_referrer=20
    ),
    abuse=AbuseLimits(
        max_members_per_device=2,
        max_claims_per_member_per_hour=10,
        max_points_per_member_per_day=50000,
    ),
)

# Two members were seen on this phone: a third member may not claim or redeem from it.
DEMO_SHARED_DEVICE = "demo-shared-phone"
DEMO_DEVICE_MEMBERS = ["m-42", "m-44"]
DEMO_THIRD_MEMBER_ID = "m-45"

DEMO_RULES = [
    EarnRule(
        id="fuel-3x",
        name="3x points on fuel for the car-owner card",
        effect=Effect("multiplier", "3"),
        conditions=Conditions(mcc_in=["5541", "5542"], card_product_in=["car-owner"]),
        caps=Caps(per_member_per_month=3000),
    ),
    EarnRule(
        id="weekend-dining",
        name="Double points on weekend dining",
        effect=Effect("multiplier", "2"),
        conditions=Conditions(mcc_in=["5812", "5813", "5814"], days_of_week=[6, 7]),
        caps=Caps(per_member_per_day=500),
    ),
]

DEMO_CAMPAIGN = DrawCampaign(
    id="every-swipe",
    name="Every swipe draws: 1x, 2x, 5x or 10x",
    prizes=[Prize(1, 700), Prize(2, 200), Prize(5, 80), Prize(10, 20)],
    budget=DrawBudget(daily_points=1_000_000, total_points=20_000_000),
    ends_at=datetime(2027, 12, 31, 16, 0, tzinfo=UTC),
)


async def _points_program(conn: Conn, reset: bool) -> bool:
    """The demo program, its earn rules and its draw campaign (created once). A program that
    differs from the demo's (an operator changed it) is kept unless ``reset``; whether it
    was."""
    current = await programs.get_program(conn, DEMO_TENANT_ID)
    kept = current != DEMO_PROGRAM and current != Program() and not reset
    if not kept and current != DEMO_PROGRAM:
        await programs.put_program(conn, DEMO_TENANT_ID, "demo", DEMO_PROGRAM)
    for rule in DEMO_RULES:
        try:
            await programs.get_rule(conn, DEMO_TENANT_ID, rule.id)
        except NotFound:
            await programs.create_rule(conn, DEMO_TENANT_ID, "demo", rule)
    try:
        await programs.get_campaign(conn, DEMO_TENANT_ID, DEMO_CAMPAIGN.id)
    except NotFound:
        await programs.create_campaign(conn, DEMO_TENANT_ID, "demo", DEMO_CAMPAIGN)
    return kept


# (sku, title, category, points, cash fen, stock)
DEMO_CATALOG = [
    ("iqiyi-vip-month", "iQIYI VIP, 1 month", "video", 2500, 0, None),
    ("tencent-video-month", "Tencent Video VIP, 1 month", "video", 2500, 0, None),
    ("youku-vip-month", "Youku VIP, 1 month", "video", 800, 800, None),
    ("mango-tv-month", "Mango TV, 1 month", "video", 2200, 0, None),
    ("bilibili-big-member", "bilibili Big Member, 1 month", "video", 800, 800, None),
    ("qq-music-green", "QQ Music Green Diamond, 1 month", "audio", 1500, 0, None),
    ("netease-music-vinyl", "NetEase Cloud Music Vinyl VIP, 1 month", "audio", 600, 800, None),
    ("ximalaya-vip", "Ximalaya VIP, 1 month", "audio", 1800, 0, None),
    ("kugou-music-vip", "Kugou Music VIP, 1 month", "audio", 1200, 0, None),
    ("starbucks-latte", "Starbucks tall latte", "dining", 3000, 0, None),
    ("luckin-coffee", "Luckin coffee voucher", "dining", 900, 800, None),
    ("heytea-voucher", "HEYTEA 20-yuan voucher", "dining", 1800, 0, None),
    ("kfc-breakfast", "KFC breakfast set", "dining", 1000, 800, None),
    ("haidilao-100", "Haidilao 100-yuan voucher", "dining", 9000, 0, 3),
    ("meituan-red-packet", "Meituan 15-yuan red packet", "dining", 1300, 0, None),
    ("keep-premium-month", "Keep Premium, 1 month", "fitness", 1500, 0, None),
    ("supermonkey-class", "Supermonkey group class", "fitness", 2000, 800, None),
    ("pure-yoga-day", "Pure Yoga day pass", "fitness", 6000, 0, None),
    ("lefit-week", "LeFit gym, 1 week", "fitness", 1600, 800, None),
    ("decathlon-50", "Decathlon 50-yuan voucher", "fitness", 4500, 0, None),
]


async def _catalog(conn: Conn) -> None:
    """About twenty benefits in four categories; one with a tiny stock."""
    for sku, title, category, points, cash, stock in DEMO_CATALOG:
        try:
            await catalog.get_item(conn, DEMO_TENANT_ID, sku)
        except NotFound:
            item = CatalogItem(
                sku=sku,
                title=title,
                category=category,
                points_price=points,
                cash_price_minor=cash,
                stock=stock,
                per_member_limit=MemberLimit(2, "month"),
                cancel_window_hours=24,
            )
            await catalog.create_item(conn, DEMO_TENANT_ID, "demo", item, [])


async def _welcome_points(conn: Conn) -> None:
    """The demo member starts with 3,000 points, once, so that redemptions work at once."""
    member = await members.enroll(conn, DEMO_TENANT_ID, DEMO_MEMBER_ID)
    if "car-owner" not in member.card_products:
        await members.update(
            conn,
            DEMO_TENANT_ID,
            "demo",
            DEMO_MEMBER_ID,
            member.tier,
            member.segments,
            [*member.card_products, "car-owner"],
            None,
        )
    found = await ledger.balance(conn, DEMO_TENANT_ID, DEMO_MEMBER_ID)
    if found.lifetime_earned == 0:
        await ledger.adjust(conn, DEMO_TENANT_ID, "demo", DEMO_MEMBER_ID, 3000, "welcome points")


#: The demo member's first purchase, recorded once so that the demo has history to explain
#: (and to replay).
DEMO_FIRST_PURCHASE = "txn-demo-first"


async def _first_purchase(conn: Conn) -> Explanation:
    """Record the member's first purchase through the hook (once), and explain it."""
    try:
        await hook.get_record(conn, DEMO_TENANT_ID, DEMO_FIRST_PURCHASE)
    except NotFound:
        await hook.process(
            conn,
            DEMO_TENANT_ID,
            CardTransaction(
                id=DEMO_FIRST_PURCHASE,
                kind="purchase",
                member_id=DEMO_MEMBER_ID,
                amount_minor=35000,
                currency="CNY",
                occurred_at=datetime.now(UTC),
                card_product="car-owner",
                mcc="5541",
                merchant_id="shell-futian",
                store_id="shell-futian-01",
                channel="offline",
            ),
        )
    return await explanations.explanation(conn, DEMO_TENANT_ID, DEMO_FIRST_PURCHASE)


def explanation_text(e: Explanation) -> str:
    """An explanation in a few lines, as the demo prints it."""
    lines = [
        f"  {e.transaction_id}: {e.points} points; base {e.base.points} ({e.base.rate} a yuan)"
    ]
    for r in e.rules:
        lines.append(f"  rule {r.rule_id:<18} {r.outcome:<16} {r.points:>6}  {r.detail}")
    for d in e.draws:
        lines.append(f"  draw {d.campaign_id:<18} {d.outcome:<16} {d.points:>6}  {d.detail}")
    for o in e.offers:
        lines.append(f"  offer {o.offer_id:<17} {o.outcome:<16} {o.points:>6}  {o.detail}")
    return "\n".join(lines)


# Shenzhen districts where the demo city's merchants are spread (lat, lng boxes).
FUTIAN = ((22.515, 22.565), (114.010, 114.095))
NANSHAN = ((22.485, 22.560), (113.895, 113.990))
CITY_CATEGORIES = [
    # (category, name, mcc-ish reward)
    ("fuel", "Fuel station", OfferReward("percent_off", 12, max_reward_minor=5000)),
    ("dining", "Restaurant", OfferReward("amount_off", 1500)),
    ("car_wash", "Car wash", OfferReward("percent_off", 30, max_reward_minor=3000)),
    ("parking", "Parking", OfferReward("amount_off", 500)),
    ("cinema", "Cinema", OfferReward("bonus_points", 300)),
    ("coffee", "Coffee", OfferReward("points_multiplier", "3")),
]
CITY_SIZE = 2000


def city_plan(size: int = CITY_SIZE) -> tuple[list[Store], list[tuple[str, str, str]], list[Offer]]:
    """A deterministic city: merchants with one or two stores in Futian and Nanshan, each
    with one offer (fuel 12% off for car-owner cards, dining, car wash, parking, cinema,
    coffee)."""
    rng = random.Random(2026)
    stores: list[Store] = []
    merchants: list[tuple[str, str, str]] = []
    offers: list[Offer] = []
    for n in range(size):
        category, label, reward = CITY_CATEGORIES[n % len(CITY_CATEGORIES)]
        merchant_id = f"city-{category}-{n:04d}"
        merchants.append((merchant_id, f"{label} {n:04d}", category))
        for k in range(1 + (n % 5 == 0)):
            (lat0, lat1), (lng0, lng1) = FUTIAN if rng.random() < 0.55 else NANSHAN
            stores.append(
                Store(
                    f"{merchant_id}-{k + 1:02d}",
                    merchant_id,
                    f"{label} {n:04d}/{k + 1}",
                    "",
                    round(rng.uniform(lat0, lat1), 6),
                    round(rng.uniform(lng0, lng1), 6),
                )
            )
        offers.append(
            Offer(
                id=f"{merchant_id}-offer",
                title=f"{label}: {_reward_text(reward)}",
                category=category,
                reward=reward,
                min_spend_minor=20000 if category == "fuel" else 0,
                geofence_radius_m=500,
                targeting=Conditions(card_product_in=["car-owner"])
                if category == "fuel"
                else Conditions(),
                budget=OfferBudget(max_redemptions=10000, max_reward_minor=5_000_000),
                per_member_limit=4,
                activation="claim" if category in ("fuel", "car_wash") else "auto",
            )
        )
    return stores, merchants, offers


def _reward_text(reward: OfferReward) -> str:
    if reward.kind == "percent_off":
        return f"{reward.value}% off"
    if reward.kind == "amount_off":
        return f"{int(reward.value) / 100:.0f} yuan off"
    if reward.kind == "bonus_points":
        return f"{reward.value} bonus points"
    return f"{reward.value}x points"


FUEL_88 = Offer(
    id="fuel-88",
    title="12% off fuel",
    category="fuel",
    reward=OfferReward("percent_off", 12, max_reward_minor=5000),
    min_spend_minor=20000,
    store_ids=["shell-futian-01"],
    geofence_radius_m=500,
    targeting=Conditions(card_product_in=["car-owner"]),
    budget=OfferBudget(max_redemptions=10000, max_reward_minor=5_000_000),
    per_member_limit=4,
    activation="claim",
    # Shell pays half of each discount and 0.30 yuan a match: settled by monthly statements.
    funding=OfferFunding(merchant_share_pct=50, fee_minor_per_match=30),
)


async def _city(conn: Conn) -> None:
    """Shell Futian's store and fuel-88, and about 2,000 merchants across Futian and
    Nanshan with a live offer each (created once)."""
    shell = Store(
        "shell-futian-01", "shell-futian", "Shell Futian 01", "Shennan Blvd", 22.5431, 114.0579
    )
    await publishing.import_approved(conn, DEMO_TENANT_ID, [shell], [("shell-futian", FUEL_88)])
    if await merchants.count_merchants(conn, DEMO_TENANT_ID) >= CITY_SIZE:
        return
    stores, city_merchants, offers = city_plan()
    await merchants.import_merchants(conn, DEMO_TENANT_ID, city_merchants)
    await publishing.import_approved(
        conn,
        DEMO_TENANT_ID,
        stores,
        [
            (merchant_id, offer)
            for offer, (merchant_id, _, _) in zip(offers, city_merchants, strict=True)
        ],
    )
