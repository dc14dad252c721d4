"""Member-gets-member referrals: codes, attaching one, bonuses paid in the hook, clawbacks."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from rewards.core.referrals import ALPHABET, CODE_LENGTH
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_points_hook import setup

REFERRAL = {
    "referrer_points": 500,
    "referee_points": 300,
    "min_first_purchase_minor": 10000,
    "max_per_referrer": 5,
}


async def referral_program(tenant: Tenant, **changes: Any) -> None:
    await setup(tenant, {"referral": REFERRAL | changes})


async def code_of(tenant: Tenant, member: str) -> str:
    response = await tenant.client.get("/v1/me/referral", headers=tenant.member(member))
    assert response.status_code == 200, response.text
    code: str = response.json()["code"]
    return code


async def apply(tenant: Tenant, member: str, code: str, **headers: str) -> Any:
    return await tenant.client.post(
        "/v1/me/referral/apply", json={"code": code}, headers=tenant.member(member, **headers)
    )


async def balance(tenant: Tenant, member: str) -> int:
    response = await tenant.client.get("/v1/me/balance", headers=tenant.member(member))
    available: int = response.json()["available"]
    return available


async def test_every_member_has_one_stable_unambiguous_code(tenant: Tenant) -> None:
    await referral_program(tenant)
    codes = [await code_of(tenant, f"m-{n}") for n in range(30)]
    assert len(set(codes)) == 30
    for code in codes:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(ALPHABET)
        assert not re.search("[01OIL]", code)
    assert await code_of(tenant, "m-0") == codes[0]  # stable
    body = (await tenant.client.get("/v1/me/referral", headers=tenant.member("m-0"))).json()
    assert body == {
        "code": codes[0],
        "referred": 0,
        "rewarded": 0,
        "points_earned": 0,
        "referees": [],
        "next_cursor": None,
    }
    member = await tenant.client.get("/v1/admin/members/m-0", headers=tenant.admin)
    assert member.json()["referral_code"] == codes[0]


async def test_a_referred_first_purchase_pays_both_in_one_transaction(tenant: Tenant, conn) -> None:
    await referral_program(tenant)
    code = await code_of(tenant, "alice")
    # Typed by hand: lower case, with a space, is the same code.
    applied = await apply(tenant, "bob", code[:4].lower() + " " + code[4:])
    assert applied.status_code == 200, applied.text
    assert applied.json()["code"] == code
    assert applied.json()["status"] == "pending"
    # A purchase below the minimum does not qualify; the referral waits.
    small = (await tenant.hook(purchase("p-small", "bob", amount_minor=5000))).json()
    assert small["points"]["referral"] == 0
    body = (await tenant.hook(purchase("p-first", "bob", amount_minor=20000))).json()
    assert body["points"]["referral"] == 300
    assert body["points"]["total"] == body["points"]["base"] + 300
    assert await balance(tenant, "alice") == 500
    # A later purchase pays no second bonus.
    again = (await tenant.hook(purchase("p-again", "bob", amount_minor=20000))).json()
    assert again["points"]["referral"] == 0
    # Both members see the bonus in their activity, with its cause.
    for member, points, role in (("alice", 500, "referrer"), ("bob", 300, "referee")):
        moves = (await tenant.client.get("/v1/me/activity", headers=tenant.member(member))).json()
        bonus = [m for m in moves["items"] if m["kind"] == "referral"]
        assert len(bonus) == 1
        assert bonus[0]["points"] == points
        assert bonus[0]["transaction_id"] == "p-first"
        assert bonus[0]["cause"]["role"] == role
    mine = (await tenant.client.get("/v1/me/referral", headers=tenant.member("alice"))).json()
    assert (mine["referred"], mine["rewarded"], mine["points_earned"]) == (1, 1, 500)
    assert mine["referees"][0]["member"] == "b***"
    assert mine["referees"][0]["status"] == "rewarded"
    assert "bob" not in str(mine)
    # Both movements come from the referrals account.
    source = await conn.fetchval(
        "SELECT sum(amount) FROM postings WHERE tenant_id = $1 AND account_id = 'referrals'",
        tenant.id,
    )
    assert source == -800
    await check_ledger(conn)


async def test_bad_codes_are_each_a_clear_422_and_change_nothing(
    tenant: Tenant, other_tenant: Tenant, conn
) -> None:
    await referral_program(tenant)
    await referral_program(other_tenant)
    alice = await code_of(tenant, "alice")
    carol = await code_of(tenant, "carol")
    foreign = await code_of(other_tenant, "zed")

    async def refused(member: str, code: str, problem: str) -> None:
        response = await apply(tenant, member, code)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"] == problem, response.text

    unknown = next(c * CODE_LENGTH for c in "2345" if c * CODE_LENGTH not in (alice, carol))
    await refused("bob", unknown, "referral_code_unknown")
    await refused("bob", "0OIL1", "referral_code_unknown")
    if foreign not in (alice, carol):
        await refused("bob", foreign, "referral_code_unknown")
    await refused("alice", alice, "referral_self")
    assert (
        await conn.fetchval("SELECT count(*) FROM referrals WHERE tenant_id = $1", tenant.id) == 0
    )
    assert (await apply(tenant, "bob", alice)).status_code == 200
    assert (await apply(tenant, "bob", alice)).status_code == 200  # the same code: no change
    await refused("bob", carol, "referral_already_set")
    # After a qualifying purchase it is too late.
    await tenant.hook(purchase("p-dave", "dave", amount_minor=50000))
    await refused("dave", alice, "referral_too_late")
    rows = await conn.fetch(
        "SELECT referee_id, referrer_id FROM referrals WHERE tenant_id = $1", tenant.id
    )
    assert [(r["referee_id"], r["referrer_id"]) for r in rows] == [("bob", "alice")]


async def test_the_operator_attaches_a_code_with_the_same_checks(tenant: Tenant, conn) -> None:
    off = await tenant.client.put(
        "/v1/admin/members/erin", json={"referral_code_used": "ABCDEFGH"}, headers=tenant.admin
    )
    assert off.status_code == 422
    assert off.json()["type"] == "referrals_off"
    await referral_program(tenant)
    code = await code_of(tenant, "alice")
    response = await tenant.client.put(
        "/v1/admin/members/erin",
        json={"tier": None, "segments": ["new"], "referral_code_used": code},
        headers=tenant.admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["referral_code_used"] == code
    # PUT without the code keeps it; another code is refused and changes nothing.
    kept = await tenant.client.put(
        "/v1/admin/members/erin", json={"segments": ["vip"]}, headers=tenant.admin
    )
    assert kept.json()["referral_code_used"] == code
    other = await code_of(tenant, "frank")
    refused = await tenant.client.put(
        "/v1/admin/members/erin",
        json={"segments": ["changed"], "referral_code_used": other},
        headers=tenant.admin,
    )
    assert refused.status_code == 422
    assert refused.json()["type"] == "referral_already_set"
    member = (await tenant.client.get("/v1/admin/members/erin", headers=tenant.admin)).json()
    assert member["segments"] == ["vip"]
    body = (await tenant.hook(purchase("p-erin", "erin", amount_minor=10000))).json()
    assert body["points"]["referral"] == 300
    assert await balance(tenant, "alice") == 500
    await check_ledger(conn)


async def test_max_per_referrer_holds_when_200_referees_buy_at_once(tenant: Tenant, conn) -> None:
    await referral_program(tenant, max_per_referrer=7)
    code = await code_of(tenant, "alice")
    referees = [f"r-{n:03d}" for n in range(200)]
    for member in referees:
        assert (await apply(tenant, member, code)).status_code == 200
    responses = await asyncio.gather(
        *(tenant.hook(purchase(f"p-{m}", m, amount_minor=20000)) for m in referees)
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses[:3]]
    paid = [r.json()["points"]["referral"] for r in responses]
    assert sorted(paid, reverse=True)[:8] == [300] * 7 + [0]
    assert await balance(tenant, "alice") == 7 * 500
    statuses = await conn.fetch(
        "SELECT status, reason, count(*) AS n FROM referrals WHERE tenant_id = $1"
        " GROUP BY 1, 2 ORDER BY 1",
        tenant.id,
    )
    assert [(r["status"], r["reason"], r["n"]) for r in statuses] == [
        ("refused", "referrer_limit", 193),
        ("rewarded", None, 7),
    ]
    await check_ledger(conn)


async def test_a_reversal_or_full_refund_claws_both_back_a_partial_one_does_not(
    tenant: Tenant, conn
) -> None:
    await referral_program(tenant)
    code = await code_of(tenant, "alice")
    for member in ("bob", "carl"):
        await apply(tenant, member, code)
        await tenant.hook(purchase(f"p-{member}", member, amount_minor=20000))
    assert await balance(tenant, "alice") == 1000
    partial = (
        await tenant.hook(
            {
                **purchase("r-bob-1", "bob", amount_minor=5000),
                "kind": "refund",
                "original_id": "p-bob",
            }
        )
    ).json()
    assert partial["points"]["referral"] == 0
    assert await balance(tenant, "alice") == 1000
    rest = (
        await tenant.hook(
            {
                **purchase("r-bob-2", "bob", amount_minor=15000),
                "kind": "refund",
                "original_id": "p-bob",
            }
        )
    ).json()
    assert rest["points"]["referral"] == -300
    assert await balance(tenant, "alice") == 500
    reversal = (
        await tenant.hook(
            {
                **purchase("v-carl", "carl", amount_minor=20000),
                "kind": "reversal",
                "original_id": "p-carl",
            }
        )
    ).json()
    assert reversal["points"]["referral"] == -300
    assert await balance(tenant, "alice") == 0
    assert await balance(tenant, "bob") == 0
    assert await balance(tenant, "carl") == 0
    mine = (await tenant.client.get("/v1/me/referral", headers=tenant.member("alice"))).json()
    assert (mine["referred"], mine["rewarded"], mine["points_earned"]) == (2, 0, 0)
    assert {r["status"] for r in mine["referees"]} == {"clawed_back"}
    # The liability report and its reconciliation count the referrals account.
    report = (await tenant.client.get("/v1/admin/reports/liability", headers=tenant.admin)).json()
    assert report["reconciled"] is True
    assert sum(d["issued"] for d in report["days"]) >= 1600
    await check_ledger(conn)


async def test_referee_and_referrer_on_one_device_are_a_ring_no_bonus(tenant: Tenant, conn) -> None:
    await referral_program(tenant)
    device = {"X-Device-Id": "phone-1"}
    response = await tenant.client.get("/v1/me/referral", headers=tenant.member("alice", **device))
    code = response.json()["code"]
    assert (await apply(tenant, "bob", code, **device)).status_code == 200
    body = (await tenant.hook(purchase("p-bob", "bob", amount_minor=20000))).json()
    assert body["points"]["referral"] == 0
    assert await balance(tenant, "alice") == 0
    events = (
        await tenant.client.get("/v1/admin/risk-events?reason=referral_ring", headers=tenant.admin)
    ).json()["items"]
    assert len(events) == 1
    assert events[0]["member_id"] == "bob"
    assert events[0]["detail"]["referrer_id"] == "alice"
    assert events[0]["device"]
    assert "phone-1" not in str(events[0])
    await check_ledger(conn)


async def test_simulate_shows_the_referral_bonus_and_writes_nothing(tenant: Tenant, conn) -> None:
    await referral_program(tenant)
    code = await code_of(tenant, "alice")
    await apply(tenant, "bob", code)
    simulated = await tenant.client.post(
        "/v1/admin/transactions/simulate",
        json=purchase("p-sim", "bob", amount_minor=20000),
        headers=tenant.admin,
    )
    assert simulated.status_code == 200, simulated.text
    assert simulated.json()["points"]["referral"] == 300
    status = await conn.fetchval(
        "SELECT status FROM referrals WHERE tenant_id = $1 AND referee_id = 'bob'", tenant.id
    )
    assert status == "pending"
    assert await balance(tenant, "alice") == 0


async def test_mutual_pairs_applied_at_once_never_fail_and_never_close_a_cycle(
    tenant: Tenant, conn
) -> None:
    """100 pairs of members apply each other's codes at the same moment (in the app, and
    by the operator's PUT): no 5xx, one of each pair is attached, the other is told
    `referral_cycle`; then each pair's purchases pay one referral, not two."""
    await referral_program(tenant, max_per_referrer=1000)
    pairs = [(f"a-{n}", f"b-{n}") for n in range(100)]
    codes = {m: await code_of(tenant, m) for pair in pairs for m in pair}

    async def by_app(member: str, other: str) -> Any:
        return await apply(tenant, member, codes[other])

    async def by_operator(member: str, other: str) -> Any:
        return await tenant.client.put(
            f"/v1/admin/members/{member}",
            json={"referral_code_used": codes[other]},
            headers=tenant.admin,
        )

    answers = await asyncio.gather(
        *(
            call(x, y)
            for n, (a, b) in enumerate(pairs)
            for call in ([by_app] if n % 2 else [by_operator])
            for x, y in ((a, b), (b, a))
        )
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(200) == 100, statuses
    refused = [r.json() for r in answers if r.status_code != 200]
    assert {(r["status"], r["type"]) for r in refused} == {(422, "referral_cycle")}
    assert all("request_id" in r for r in refused)
    for n, (a, b) in enumerate(pairs):
        await tenant.hook(purchase(f"pa-{n}", a, amount_minor=20000))
        await tenant.hook(purchase(f"pb-{n}", b, amount_minor=20000))
    paid = await conn.fetchval(
        "SELECT count(*) FROM referrals WHERE tenant_id = $1 AND status = 'rewarded'", tenant.id
    )
    assert paid == 100
    await check_ledger(conn)


async def test_a_code_up_the_applicants_chain_is_a_cycle(tenant: Tenant) -> None:
    await referral_program(tenant)
    codes = {m: await code_of(tenant, m) for m in ("x", "y", "z")}
    assert (await apply(tenant, "y", codes["x"])).status_code == 200  # x referred y
    assert (await apply(tenant, "z", codes["y"])).status_code == 200  # y referred z
    cycle = await apply(tenant, "x", codes["z"])  # z's chain reaches x
    assert cycle.status_code == 422
    assert cycle.json()["type"] == "referral_cycle"


async def test_three_member_cycles_applied_at_once_leave_no_cycle(tenant: Tenant, conn) -> None:
    await referral_program(tenant)
    rings = [(f"p-{n}", f"q-{n}", f"r-{n}") for n in range(40)]
    codes = {m: await code_of(tenant, m) for ring in rings for m in ring}
    answers = await asyncio.gather(
        *(
            apply(tenant, member, codes[ring[(i + 1) % 3]])
            for ring in rings
            for i, member in enumerate(ring)
        )
    )
    assert {r.status_code for r in answers} <= {200, 422}
    assert sum(r.status_code == 200 for r in answers) == 2 * len(rings)
    cyclic = await conn.fetchval(
        """
        WITH RECURSIVE walk(start, member_id, depth) AS (
            SELECT referee_id, referrer_id, 1 FROM referrals WHERE tenant_id = $1
            UNION ALL
            SELECT w.start, r.referrer_id, w.depth + 1 FROM walk w
            JOIN referrals r ON r.tenant_id = $1 AND r.referee_id = w.member_id
            WHERE w.depth < 10
        )
        SELECT count(*) FROM walk WHERE start = member_id
        """,
        tenant.id,
    )
    assert cyclic == 0
