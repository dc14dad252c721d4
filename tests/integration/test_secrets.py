"""Every secret rotates with an overlap: the previous hook and member-token secrets stay
accepted, events carry a signature made with each event secret, and the overlap ends."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import asyncpg
import msgspec
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from rewards.core.credentials import encode_member_token, hook_signature, verify_hook_signature
from rewards.core.errors import Unauthenticated
from tests.integration.conftest import Tenant, purchase
from tests.integration.receiver import Receiver, receiving
from tests.integration.test_cli import rewards
from tests.integration.test_events import until, webhook


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(
        Settings(
            database_url=database,
            access_log=False,
            webhook_allow_private=True,
            webhook_retry_base_seconds=0.2,
        )
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


def _token(secret: str, tenant: Tenant) -> dict[str, str]:
    token = encode_member_token(secret, sub="m-1", tid=tenant.id, exp=int(time.time()) + 600)
    return {"Authorization": f"Bearer {token}"}


async def test_events_carry_both_signatures_during_the_overlap(
    tenant: Tenant, receiver: Receiver
) -> None:
    await webhook(tenant, receiver.url + "/ok")
    rotated = await tenant.client.post(
        "/v1/admin/event-secret/rotate?overlap_hours=1", headers=tenant.admin
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["event_signing_secret"]
    assert new != tenant.event_secret
    await tenant.hook(purchase("p-1", "m-1"))
    await until(lambda: _arrived(receiver, 1))
    (got,) = receiver.received
    signature = got.headers["X-Rewards-Signature"]
    assert signature.count("v1=") == 2
    for secret in (new, tenant.event_secret):  # a receiver with either one verifies
        verify_hook_signature(signature, got.body, [secret], now=time.time())
    # Rotated again with no overlap: only the newest signs.
    again = await tenant.client.post(
        "/v1/admin/event-secret/rotate?overlap_hours=0", headers=tenant.admin
    )
    newest = again.json()["event_signing_secret"]
    await tenant.hook(purchase("p-2", "m-1"))
    await until(lambda: _arrived(receiver, 2))
    second = receiver.received[1]
    assert second.headers["X-Rewards-Signature"].count("v1=") == 1
    verify_hook_signature(
        second.headers["X-Rewards-Signature"], second.body, [newest], now=time.time()
    )
    for old in (new, tenant.event_secret):
        with pytest.raises(Unauthenticated):
            verify_hook_signature(
                second.headers["X-Rewards-Signature"], second.body, [old], now=time.time()
            )


async def _arrived(receiver: Receiver, count: int) -> bool:
    return len(receiver.received) >= count


async def test_member_tokens_of_the_previous_secret_work_until_the_overlap_ends(
    tenant: Tenant,
) -> None:
    rotated = await tenant.client.post("/v1/admin/member-secret/rotate", headers=tenant.admin)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["member_token_secret"]
    assert rotated.json()["previous_valid_until"]
    for secret in (tenant.member_secret, new):
        me = await tenant.client.get("/v1/me", headers=_token(secret, tenant))
        assert me.status_code == 200, me.text
    ended = await tenant.client.post(
        "/v1/admin/member-secret/rotate?overlap_hours=0", headers=tenant.admin
    )
    newest = ended.json()["member_token_secret"]
    tenant.client.app.state.credentials.forget()
    assert (await tenant.client.get("/v1/me", headers=_token(new, tenant))).status_code == 401
    assert (await tenant.client.get("/v1/me", headers=_token(newest, tenant))).status_code == 200


async def test_hook_secret_rotation_through_the_api_keeps_the_old_one_for_the_overlap(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    rotated = await tenant.client.post("/v1/admin/hook-secret/rotate", headers=tenant.admin)
    new = rotated.json()["hook_secret"]
    for n, secret in enumerate((tenant.hook_secret, new)):
        body = msgspec.json.encode(purchase(f"p-{n}"))
        headers = {
            "Content-Type": "application/json",
            "X-Rewards-Tenant": tenant.id,
            "X-Rewards-Signature": hook_signature(secret, int(time.time()), body),
        }
        answer = await tenant.client.post("/v1/hooks/transactions", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
    audit = (await tenant.client.get("/v1/admin/audit-log", headers=tenant.admin)).json()
    entry = audit["items"][0]
    assert entry["action"] == "secret.rotate"
    assert new not in json.dumps(entry)  # the secret itself is never written down


@pytest.mark.parametrize("overlap", ["-1", "721", "a day", "nan", ""])
async def test_a_bad_overlap_is_a_4xx_and_rotates_nothing(tenant: Tenant, overlap: str) -> None:
    answer = await tenant.client.post(
        f"/v1/admin/member-secret/rotate?overlap_hours={overlap}", headers=tenant.admin
    )
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    me = await tenant.client.get("/v1/me", headers=_token(tenant.member_secret, tenant))
    assert me.status_code == 200


def test_the_cli_rotates_each_kind_of_secret(database: str) -> None:
    made = rewards("tenant", "create", "--name", "Rotating Bank", "--json", database=database)
    tenant = json.loads(made.stdout)["tenant_id"]
    for kind, field in (
        ("hook", "hook_secret"),
        ("member", "member_token_secret"),
        ("event", "event_signing_secret"),
    ):
        result = rewards(
            "tenant",
            f"rotate-{kind}-secret",
            "--tenant",
            tenant,
            "--overlap-hours",
            "2",
            "--json",
            database=database,
        )
        assert result.returncode == 0, result.stderr
        printed = json.loads(result.stdout)
        assert set(printed) == {field, "previous_valid_until"}
        assert len(printed[field]) == 64
    bad = rewards(
        "tenant",
        "rotate-event-secret",
        "--tenant",
        tenant,
        "--overlap-hours",
        "x",
        database=database,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
