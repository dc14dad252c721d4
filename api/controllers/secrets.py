"""Rotation of a tenant's secrets by its operator (/v1/admin/…-secret/rotate).

Each makes a new secret, shown once, and keeps the previous one valid for the overlap asked
for (``?overlap_hours=``, 24 by default): hooks and member tokens signed with either are
accepted, and events carry a signature made with each.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from litestar import Controller, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.auth import Admin, admin_guard
from api.deps import DbConn
from api.dto.admin import EventSecretRotated, HookSecretRotated, MemberSecretRotated
from rewards.tenants import service as tenants

Overlap = Annotated[
    float,
    QueryParameter(
        name="overlap_hours",
        ge=0,
        le=720,
        description="Hours the previous secret stays valid (0 ends it at once).",
    ),
]


async def _rotate(
    conn: DbConn, caller: Admin, kind: str, overlap_hours: float, state: State
) -> tuple[str, datetime]:
    overlap = timedelta(hours=overlap_hours)
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
        overlap_hours: Overlap = 24,
    ) -> HookSecretRotated:
        return HookSecretRotated(*await _rotate(conn, caller, "hook", overlap_hours, state))

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
        overlap_hours: Overlap = 24,
    ) -> MemberSecretRotated:
        return MemberSecretRotated(*await _rotate(conn, caller, "member", overlap_hours, state))

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
        overlap_hours: Overlap = 24,
    ) -> EventSecretRotated:
        return EventSecretRotated(*await _rotate(conn, caller, "event", overlap_hours, state))
