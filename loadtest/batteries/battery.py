"""The API battery: schemathesis over every operation of the OpenAPI document, against a
real `rewards serve`, with each caller's credentials and the hooks signed.

    python -m loadtest.batteries.battery                # long form: 200 examples per operation
    python -m loadtest.batteries.battery --examples 25  # the bounded form CI runs

It starts its own server (on DATABASE_URL when set, else an embedded PostgreSQL in a
temporary folder), creates a tenant and a merchant, runs `schemathesis run` with every check
and exits with its status: any 5xx, any answer the document does not describe, any valid
request refused or invalid one accepted fails the run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from loadtest.batteries.battery_hooks import REFERRAL, REFERRER, UNSIGNED
from loadtest.wire import free_port, wait_ready
from rewards.core.credentials import encode_member_token

# The checker's settings. The operations listed at the end answer 422 to some requests
# that the document calls valid, as API.md says they do, for reasons of state that no
# schema carries: a redemption of an item that is not on sale now, out of stock or past a
# limit (`409` or `422`); a refund of a purchase that is unknown, another member's, or
# already refunded (`unknown_original`, `refund_not_allowed`); a referral code used after
# the member's first purchase, or a second one (`referral_too_late`,
# `referral_already_set`). Every other check stays on for them, and every other operation
# keeps the default.
STATE_REFUSED = '["2xx", "3xx", "401", "403", "404", "409", "422", "429"]'
CONFIG = f"""\
[auth.openapi.AdminKey]
bearer = "${{BATTERY_ADMIN_KEY}}"

[auth.openapi.MerchantKey]
bearer = "${{BATTERY_MERCHANT_KEY}}"

[auth.openapi.MemberToken]
bearer = "${{BATTERY_MEMBER_TOKEN}}"

[auth.openapi.HookTenant]
api_key = "${{BATTERY_TENANT_ID}}"

[auth.openapi.HookSignature]
api_key = "{UNSIGNED}"

[[operations]]
include-path = "/v1/me/redemptions"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = {STATE_REFUSED}

[[operations]]
include-path-regex = "^/v1/(hooks/transactions|admin/transactions/simulate)$"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = {STATE_REFUSED}

[[operations]]
include-path-regex = "^/v1/(admin/members/[{{]member_id[}}]|me/referral/apply)$"
checks.positive_data_acceptance.expected-statuses = {STATE_REFUSED}

# A report as of a day still to come is refused: whether a day has come is the clock's to
# say, not the schema's.
[[operations]]
include-path = "/v1/admin/reports/breakage"
checks.positive_data_acceptance.expected-statuses = {STATE_REFUSED}

# Rotating the secrets would end the battery's own credentials halfway (the hook secret it
# signs with, the member token it sends): tests/integration/test_secrets.py covers them.
[[operations]]
include-path-regex = "^/v1/admin/(hook|member|event)-secret/rotate$"
enabled = false
"""


def run(examples: int, workers: int, folder: Path, database_url: str | None) -> int:
    env = dict(os.environ, REWARDS_ACCESS_LOG="false", REWARDS_DELIVER_EVENTS="false")
    if database_url:
        env["DATABASE_URL"] = database_url
    data_dir = ["--data-dir", str(folder / "data")] if not database_url else []
    rewards = [sys.executable, "-m", "api.cli"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (folder / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [*rewards, "serve", "--port", str(port), "--workers", "2", *data_dir],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_ready(url, server)
        created = subprocess.run(
            [*rewards, "tenant", "create", "--name", "Battery bank", "--json", *data_dir],
            env=env,
            capture_output=True,
            check=True,
            timeout=60,
        )
        tenant = json.loads(created.stdout)
        merchant = httpx.post(
            f"{url}/v1/admin/merchants",
            json={"id": "battery-shop", "name": "Battery shop", "category": "fuel"},
            headers={"Authorization": f"Bearer {tenant['admin_api_key']}"},
        )
        merchant.raise_for_status()
        admin = {"Authorization": f"Bearer {tenant['admin_api_key']}"}
        httpx.patch(
            f"{url}/v1/admin/program", json={"referral": REFERRAL}, headers=admin
        ).raise_for_status()

        def token(member: str) -> str:
            return encode_member_token(
                tenant["member_token_secret"],
                sub=member,
                tid=tenant["tenant_id"],
                exp=int(time.time()) + 86_400,
            )

        referrer = httpx.get(
            f"{url}/v1/me/referral", headers={"Authorization": f"Bearer {token(REFERRER)}"}
        )
        referrer.raise_for_status()
        config = folder / "schemathesis.toml"
        config.write_text(CONFIG)
        checker_env = env | {
            "SCHEMATHESIS_HOOKS": "loadtest.batteries.battery_hooks",
            "BATTERY_ADMIN_KEY": tenant["admin_api_key"],
            "BATTERY_MERCHANT_KEY": merchant.json()["api_key"],
            "BATTERY_MEMBER_TOKEN": token("m-battery"),
            "BATTERY_REFERRAL_CODE": referrer.json()["code"],
            "BATTERY_TENANT_ID": tenant["tenant_id"],
            "BATTERY_HOOK_SECRET": tenant["hook_secret"],
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(config),
            "run",
            f"{url}/schema/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            str(examples),
            "--workers",
            str(workers),
            "--seed",
            "1",
            "--no-color",
        ]
        print("$", " ".join(command), flush=True)
        return subprocess.run(command, env=checker_env, check=False).returncode
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200, help="per operation and phase")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rewards-battery-") as folder:
        sys.exit(run(args.examples, args.workers, Path(folder), args.database_url))


if __name__ == "__main__":
    main()
