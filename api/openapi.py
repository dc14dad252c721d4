"""The OpenAPI document's error responses: every operation answers problem+json."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import msgspec
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    RequestBody,
    Schema,
)

from api.problems import HTTP_TYPES
from rewards.core.errors import RewardsError
from rewards.core.program import time_zones

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
    "400": "Malformed: a body that is not JSON, or a path or query with NUL or non-UTF-8 bytes",
    "404": "No such route, or no such resource in your tenant",
    "422": "Invalid values: wrong types, out of range, unknown fields (see errors)",
    "500": "A bug: the body carries a request_id, the log the trace",
}
_AUTHENTICATED = {
    "401": "Missing or invalid credentials",
    "403": "Valid credentials without the right to this call",
}
_UNAVAILABLE = {"503": "The database is not reachable right now; retry after Retry-After"}
_MEMBER = {"429": "Too many requests from this member; retry after Retry-After"}
_WRITES = {
    "408": "The body did not arrive in time (REWARDS_BODY_TIMEOUT_SECONDS)",
    "409": "Conflict with the current state (idempotency, stock, limits, …)",
    "413": "The body is larger than this endpoint accepts",
}


#: Bodies streamed into a job, line by line: the framework sees no body type to describe.
_UPLOADS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("/v1/admin/imports/members", "post"): (
        "Members, one a line: NDJSON objects {member_id, tier, segments, card_products, "
        "status, spend_12m_minor, referred_by, opening_lots: [{points, earned_at, "
        "expires_at}]} (all but member_id optional), or CSV under a header naming those "
        "columns (lists separated by ';', a lot as points/earned_at/expires_at). Any size: "
        "streamed to the job as it arrives.",
        ("application/x-ndjson", "text/csv"),
    ),
    ("/v1/admin/segments/{segment_id}/members", "put"): (
        "Member ids, one a line (a first line member_id is a header). Any size.",
        ("text/plain", "text/csv"),
    ),
    ("/v1/admin/exclusions/{list_id}/entries", "put"): (
        "Entries, one a line: merchant ids, acquirer ids or parts of merchant names, as the "
        "list matches (a first line value is a header). Any size.",
        ("text/plain", "text/csv"),
    ),
}


def _upload_body(description: str, media_types: tuple[str, ...]) -> RequestBody:
    """Lines of text: any bytes are taken as they come (a bad line is reported by the job,
    line by line), so the body has no schema to hold a client to."""
    return RequestBody(
        description=description,
        required=True,
        content={media_type: OpenAPIMediaType() for media_type in media_types},
    )


def _problem(code: str, description: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={
            "application/problem+json": OpenAPIMediaType(
                schema=Reference(ref=f"#/components/schemas/Problem{code}")
            )
        },
    )


def _subclasses(kind: type[RewardsError]) -> list[type[RewardsError]]:
    found = [kind]
    for sub in kind.__subclasses__():
        found += _subclasses(sub)
    return found


def problem_types() -> dict[str, list[str]]:
    """Every problem ``type`` the service answers, by status: each typed business error
    (all of them are imported once the application is built), the framework's own refusals,
    and the shell's."""
    by_status: dict[str, set[str]] = {}
    for error in _subclasses(RewardsError):
        by_status.setdefault(str(error.status), set()).add(error.type)
    for status, (type_, _) in HTTP_TYPES.items():
        by_status.setdefault(str(status), set()).add(type_)
    by_status.setdefault("500", set()).add("internal_error")
    by_status.setdefault("503", set()).add("service_unavailable")
    return {status: sorted(types) for status, types in by_status.items()}


def _typed_problems(types: dict[str, list[str]]) -> dict[str, Any]:
    """One schema per status: the problem document, with the types that status carries."""
    return {
        f"Problem{status}": {
            "allOf": [{"$ref": "#/components/schemas/Problem"}],
            "properties": {"type": {"enum": names}},
            "description": f"A {status} problem; `type` is one of these stable codes.",
        }
        for status, names in types.items()
    }


def _when(field: str, value: str, then: dict[str, Any]) -> dict[str, Any]:
    return {"if": {"required": [field], "properties": {field: {"const": value}}}, "then": then}


def _needs(*fields: str) -> dict[str, Any]:
    return {"required": list(fields), "properties": {f: {"not": {"type": "null"}} for f in fields}}


# Rules between fields of one body, which a field's own schema cannot say.
_ACROSS_FIELDS: dict[str, dict[str, Any]] = {
    "CatalogItemIn": {
        "allOf": [
            {
                "anyOf": [
                    {"properties": {"points_price": {"minimum": 1}}},
                    {
                        "required": ["cash_price_minor"],
                        "properties": {"cash_price_minor": {"minimum": 1}},
                    },
                ],
            },
            _when(
                "fulfilment",
                "pool",
                {
                    "required": ["codes"],
                    "properties": {"codes": {"minItems": 1}, "stock": {"type": "null"}},
                },
            ),
            {
                "if": {"not": _when("fulfilment", "pool", {})["if"]},
                "then": {"properties": {"codes": {"maxItems": 0}}},
            },
        ],
        "description": "An item has a points price, a cash price, or both. A pool item's "
        "stock is its codes, uploaded with it; other items take no codes.",
    },
    "HookTransaction": {
        "allOf": [
            _when("kind", "purchase", _needs("amount_minor")),
            _when("kind", "refund", _needs("amount_minor", "original_id")),
            _when("kind", "reversal", _needs("original_id")),
        ],
        "description": "A purchase has an amount; a refund has an amount and the purchase "
        "it refunds; a reversal names the purchase it voids.",
    },
}

# Strings with no pattern of their own: PostgreSQL stores no NUL, so none is taken.
_NO_NUL = "^[^\\x00]*$"


# Times in requests name the years 1900 to 9899 (see api.dto.common.EARLIEST_YEAR).
_YEARS = "^(19[0-9]{2}|[2-8][0-9]{3}|9[0-8][0-9]{2})-"


def _refuse_unstorable(schema: Any) -> None:
    """Say in each string's schema what the service refuses of any text: NUL, and times
    outside the years it stores."""
    if isinstance(schema, list):
        for item in schema:
            _refuse_unstorable(item)
    elif isinstance(schema, dict):
        if schema.get("type") == "string" and not {"pattern", "enum", "format", "$ref"} & set(
            schema
        ):
            schema["pattern"] = _NO_NUL
        if schema.get("format") == "date-time" and "pattern" not in schema:
            schema["pattern"] = _YEARS
        for value in schema.values():
            _refuse_unstorable(value)


def wire_schemas(modules: list[ModuleType]) -> dict[str, Any]:
    """The JSON Schemas of every wire type in ``modules`` as msgspec decodes them: patterns,
    lengths, ranges and enums down to list items and map keys, and no unknown fields where
    the type refuses them. The framework's own rendering drops constraints nested in lists."""
    types = {
        value.__name__: value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, msgspec.Struct)
    }
    _, components = msgspec.json.schema_components(
        list(types.values()),
        ref_template="#/components/schemas/{name}",
    )
    components["TimeZone"] = {"type": "string", "enum": sorted(time_zones())}
    _refuse_unstorable(components)
    for name, extra in _ACROSS_FIELDS.items():
        if name in components:
            components[name] = components[name] | extra
    return components


def document_problems(document: OpenAPI, wire: dict[str, Any] | None = None) -> OpenAPI:
    """Replace the framework's default error response with the problem+json ones this
    service answers, and its body schemas with the exact ones in ``wire``."""
    if document.components is not None:
        schemas = document.components.schemas if document.components.schemas is not None else {}
        schemas.update(wire or {})
        schemas["Problem"] = PROBLEM_SCHEMA
        schemas.update(_typed_problems(problem_types()))
        document.components.schemas = schemas
    metrics = (document.paths or {}).get("/metrics")
    if metrics is not None and metrics.get is not None and metrics.get.responses:
        metrics.get.responses["200"] = OpenAPIResponse(
            description="Prometheus text exposition format",
            content={"text/plain": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
        )
    for path, item in (document.paths or {}).items():
        authenticated = path.startswith("/v1/")
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is None or operation.responses is None:
                continue
            codes = dict(_COMMON)
            if authenticated:
                codes |= _AUTHENTICATED | _UNAVAILABLE
            if path.startswith("/v1/me"):
                codes |= _MEMBER
            if method in ("post", "put", "patch"):
                codes |= _WRITES
            if method == "delete":
                codes["409"] = _WRITES["409"]
            upload = _UPLOADS.get((path, method))
            if upload is not None:
                operation.request_body = _upload_body(*upload)
                codes["415"] = "The body is not in one of the media types this endpoint takes"
            operation.responses.pop("400", None)
            for code, description in sorted(codes.items()):
                operation.responses.setdefault(code, _problem(code, description))
    return document
