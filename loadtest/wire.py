"""A minimal keep-alive HTTP/1.1 client over asyncio streams, so that the load generator
spends as little of the machine's CPU as it can (a full client library costs several times
more per request than the server under test on a 2-core machine)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import httpx

from loadtest.machine import describe


class Connection:
    """One persistent connection; requests on it are sequential."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        """Send one request and read its whole response: (status, body)."""
        if self.writer is None or self.reader is None:
            await self.open()
        assert self.writer is not None
        assert self.reader is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split()[1])
        length = 0
        chunked = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            lowered = name.strip().lower()
            if lowered == "content-length":
                length = int(value.strip())
            elif lowered == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if chunked:
            chunks = []
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            return status, b"".join(chunks)
        return status, await self.reader.readexactly(length) if length else b""

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()


Request = tuple[str, str, dict[str, str], bytes]  # method, path, headers, body


class Run(NamedTuple):
    """What a load run did: requests sent, errors, each latency, seconds it took."""

    sent: int
    errors: int
    latencies: list[float]
    elapsed: float


async def drive(
    url: str,
    connections: int,
    seconds: float,
    next_request: Callable[[int], Request | None],
    ok: int = 200,
) -> Run:
    """Send requests over ``connections`` keep-alive connections until time is up or
    ``next_request`` (called with the request's number) returns None. An answer other than
    ``ok``, or a broken connection, counts as an error."""
    latencies: list[float] = []
    errors = sent = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors, sent
        conn = Connection(url)
        try:
            while time.perf_counter() < stop_at:
                request = next_request(sent)
                if request is None:
                    return
                method, path, headers, body = request
                started = time.perf_counter()
                sent += 1
                try:
                    status, _ = await conn.request(method, path, headers, body)
                    errors += status != ok
                except (OSError, ValueError, asyncio.IncompleteReadError):
                    errors += 1
                    conn = Connection(url)
                latencies.append(time.perf_counter() - started)
        finally:
            await conn.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return Run(sent, errors, latencies, time.perf_counter() - began)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 90) -> None:
    """Wait until the service at ``url`` answers ``/readyz`` with 200; fail if ``process``
    (the server) exits first or the time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rewards serve exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("rewards serve did not become ready")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def scenario_arguments(
    script: str, *, seconds: float, note: str = "", **own: tuple[type, object]
) -> argparse.Namespace:
    """The command line of a load scenario: ``--seconds``, ``--workers``, ``--connections``
    and the scenario's ``own`` options (name: (type, default)); printed back with the machine
    it runs on, so that every report says what produced it."""
    parser = argparse.ArgumentParser(prog=f"python -m loadtest.{script}")
    parser.add_argument("--seconds", type=float, default=seconds)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    for name, (kind, default) in own.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=default)
    args = parser.parse_args()
    shown = " ".join(
        f"--{name.replace('_', '-')} {value:g}"
        if isinstance(value, float)
        else f"--{name.replace('_', '-')} {value}"
        for name, value in vars(args).items()
    )
    print(f"machine: {describe()}")
    print(f"command: python -m loadtest.{script} {shown}{note}")
    return args


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc)."""
    found: list[int] = []
    queue = [pid]
    while queue:
        parent = queue.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            children = [int(c) for c in task.read_text().split()]
            found += children
            queue += children
    return found
