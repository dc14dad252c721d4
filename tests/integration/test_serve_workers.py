"""`rewards serve` with several workers, as an operator runs it: metrics that add up across
the workers, workers that end with their server (kill -9 included), and the replica named
as the documentation names it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from rewards.core.credentials import hook_signature
from tests.integration.conftest import purchase
from tests.integration.test_serve_process import _free_port, _postgres_of, _rewards, _wait_ready


def _children(pid: int) -> list[int]:
    """Pids of the live processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid …: comm may hold spaces, so split after its closing paren.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(proc.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def _until_gone(pids: list[int], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in pids if _alive(p)], "processes left running"


def _serve(port: int, env: dict[str, str], *extra: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [*_rewards(), "serve", "--port", str(port), *extra],
            stdout=sink,
            stderr=sink,
            env=env,
        )


@pytest.fixture
def two_workers(tmp_path: Path, database: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    env = os.environ | {"DATABASE_URL": database}
    process = _serve(port, env, "--workers", "2", log=tmp_path / "serve.log")
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def _sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` with these labels in a Prometheus exposition."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        metric, _, rest = head.partition("{")
        if metric != name or not all(f'{k}="{v}"' in rest for k, v in labels.items()):
            continue
        total += float(value)
    return total


def test_metrics_add_up_across_workers_and_never_go_backwards(
    two_workers: tuple[str, subprocess.Popen[bytes]], database: str
) -> None:
    url, _ = two_workers
    made = subprocess.run(
        [*_rewards(), "tenant", "create", "--name", "Metrics Bank", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"DATABASE_URL": database},
        check=True,
    )
    tenant = json.loads(made.stdout)
    before = _sample(httpx.get(f"{url}/metrics").text, "rewards_awards_total", kind="purchase")
    hooks = 30
    for n in range(hooks):  # a connection each: the workers share them out
        body = msgspec.json.encode(purchase(f"metrics-{n}", f"m-{n}"))
        headers = {
            "Content-Type": "application/json",
            "X-Rewards-Tenant": tenant["tenant_id"],
            "X-Rewards-Signature": hook_signature(tenant["hook_secret"], int(time.time()), body),
        }
        answer = httpx.post(f"{url}/v1/hooks/transactions", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
    awards, requests = [], []
    for _ in range(10):
        text = httpx.get(f"{url}/metrics", headers={"Connection": "close"}).text
        awards.append(_sample(text, "rewards_awards_total", kind="purchase"))
        requests.append(_sample(text, "rewards_requests_total"))
    assert awards == [before + hooks] * 10, awards  # every worker's awards, in every scrape
    assert requests == sorted(requests), requests  # never backwards
    assert requests[0] >= hooks + 1


def test_workers_end_with_a_server_killed_with_sigkill_and_the_port_is_free_again(
    two_workers: tuple[str, subprocess.Popen[bytes]], tmp_path: Path, database: str
) -> None:
    url, serve = two_workers
    (server,) = _children(serve.pid)  # python -m api.serving
    workers = _children(server)
    assert len(workers) >= 2, workers
    os.kill(server, signal.SIGKILL)
    _until_gone([server, *workers])
    assert serve.wait(timeout=20) != 0  # the server died: `rewards serve` says so
    port = int(url.rsplit(":", 1)[1])
    again = _serve(
        port,
        os.environ | {"DATABASE_URL": database},
        "--workers",
        "2",
        log=tmp_path / "again.log",
    )
    try:
        _wait_ready(url, again)
    finally:
        again.terminate()
        assert again.wait(timeout=30) == 0


def test_serve_killed_with_sigkill_leaves_only_the_database_and_starts_clean_again(
    tmp_path: Path,
) -> None:
    """kill -9 of `rewards serve` itself: its server and workers end with it; the embedded
    PostgreSQL, a server of its own, goes on. The next `rewards serve` on the same folder
    and port starts cleanly, and stops the database when it is stopped."""
    data = tmp_path / "data"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    args = ["--data-dir", str(data), "--workers", "2"]
    first = _serve(port, env, *args, log=tmp_path / "first.log")
    try:
        _wait_ready(url, first, seconds=120)
        (server,) = _children(first.pid)
        workers = _children(server)
        first.kill()
        first.wait(timeout=10)
        _until_gone([server, *workers])
        assert _postgres_of(data), "the embedded PostgreSQL was expected to outlive kill -9"
    finally:
        if first.poll() is None:
            first.kill()
    second = _serve(port, env, *args, log=tmp_path / "second.log")
    try:
        _wait_ready(url, second, seconds=120)
        second.terminate()
        assert second.wait(timeout=60) == 0
    finally:
        if second.poll() is None:
            second.kill()
    deadline = time.monotonic() + 15
    while _postgres_of(data) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _postgres_of(data) == []


def test_the_replica_is_read_from_the_name_the_readme_gives(database: str) -> None:
    """DATABASE_REPLICA_URL, as documented (REWARDS_DATABASE_REPLICA_URL works too)."""
    script = "from api.settings import Settings; print(Settings().database_replica_url)"
    for name in ("DATABASE_REPLICA_URL", "REWARDS_DATABASE_REPLICA_URL"):
        env = {k: v for k, v in os.environ.items() if "REPLICA" not in k}
        env[name] = database
        shown = subprocess.run(
            [*_rewards()[:1], "-c", script],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=30,
        )
        assert shown.stdout.strip() == database
