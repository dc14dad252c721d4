"""The OpenAPI document's error responses: every operation answers problem+json."""

from __future__ import annotations

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    description="RFC 9457 problem details. `type` is a stable code, e.g. out_of_stock.",
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            description="Validation errors, one per field.",
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["field", "message"],
                properties={
                    "field": Schema(type=OpenAPIType.STRING),
                    "message": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
        "request_id": Schema(type=OpenAPIType.STRING, description="Quote it when reporting."),
    },
)

_COMMON = {
    "404": "No such route, or no such resource in your tenant",
    "422": "Invalid values: wrong types, out of range, unknown fields (see errors)",
    "500": "A bug: the body carries a request_id, the log the trace",
}
_AUTHENTICATED = {
    "401": "Missing or invalid credentials",
    "403": "Valid credentials without the right to this call",
}
_WRITES = {
    "400": "The body is not JSON",
    "409": "Conflict with the current state (idempotency, stock, limits, …)",
    "413": "The body is larger than this endpoint accepts",
}


def _problem(description: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={
            "application/problem+json": OpenAPIMediaType(
                schema=Reference(ref="#/components/schemas/Problem")
            )
        },
    )


def document_problems(document: OpenAPI) -> OpenAPI:
    """Replace the framework's default error response with the problem+json ones this
    service answers."""
    if document.components is not None:
        schemas = document.components.schemas if document.components.schemas is not None else {}
        schemas["Problem"] = PROBLEM_SCHEMA
        document.components.schemas = schemas
    for path, item in (document.paths or {}).items():
        authenticated = path.startswith("/v1/")
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is None or operation.responses is None:
                continue
            codes = dict(_COMMON)
            if authenticated:
                codes |= _AUTHENTICATED
            if method in ("post", "put", "patch"):
                codes |= _WRITES
            operation.responses.pop("400", None)
            for code, description in sorted(codes.items()):
                operation.responses.setdefault(code, _problem(description))
    return document
