"""A Request that decodes JSON bodies strictly into the handler's declared type.

Litestar's own conversion coerces strings to numbers; money and points must not be
guessed at, so bodies are decoded here with msgspec in strict mode, once, and the typed
value is handed to Litestar (which passes instances of the target type through).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import unquote_to_bytes

import msgspec
from litestar import Request
from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    Empty,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from rewards.core.errors import Malformed, ValidationFailed

_LOCATION = re.compile(r" - at (?:`key` in )?`\$(?P<path>[^`]*)`$")
_FIELD_IN_MESSAGE = re.compile(r"field `(?P<name>[^`]+)`")


@cache
def decoder_for(kind: Any) -> msgspec.json.Decoder[Any]:
    """One strict decoder per body type, built on first use."""
    return msgspec.json.Decoder(kind, strict=True)


def validation_error(exc: msgspec.ValidationError) -> ValidationFailed:
    """Turn msgspec's message (``Expected int, got str - at `$.x` ``) into a field error."""
    text = str(exc)
    match = _LOCATION.search(text)
    path = match["path"] if match else ""
    message = text[: match.start()] if match else text
    named = _FIELD_IN_MESSAGE.search(message)
    if named and ("unknown field" in message or "missing required field" in message):
        path = f"{path}.{named['name']}"
    field = path.lstrip(".") or "body"
    return ValidationFailed(f"{field}: {message}", errors=[(field, message)])


def decode_strict(body: bytes, kind: Any, *, check_text: bool = True) -> Any:
    """Decode ``body`` as ``kind``; raise typed problems for bad JSON or bad values.

    Text that PostgreSQL cannot store (NUL, or a lone UTF-16 surrogate) can only arrive as
    a ``\\u`` escape, so the body is searched for the text only when it has one.
    """
    if not body.strip():
        raise Malformed("the request body is empty; a JSON document is expected")
    try:
        value = decoder_for(kind).decode(body)
    except msgspec.ValidationError as exc:
        if "got `float`" not in str(exc):
            raise validation_error(exc) from None
        value = _decode_integral_floats(body, kind, exc)
    except msgspec.DecodeError as exc:
        raise Malformed(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise Malformed("the request body is nested too deeply") from None
    if check_text:
        refuse_duplicate_keys(body)
        if b"\\u" in body:
            refuse_unstorable_text(msgspec.json.decode(body))
    return value


def _exact(value: Any) -> Any:
    """JSON numbers as JSON Schema reads them: ``2.0`` and ``2e3`` are the integers 2 and
    2000. Read as decimals first, so no digit is lost to binary floating point."""
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, dict):
        return {key: _exact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_exact(item) for item in value]
    return value


def _decode_integral_floats(body: bytes, kind: Any, first: msgspec.ValidationError) -> Any:
    """Decode again a body that gave an integer field a number written with a fraction or
    an exponent; a number that is not a whole number still fails as it did."""
    try:
        plain = _exact(json.loads(body, parse_float=Decimal))
        return decoder_for(kind).decode(msgspec.json.encode(plain))
    except msgspec.ValidationError as exc:
        raise validation_error(exc) from None
    except (ValueError, RecursionError):
        raise validation_error(first) from None


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        keys = [key for key, _ in pairs]
        twice = next(key for key in keys if keys.count(key) > 1)
        raise Malformed(f"the key {twice!r} appears twice in one object")
    return found


def refuse_duplicate_keys(body: bytes) -> None:
    """Refuse (400) an object that names a key twice: parsers disagree on which value wins
    (the first, the last), so the processor and the engine could read different amounts."""
    try:
        json.loads(body, object_pairs_hook=_pairs)
    except (ValueError, RecursionError):
        raise Malformed("the request body is not valid JSON") from None


def _unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return True
    return False


def refuse_unstorable_text(value: Any, path: str = "") -> None:
    """Raise a 422 naming the first string (key or value) that holds NUL or a lone
    surrogate: PostgreSQL stores neither, and a stored copy would differ from what came."""
    if isinstance(value, str):
        if _unstorable(value):
            field = path.lstrip(".") or "body"
            raise ValidationFailed(
                f"{field}: text must not contain NUL or lone surrogates",
                errors=[(field, "must not contain NUL or lone surrogates")],
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_unstorable_text(key, path)
            refuse_unstorable_text(item, f"{path}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            refuse_unstorable_text(item, f"{path}[{n}]")


class StrictRequest(Request[Any, Any, Any]):
    """Request whose ``json()`` yields the handler's ``data`` type, decoded strictly."""

    async def json(self) -> Any:
        if self._json is not Empty:
            return self._json
        field = self.route_handler.parsed_data_field
        kind = field.annotation if field is not None else Any
        alone = getattr(kind, "items_decoded_alone", False)
        self._json = decode_strict(await self.body(), kind, check_text=not alone)
        return self._json


class RefuseUnstorableUrl:
    """ASGI middleware: a path or query that holds NUL or bytes that are not UTF-8 is a 400
    before any route sees it (such text would reach PostgreSQL, which refuses it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and not _storable_url(scope):
            await _bad_url(scope, send)
            return
        await self.app(scope, receive, send)


def _storable_url(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    query = unquote_to_bytes(scope.get("query_string", b""))
    if "\x00" in path or b"\x00" in query:
        return False
    try:
        path.encode("utf-8")
        query.decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return True


async def _bad_url(scope: Scope, send: Send) -> None:
    request_id = (scope.get("state") or {}).get("request_id")
    body = msgspec.json.encode(
        {
            "type": "malformed_request",
            "title": "Malformed request",
            "status": 400,
            "detail": "the path or query holds NUL or bytes that are not UTF-8",
            "request_id": request_id,
        }
    )
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 400,
        "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    await send(start)
    done: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(done)


_PARAMETER = re.compile(r"\{[^}:]+:(?P<kind>[^}]+)\}")


def _route_pattern(path: str) -> re.Pattern[str]:
    parts = []
    last = 0
    for match in _PARAMETER.finditer(path):
        parts.append(re.escape(path[last : match.start()]))
        parts.append(".*" if match["kind"] == "path" else "[^/]+")
        last = match.end()
    parts.append(re.escape(path[last:]))
    return re.compile("".join(parts) + r"\Z")


class AllowHeader:
    """ASGI middleware: a 405, and the answer to OPTIONS, carry ``Allow`` with every method
    of the path, from the application's own routes (RFC 9110 §15.5.6)."""

    def __init__(self, app: ASGIApp, routes: list[tuple[str, set[str]]]) -> None:
        self.app = app
        self.routes = [
            (_route_pattern(path), len(_PARAMETER.findall(path)), methods)
            for path, methods in routes
        ]

    def allowed(self, path: str) -> bytes | None:
        """The methods of the route the router picks for ``path``: a literal segment wins
        over a parameter (``/transactions/simulate`` over ``/transactions/{id}``)."""
        matches = [
            (params, methods) for pattern, params, methods in self.routes if pattern.match(path)
        ]
        if not matches:
            return None
        fewest = min(params for params, _ in matches)
        methods = {"OPTIONS"}.union(*(m for params, m in matches if params == fewest))
        return ", ".join(sorted(methods)).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        options = scope["method"] == "OPTIONS"

        async def send_with_allow(message: Any) -> None:
            if message["type"] == "http.response.start" and (
                message["status"] == 405 or (options and message["status"] < 300)
            ):
                allow = self.allowed(scope["path"])
                if allow is not None:
                    headers = [
                        (k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"
                    ]
                    message = {**message, "headers": [*headers, (b"allow", allow)]}
            await send(message)

        await self.app(scope, receive, send_with_allow)
