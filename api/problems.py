"""RFC 9457 problem+json rendering for every error the service can answer with."""

from __future__ import annotations

import keyword
import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from db.pool import CONNECTION_LOST
from rewards.core.errors import RewardsError

_log = logging.getLogger("rewards.api")

PROBLEM_JSON = "application/problem+json"


class FieldError(msgspec.Struct):
    """One invalid field of a request."""

    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    request_id: str | None = None
    retry_after: int | None = None  # seconds, as in the Retry-After header (429, 503)


HTTP_TYPES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_error", "Validation failed"),
    429: ("too_many_requests", "Too many requests"),
}


def request_id_of(request: Request[Any, Any, Any]) -> str | None:
    """The id the access-log middleware gave this request."""
    state = request.scope.get("state") or {}
    value = state.get("request_id")
    return value if isinstance(value, str) else None


def problem(
    request: Request[Any, Any, Any],
    status: int,
    type_: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    """A problem+json response."""
    body = Problem(type_, title, status, detail, errors or None, request_id_of(request))
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _on_rewards_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    assert isinstance(exc, RewardsError)
    errors = [FieldError(f, m) for f, m in exc.errors]
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if getattr(exc, "close_connection", False):
        headers["Connection"] = "close"  # what is left of the request is not read
    response = problem(
        request, exc.status, exc.type, exc.title, exc.detail, errors, headers or None
    )
    if retry_after is not None:
        response.content.retry_after = retry_after
    return response


_MISSING = re.compile(r"Missing required (?:\w+ )?parameter '(?P<name>[^']+)'")


def _wire_name(key: str) -> str:
    """The name a client sent: a parameter named ``from_`` in Python is ``from`` on the wire."""
    if key.endswith("_") and keyword.iskeyword(key[:-1]):
        return key[:-1]
    return key


def _on_validation(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    assert isinstance(exc, ValidationException)
    errors: list[FieldError] = []
    if isinstance(exc.extra, list):
        for item in exc.extra:
            if isinstance(item, dict):
                field = _wire_name(str(item.get("key") or item.get("source") or ""))
                errors.append(FieldError(field, str(item.get("message", "invalid value"))))
    if any(e.field == "data" and e.message == "'data'" for e in errors):
        # No body at all where the handler takes one: as the whitespace-only body is.
        return problem(
            request,
            400,
            "malformed_request",
            "Malformed request",
            "the request body is empty; a JSON document is expected",
        )
    missing = _MISSING.search(str(exc.detail or ""))
    if not errors and missing:
        errors.append(FieldError(_wire_name(missing["name"]), "required"))
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "invalid request"
    return problem(request, 422, "validation_error", "Validation failed", detail, errors)


_CLEAN_DETAIL = re.compile(r"\s+")


def _on_http(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status >= 500:
        return _on_unhandled(request, exc)
    type_, title = HTTP_TYPES.get(status, ("http_error", "HTTP error"))
    detail = _CLEAN_DETAIL.sub(" ", str(exc.detail or title))
    if status == 404:
        detail = f"no route or resource at {request.url.path}"
    elif status == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    elif status == 413:
        detail = "the request body is larger than this endpoint accepts"
    return problem(request, status, type_, title, detail, headers=exc.headers)


def _on_unhandled(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    rid = request_id_of(request)
    _log.error(
        "unhandled error on %s %s (request %s)",
        request.method,
        request.url.path,
        rid,
        exc_info=exc,
    )
    return problem(
        request,
        500,
        "internal_error",
        "Internal server error",
        f"an unexpected error occurred; quote request id {rid} when reporting it",
    )


#: How long a client should wait before retrying while the database is away.
RETRY_AFTER_SECONDS = 1


def _on_database_away(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """The database cannot be reached (restarting, failing over, out of connections): a 503
    the client can retry, not a 500 that looks like a bug."""
    _log.warning(
        "database unavailable on %s %s (request %s): %s",
        request.method,
        request.url.path,
        request_id_of(request),
        type(exc).__name__,
    )
    return problem(
        request,
        503,
        "service_unavailable",
        "Service unavailable",
        "the database is not reachable right now; retry shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


#: What a lost, refused or shutting-down database connection raises.
DATABASE_AWAY = CONNECTION_LOST


def _on_group(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """Errors raised together (a handler's, and its dependencies' clean-up): a database
    that went away is a 503 however many places noticed; anything else is a bug."""
    assert isinstance(exc, ExceptionGroup)
    if all(isinstance(e, DATABASE_AWAY) for e in exc.exceptions):
        return _on_database_away(request, exc.exceptions[0])
    return _on_unhandled(request, exc)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ExceptionGroup: _on_group,
    **dict.fromkeys(DATABASE_AWAY, _on_database_away),
    RewardsError: _on_rewards_error,
    ValidationException: _on_validation,
    HTTPException: _on_http,
    Exception: _on_unhandled,
}
