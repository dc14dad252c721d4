"""One tenant never sees or changes another's data."""

from __future__ import annotations

from tests.integration.conftest import Tenant, purchase


async def test_another_tenants_merchant_member_and_transaction_are_not_found(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    await tenant.merchant("shell-futian")
    assert (await tenant.hook(purchase("txn-a", "m-a"))).status_code == 200
    client = tenant.client
    for path in (
        "/v1/admin/merchants/shell-futian",
        "/v1/admin/members/m-a",
        "/v1/admin/transactions/txn-a",
    ):
        assert (await client.get(path, headers=tenant.admin)).status_code == 200, path
        foreign = await client.get(path, headers=other_tenant.admin)
        assert foreign.status_code == 404, path
        assert foreign.json()["type"] == "not_found"


async def test_lists_never_show_foreign_rows(tenant: Tenant, other_tenant: Tenant) -> None:
    await tenant.merchant("a-1")
    await tenant.merchant("a-2")
    await other_tenant.merchant("b-1")
    mine = await tenant.client.get("/v1/admin/merchants", headers=tenant.admin)
    theirs = await tenant.client.get("/v1/admin/merchants", headers=other_tenant.admin)
    assert [m["id"] for m in mine.json()["items"]] == ["a-1", "a-2"]
    assert [m["id"] for m in theirs.json()["items"]] == ["b-1"]


async def test_the_same_ids_in_two_tenants_are_two_things(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    await tenant.merchant("same")
    await other_tenant.merchant("same")
    a = await tenant.hook(purchase("txn-1", "m-1", amount_minor=100))
    b = await other_tenant.hook(purchase("txn-1", "m-1", amount_minor=200))
    assert a.status_code == b.status_code == 200
    got = await tenant.client.get("/v1/admin/transactions/txn-1", headers=other_tenant.admin)
    assert got.json()["amount_minor"] == 200


async def test_a_member_token_reads_only_its_own_tenant(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    await tenant.client.get("/v1/me", headers=tenant.member("m-1"))
    response = await tenant.client.get("/v1/admin/members/m-1", headers=other_tenant.admin)
    assert response.status_code == 404


async def test_merchant_pages_follow_the_cursor(tenant: Tenant) -> None:
    for n in range(5):
        await tenant.merchant(f"m-{n}")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (
            await tenant.client.get("/v1/admin/merchants", params=params, headers=tenant.admin)
        ).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"m-{n}" for n in range(5)]
