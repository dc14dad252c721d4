"""Typed business errors, each with its HTTP status and RFC 9457 problem type."""

from __future__ import annotations

from typing import ClassVar


class RewardsError(Exception):
    """Root of every expected failure; rendered once as problem+json by the API."""

    status: ClassVar[int] = 400
    type: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, errors: list[tuple[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class Malformed(RewardsError):
    """The body is not valid JSON (or not JSON at all)."""

    status = 400
    type = "malformed_request"
    title = "Malformed request"


class UnsupportedMediaType(RewardsError):
    """The body is in a format this endpoint does not take."""

    status = 415
    type = "unsupported_media_type"
    title = "Unsupported media type"


class ValidationFailed(RewardsError):
    """The request is well-formed but its values are not acceptable."""

    status = 422
    type = "validation_error"
    title = "Validation failed"


class Unauthenticated(RewardsError):
    """Missing or invalid credentials."""

    status = 401
    type = "unauthorized"
    title = "Unauthorized"


class Forbidden(RewardsError):
    """Valid credentials without the right to this call."""

    status = 403
    type = "forbidden"
    title = "Forbidden"


class NotFound(RewardsError):
    """No such resource in this tenant (resources of other tenants are not found either)."""

    status = 404
    type = "not_found"
    title = "Not found"


class Conflict(RewardsError):
    """The request conflicts with the current state."""

    status = 409
    type = "conflict"
    title = "Conflict"


class IdempotencyConflict(Conflict):
    """The same idempotency key (or transaction id) arrived with a different body."""

    type = "idempotency_conflict"
    title = "Idempotency key reused with a different body"


class AlreadyExists(Conflict):
    """A resource with this id exists already."""

    type = "already_exists"
    title = "Already exists"
