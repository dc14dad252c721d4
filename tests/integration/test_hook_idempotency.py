"""The transaction id is the idempotency key of the hook."""

from __future__ import annotations

import asyncio

from tests.integration.conftest import Tenant, count_rows, purchase


async def test_the_same_transaction_twice_answers_the_same_body(tenant: Tenant, conn) -> None:
    first = await tenant.hook(purchase())
    again = await tenant.hook(purchase())
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert await count_rows(conn, "transactions") == 1


async def test_key_order_and_spacing_do_not_make_a_different_body(tenant: Tenant) -> None:
    first = await tenant.hook(purchase())
    reordered = dict(reversed(list(purchase().items())))
    assert (await tenant.hook(reordered)).json() == first.json()


async def test_the_same_id_with_a_different_body_is_409(tenant: Tenant, conn) -> None:
    await tenant.hook(purchase())
    response = await tenant.hook(purchase(amount_minor=1))
    assert response.status_code == 409
    assert response.json()["type"] == "idempotency_conflict"
    stored = await conn.fetchval("SELECT amount_minor FROM transactions")
    assert stored == 35000


async def test_twenty_concurrent_copies_record_one_transaction(tenant: Tenant, conn) -> None:
    responses = await asyncio.gather(*(tenant.hook(purchase()) for _ in range(20)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.text for r in responses}) == 1
    assert await count_rows(conn, "transactions") == 1
    assert await count_rows(conn, "members") == 1


async def test_a_stored_answer_of_an_older_shape_comes_back_byte_for_byte(
    tenant: Tenant, conn
) -> None:
    """A repeat delivery sends the bytes that were sent, whatever the answer type has become
    since: here an answer of an older release (fewer fields, other spacing), in the single
    hook and in a batch."""
    await tenant.hook(purchase("p-old"))
    older = b'{"transaction_id": "p-old",  "member_id":"m-1","points":{"base":350,"total":350}}'
    await conn.execute("UPDATE transactions SET answer = $1 WHERE transaction_id = 'p-old'", older)
    again = await tenant.hook(purchase("p-old"))
    assert again.status_code == 200
    assert again.content == older
    batch = await tenant.hook_batch([purchase("p-old")])
    assert older in batch.content


async def test_the_operator_reads_a_transaction_with_the_answer_it_got(tenant: Tenant) -> None:
    answer = (await tenant.hook(purchase("p-read"))).json()
    found = await tenant.client.get("/v1/admin/transactions/p-read", headers=tenant.admin)
    assert found.status_code == 200
    assert found.json()["answer"] == answer
    assert found.json()["request"]["id"] == "p-read"
