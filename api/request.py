"""A Request that decodes JSON bodies strictly into the handler's declared type.

Litestar's own conversion coerces strings to numbers; money and points must not be
guessed at, so bodies are decoded here with msgspec in strict mode, once, and the typed
value is handed to Litestar (which passes instances of the target type through).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import msgspec
from litestar import Request
from litestar.types import Empty

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


def decode_strict(body: bytes, kind: Any) -> Any:
    """Decode ``body`` as ``kind``; raise typed problems for bad JSON or bad values."""
    if not body.strip():
        raise Malformed("the request body is empty; a JSON document is expected")
    try:
        return decoder_for(kind).decode(body)
    except msgspec.ValidationError as exc:
        raise validation_error(exc) from None
    except msgspec.DecodeError as exc:
        raise Malformed(f"the request body is not valid JSON: {exc}") from None


class StrictRequest(Request[Any, Any, Any]):
    """Request whose ``json()`` yields the handler's ``data`` type, decoded strictly."""

    async def json(self) -> Any:
        if self._json is not Empty:
            return self._json
        field = self.route_handler.parsed_data_field
        kind = field.annotation if field is not None else Any
        self._json = decode_strict(await self.body(), kind)
        return self._json
