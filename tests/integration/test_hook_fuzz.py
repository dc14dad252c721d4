"""A fuzzer of the signed hook, over a socket to `rewards serve`: hypothesis makes bodies
(valid transactions with one field replaced by any JSON value, any JSON at all, broken
bytes) and signature and tenant headers (right, stale, for another body, malformed, not
ASCII). Whatever comes, the answer is a 200 or a 4xx problem, never a 5xx, and only what
was answered 200 is stored."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewards.core.credentials import hook_signature
from tests.conftest import with_database
from tests.dates import PURCHASE_AT, iso
from tests.integration.test_serve_process import _free_port, _rewards, _wait_ready

FIELDS = ["id", "kind", "member_id", "amount_minor", "currency", "mcc", "merchant_id"]
ANSWERED = {200, 400, 401, 403, 404, 409, 413, 415, 422, 429}


class Hook:
    def __init__(self, url: str, tenant: dict[str, Any]) -> None:
        self.url = url
        self.tenant_id: str = tenant["tenant_id"]
        self.secret: str = tenant["hook_secret"]
        self.client = httpx.Client(timeout=30)
        self.stored: set[str] = set()  # ids answered 200


@pytest.fixture(scope="module")
def hook(
    tmp_path_factory: pytest.TempPathFactory, pg_server: str, template_db: str
) -> Iterator[Hook]:
    name = f"rewards_fuzz_{os.getpid()}"
    _in_thread(_sql(pg_server, f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"'))
    database = with_database(pg_server, name)
    env = os.environ | {"DATABASE_URL": database, "REWARDS_ACCESS_LOG": "false"}
    created = subprocess.run(
        [*_rewards(), "tenant", "create", "--name", "Fuzz Bank", "--json"],
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    port = _free_port()
    folder: Path = tmp_path_factory.mktemp("fuzz")
    with (folder / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [*_rewards(), "serve", "--port", str(port)], stdout=log, stderr=log, env=env
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        fuzzer = Hook(url, json.loads(created.stdout))
        yield fuzzer
        stored = _in_thread(_stored(database))
        assert stored == fuzzer.stored  # only what was answered 200, and all of it
    finally:
        process.terminate()
        process.wait(timeout=30)
        _in_thread(_sql(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _in_thread(coroutine: Any) -> Any:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(coroutine)))
    thread.start()
    thread.join()
    return result[0]


async def _sql(dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _stored(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT transaction_id FROM transactions")
        return {r["transaction_id"] for r in rows}
    finally:
        await conn.close()


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    _containers,
    max_leaves=10,
)


@st.composite
def transactions(draw: st.DrawFn) -> Any:
    n = draw(st.integers(0, 10**9))
    body: dict[str, Any] = {
        "id": f"fz-{n}",
        "kind": "purchase",
        "member_id": f"m-{n % 7}",
        "amount_minor": 35000,
        "currency": "CNY",
        "mcc": "5541",
        "merchant_id": "shop",
        "occurred_at": iso(PURCHASE_AT),
    }
    if draw(st.booleans()):
        body[draw(st.sampled_from(FIELDS))] = draw(json_values)
    return body


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["transaction", "json", "bytes", "damaged"]))
    if kind == "transaction":
        return msgspec.json.encode(draw(transactions()))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    raw = bytearray(msgspec.json.encode(draw(transactions())))
    at = draw(st.integers(0, len(raw) - 1))
    raw[at] = draw(st.integers(0, 255))
    return bytes(raw)


header_bytes = st.binary(max_size=80).filter(lambda b: not set(b) & {0, 10, 13})


SIGNATURES = ["right", "stale", "other body", "made up", "bytes"]


def _signature(data: st.DataObject, kind: str, secret: str, body: bytes) -> bytes:
    now = int(time.time())
    if kind == "right":
        return hook_signature(secret, now, body).encode()
    if kind == "stale":
        return hook_signature(secret, now - data.draw(st.integers(301, 10**6)), body).encode()
    if kind == "other body":
        return hook_signature(secret, now, body + b" ").encode()
    if kind == "made up":
        t = data.draw(st.one_of(st.integers(), st.text(max_size=20)))
        v1 = data.draw(st.text(max_size=70))
        return f"t={t},v1={v1}".encode("utf-8", "surrogatepass")
    return data.draw(header_bytes)


@settings(
    max_examples=int(os.environ.get("REWARDS_FUZZ_EXAMPLES", "500")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_the_signed_hook_answers_any_input_with_200_or_a_4xx_problem(
    hook: Hook, data: st.DataObject
) -> None:
    body = data.draw(bodies())
    batch = data.draw(st.booleans())
    if batch:
        body = b'{"transactions":[' + body + b"]}"
    signature = _signature(data, data.draw(st.sampled_from(SIGNATURES)), hook.secret, body)
    tenant = data.draw(st.one_of(st.just(hook.tenant_id.encode()), header_bytes))
    headers = {
        "Content-Type": "application/json",
        "X-Rewards-Tenant": tenant,
        "X-Rewards-Signature": signature,
    }
    path = "/v1/hooks/transactions/batch" if batch else "/v1/hooks/transactions"
    try:
        response = hook.client.post(hook.url + path, content=body, headers=headers)
    except httpx.LocalProtocolError:
        return  # a header the client itself refuses to send
    assert response.status_code in ANSWERED, (response.status_code, response.text, body)
    if response.status_code != 200:
        assert response.headers["content-type"].startswith("application/problem+json")
        return
    answers = response.json()["results"] if batch else [response.json()]
    for answer in answers:
        assert answer.get("status", 200) < 500, answer
        if "transaction_id" in answer:
            hook.stored.add(answer["transaction_id"])
