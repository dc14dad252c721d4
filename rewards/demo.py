"""The demo tenant: a small card program with merchants, ready to call."""

from __future__ import annotations

import time

import msgspec

from db import merchants as merchant_db
from db import tenants as tenant_db
from db.types import Conn
from offers import merchants
from rewards.credentials import encode_member_token
from rewards.tenants import create_tenant, issue_admin_key

DEMO_TENANT_ID = "demo-bank"
DEMO_TENANT_NAME = "Demo Bank"
DEMO_MEMBER_ID = "m-42"

DEMO_MERCHANTS = [
    ("shell-futian", "Shell Futian", "fuel"),
    ("sinopec-nanshan", "Sinopec Nanshan", "fuel"),
    ("haidilao-futian", "Haidilao Futian", "dining"),
    ("starbucks-coco-park", "Starbucks COCO Park", "coffee"),
]


class DemoCredentials(msgspec.Struct, frozen=True):
    """What the demo prints: enough to call every API."""

    tenant_id: str
    admin_api_key: str
    merchant_id: str
    merchant_api_key: str
    hook_secret: str
    member_token_secret: str
    member_id: str
    member_token: str


async def create_or_refresh_demo(conn: Conn) -> DemoCredentials:
    """Create the demo tenant, or refresh it: a new admin key is issued either way (keys are
    stored hashed, so an old one cannot be shown again)."""
    secrets = await tenant_db.tenant_secrets(conn, DEMO_TENANT_ID)
    if secrets is None:
        created = await create_tenant(conn, DEMO_TENANT_NAME, DEMO_TENANT_ID)
        admin_key = created.admin_api_key
        secrets = await tenant_db.tenant_secrets(conn, DEMO_TENANT_ID)
        assert secrets is not None
    else:
        admin_key = await issue_admin_key(conn, DEMO_TENANT_ID, "demo refresh")
    for merchant_id, name, category in DEMO_MERCHANTS:
        if await merchant_db.get_merchant(conn, DEMO_TENANT_ID, merchant_id) is None:
            await merchants.create_merchant(
                conn, DEMO_TENANT_ID, "demo", merchant_id, name, category
            )
    merchant_key = await merchants.issue_merchant_key(
        conn, DEMO_TENANT_ID, DEMO_MERCHANTS[0][0], "demo"
    )
    token = encode_member_token(
        secrets.member_token_secret,
        sub=DEMO_MEMBER_ID,
        tid=DEMO_TENANT_ID,
        exp=int(time.time()) + 30 * 86400,
    )
    return DemoCredentials(
        tenant_id=DEMO_TENANT_ID,
        admin_api_key=admin_key,
        merchant_id=DEMO_MERCHANTS[0][0],
        merchant_api_key=merchant_key,
        hook_secret=secrets.hook_secrets[0],
        member_token_secret=secrets.member_token_secret,
        member_id=DEMO_MEMBER_ID,
        member_token=token,
    )
