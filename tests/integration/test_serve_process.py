"""`rewards serve` as a real process on a free port, called over a socket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from loadtest.wire import free_port, wait_ready

# The helpers the other process tests import from here.
_free_port = free_port
_wait_ready = wait_ready


def _rewards() -> list[str]:
    return [sys.executable, "-m", "api.cli"]


@pytest.fixture
def served_demo(tmp_path: Path, database: str) -> tuple[str, str]:
    """`rewards serve --demo --workers 2` over the test database; (base url, printed text)."""
    port = _free_port()
    out = tmp_path / "serve.out"
    env = os.environ | {"DATABASE_URL": database}
    with out.open("wb") as sink, (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [*_rewards(), "serve", "--demo", "--port", str(port), "--workers", "2"],
            stdout=sink,
            stderr=log,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield url, out.read_text()
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_printed_example_calls_work_when_pasted(
    served_demo: tuple[str, str], tmp_path: Path
) -> None:
    _, printed = served_demo
    calls = printed[printed.index("export REWARDS=") :]
    script = tmp_path / "calls.sh"
    script.write_text("set -euo pipefail\n" + calls.replace("curl -s ", "curl -sf "))
    result = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"transaction_id":"txn-demo-' in result.stdout
    assert '"member_id":"m-42"' in result.stdout
    assert '"id":"shell-futian"' in result.stdout
    assert '"distance_m":' in result.stdout  # offers near the Futian corner
    assert '"offers_applied":[{"offer_id":"fuel-88","reward_minor":4200' in result.stdout
    assert '"sku":"youku-vip-month"' in result.stdout
    assert '"referral":300' in result.stdout  # the referee's first purchase
    assert '"type":"device_limit"' in result.stdout  # the third member on the shared phone
    assert '"reason":"device_limit"' in result.stdout  # and its risk event


def test_the_served_api_answers_over_a_socket(served_demo: tuple[str, str]) -> None:
    url, _ = served_demo
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    doc = httpx.get(f"{url}/schema/openapi.json").json()
    assert "/v1/hooks/transactions" in doc["paths"]
    metrics = httpx.get(f"{url}/metrics")
    assert metrics.status_code == 200
    # Each worker exposes its own figures; the one answering has at least this request.
    assert "rewards_requests_in_progress" in metrics.text


def test_tenant_create_json_prints_exactly_one_json_object(database: str) -> None:
    result = subprocess.run(
        [*_rewards(), "tenant", "create", "--name", "Demo Bank", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"DATABASE_URL": database},
        check=True,
    )
    import json

    created = json.loads(result.stdout)
    assert set(created) == {
        "tenant_id",
        "admin_api_key",
        "hook_secret",
        "member_token_secret",
        "event_signing_secret",
    }


def test_serve_starts_the_embedded_database_when_no_url_is_given(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    process = subprocess.Popen(
        [*_rewards(), "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, seconds=90)
        assert (tmp_path / "data" / "pgdata" / "PG_VERSION").exists()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_runs_under_granian_too(tmp_path: Path, database: str) -> None:
    """`--server granian` serves the same application (docs/operations.md compares the two)."""
    port = _free_port()
    env = os.environ | {"DATABASE_URL": database}
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [*_rewards(), "serve", "--server", "granian", "--port", str(port), "--workers", "1"],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        missing = httpx.get(f"{url}/v1/nowhere", timeout=5)
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
    finally:
        process.terminate()
        process.wait(timeout=20)


def _postgres_of(data_dir: Path) -> list[int]:
    """Pids of PostgreSQL processes serving ``data_dir`` (Linux /proc)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "postgres" in cmdline and str(data_dir) in cmdline:
            found.append(int(proc.name))
    return found


@pytest.fixture(scope="module")
def embedded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedded data folder for the stop tests (initdb once, started and stopped often)."""
    return tmp_path_factory.mktemp("embedded") / "data"


@pytest.mark.parametrize(
    ("server", "workers", "demo", "stop"),
    [
        ("uvicorn", 1, False, signal.SIGTERM),
        ("uvicorn", 2, True, signal.SIGTERM),
        ("uvicorn", 1, False, signal.SIGINT),
        ("granian", 2, False, signal.SIGTERM),
    ],
)
def test_stopping_serve_stops_the_embedded_database(
    embedded_dir: Path, server: str, workers: int, demo: bool, stop: signal.Signals
) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    args = ["serve", "--port", str(port), "--data-dir", str(embedded_dir)]
    args += ["--server", server, "--workers", str(workers)] + (["--demo"] if demo else [])
    process = subprocess.Popen(
        [*_rewards(), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    try:
        _wait_ready(f"http://127.0.0.1:{port}", process, seconds=180)
        assert _postgres_of(embedded_dir), "the embedded server is not running"
        process.send_signal(stop)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    deadline = time.monotonic() + 10
    while _postgres_of(embedded_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _postgres_of(embedded_dir) == []
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
