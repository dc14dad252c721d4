"""Rotation of a tenant's secrets by its operator (/v1/admin/…-secret/rotate).

Each makes a new secret, shown once, and keeps the previous one valid for the overlap asked
for (24 hours by default): hooks and member tokens signed with either are accepted, and
events carry a signature made with each.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar import Controller, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.auth import Admin, admin_guard
from api.deps import DbConn
from api.dto.admin import (
    EventSecretRotated,
    HookSecretRotated,
    MemberSecretRotated,
    SecretRotate,
)
from rewards.tenants import service as tenants


async def _rotate(
    conn: DbConn, caller: Admin, kind: str, data: SecretRotate | None, state: State
) -> tuple[str, datetime]:
    overlap = timedelta(hours=(data or SecretRotate()).overlap_hours)
    secret = await tenants.rotate_secret(conn, caller.tenant_id, kind, overlap, caller.actor)
    state.credentials.forget()
    return secret, datetime.now(UTC) + overlap


class SecretsController(Controller):
    path = "/v1/admin"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin"]  # noqa: RUF012

    @post(
        "/hook-secret/rotate",
        status_code=200,
        summary="A new hook secret (shown once); the previous one stays valid for the overlap",
    )
    async def rotate_hook_secret(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        state: State,
        data: JSONBody[SecretRotate | None] = None,
    ) -> HookSecretRotated:
        return HookSecretRotated(*await _rotate(conn, caller, "hook", data, state))

    @post(
        "/member-secret/rotate",
        status_code=200,
        summary="A new member-token secret (shown once); tokens signed with the previous "
        "one stay valid for the overlap",
    )
    async def rotate_member_secret(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        state: State,
        data: JSONBody[SecretRotate | None] = None,
    ) -> MemberSecretRotated:
        return MemberSecretRotated(*await _rotate(conn, caller, "member", data, state))

    @post(
        "/event-secret/rotate",
        status_code=200,
        summary="A new event signing secret (shown once); events carry a signature with "
        "the previous one too for the overlap",
    )
    async def rotate_event_secret(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        state: State,
        data: JSONBody[SecretRotate | None] = None,
    ) -> EventSecretRotated:
        return EventSecretRotated(*await _rotate(conn, caller, "event", data, state))
