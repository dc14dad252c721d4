"""Abuse of the server itself, over raw sockets to `rewards serve`: a client that sends its
headers slowly, or too many of them, or a body slower than allowed, or a body larger than
allowed, is answered and cut off in bounded time, and the server goes on serving others."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.test_serve_process import _free_port, _rewards, _wait_ready

LIMITS = {
    "REWARDS_HEADER_TIMEOUT_SECONDS": "1",
    "REWARDS_BODY_TIMEOUT_SECONDS": "1",
    "REWARDS_MAX_HEADER_BYTES": "4096",
}


def _serve(database: str, folder: Path, server: str) -> Iterator[tuple[str, int]]:
    port = _free_port()
    env = os.environ | LIMITS | {"DATABASE_URL": database, "REWARDS_ACCESS_LOG": "false"}
    with (folder / f"{server}.log").open("wb") as log:
        process = subprocess.Popen(
            [*_rewards(), "serve", "--port", str(port), "--server", server],
            stdout=log,
            stderr=log,
            env=env,
        )
    try:
        _wait_ready(f"http://127.0.0.1:{port}", process)
        yield f"http://127.0.0.1:{port}", port
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def uvicorn_server(database: str, tmp_path: Path) -> Iterator[tuple[str, int]]:
    yield from _serve(database, tmp_path, "uvicorn")


@pytest.fixture
def granian_server(database: str, tmp_path: Path) -> Iterator[tuple[str, int]]:
    yield from _serve(database, tmp_path, "granian")


def _admin_key(database: str) -> str:
    created = subprocess.run(
        [*_rewards(), "tenant", "create", "--name", "Limits Bank", "--json"],
        env=os.environ | {"DATABASE_URL": database},
        capture_output=True,
        check=True,
        timeout=60,
    )
    key: str = json.loads(created.stdout)["admin_api_key"]
    return key


def _talk(port: int, data: bytes, *, then_wait: float = 10) -> tuple[bytes, float]:
    """Send ``data``, then read until the server closes; what it said, and when it closed
    (seconds after the last byte was sent)."""
    with socket.create_connection(("127.0.0.1", port), timeout=then_wait) as s:
        s.sendall(data)
        sent = time.monotonic()
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
        return answer, time.monotonic() - sent


def test_headers_that_do_not_arrive_in_time_are_a_408_and_the_connection_closes(
    uvicorn_server: tuple[str, int],
) -> None:
    url, port = uvicorn_server
    answer, closed_after = _talk(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"request_timeout" in answer
    assert closed_after < 3
    silent, closed_after = _talk(port, b"")  # a connection that never says anything
    assert silent.startswith(b"HTTP/1.1 408"), silent
    assert closed_after < 3
    assert httpx.get(f"{url}/healthz").status_code == 200  # the others are served


def test_headers_larger_than_allowed_are_a_431(uvicorn_server: tuple[str, int]) -> None:
    url, port = uvicorn_server
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n"
    answer, closed_after = _talk(port, request)
    assert answer.startswith(b"HTTP/1.1 431"), answer
    assert b"headers_too_large" in answer
    assert closed_after < 3
    fine = httpx.get(f"{url}/healthz", headers={"X-Fine": "a" * 2000})
    assert fine.status_code == 200


def test_a_body_slower_than_allowed_is_a_408(
    uvicorn_server: tuple[str, int], database: str
) -> None:
    url, port = uvicorn_server
    key = _admin_key(database)
    head = (
        b"POST /v1/admin/merchants HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + key.encode() + b"\r\nContent-Length: 100\r\n\r\n"
    )
    answer, closed_after = _talk(port, head + b'{"id": ')
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"request_timeout" in answer
    assert closed_after < 4
    assert httpx.get(f"{url}/healthz").status_code == 200


def test_a_body_larger_than_allowed_is_a_413_before_it_is_sent(
    uvicorn_server: tuple[str, int], database: str
) -> None:
    _, port = uvicorn_server
    key = _admin_key(database)
    head = (
        b"POST /v1/admin/merchants HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + key.encode() + b"\r\n"
        b"Content-Length: 10000000\r\nConnection: close\r\n\r\n"
    )
    answer, _ = _talk(port, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert b"application/problem+json" in answer


def test_granian_cuts_off_headers_that_do_not_arrive_in_time(
    granian_server: tuple[str, int],
) -> None:
    url, port = granian_server
    answer, closed_after = _talk(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    assert closed_after < 3, answer
    assert not answer.startswith(b"HTTP/1.1 200"), answer
    assert httpx.get(f"{url}/healthz").status_code == 200
