"""Credentials of the four callers: API keys, member JWTs (HS256) and signed hooks.

Pure functions: no I/O, the current time is passed in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence

import msgspec

from rewards.core.errors import Unauthenticated

# `(?!\n)$`: Python's `$` also matches before a final newline ("m-1\n" would pass); the
# lookahead refuses it, and means the same in the ECMA dialect of the OpenAPI document.
ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}(?!\n)$"
_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def is_id(value: str) -> bool:
    """Whether ``value`` is a client-chosen id: the whole string, no trailing newline."""
    return _ID.fullmatch(value) is not None


ADMIN_KEY_PREFIX = "radm"
MERCHANT_KEY_PREFIX = "rmch"
HOOK_TOLERANCE_SECONDS = 300
# Longer than any header a processor sends (t, and up to four v1 signatures during a
# rotation); a longer one is refused before it is parsed.
SIGNATURE_HEADER_MAX = 512


def new_secret() -> str:
    """A fresh 256-bit secret as 64 hex characters."""
    return secrets.token_hex(32)


def new_api_key(prefix: str, tenant_id: str) -> str:
    """A new API key that names its tenant, so it can be looked up by (tenant, hash)."""
    return f"{prefix}.{tenant_id}.{secrets.token_urlsafe(32).replace('.', '')}"


def visible_prefix(key: str) -> str:
    """What lists show of a key: its kind, its tenant and the first four secret characters."""
    head, _, secret = key.rpartition(".")
    return f"{head}.{secret[:4]}"


class ApiKeyParts(msgspec.Struct, frozen=True):
    """What the visible part of an API key says."""

    prefix: str
    tenant_id: str


def parse_api_key(key: str) -> ApiKeyParts:
    """Split an API key into its prefix and tenant; raise if it has not the key's shape."""
    prefix, _, rest = key.partition(".")
    tenant_id, _, secret = rest.rpartition(".")
    if prefix not in (ADMIN_KEY_PREFIX, MERCHANT_KEY_PREFIX) or not secret or not is_id(tenant_id):
        raise Unauthenticated("the API key is not valid")
    return ApiKeyParts(prefix, tenant_id)


def hash_api_key(key: str) -> bytes:
    """What is stored of an API key: its SHA-256 (keys are random, so no salt is needed)."""
    return hashlib.sha256(key.encode()).digest()


# --- web sessions (merchant portal, operator console) -------------------------------------

SESSION_PREFIX = "rws"


def new_session_token(tenant_id: str) -> str:
    """A session token for a browser that signed in; it names its tenant, like an API key,
    so that it is looked up by (tenant, hash). Only its hash is stored."""
    return new_api_key(SESSION_PREFIX, tenant_id)


def session_tenant(token: str) -> str | None:
    """The tenant a session token names, or None when it has not a session token's shape."""
    prefix, _, rest = token.partition(".")
    tenant_id, _, secret = rest.rpartition(".")
    if prefix != SESSION_PREFIX or len(secret) < 32 or not is_id(tenant_id):
        return None
    return tenant_id


# --- member tokens (JWT, HS256 only) -------------------------------------------------------


class MemberClaims(msgspec.Struct, frozen=True):
    """The claims a member token must carry."""

    sub: str
    tid: str
    exp: int


class _Header(msgspec.Struct):
    alg: str
    typ: str | None = None


class _Claims(msgspec.Struct):
    sub: str | None = None
    tid: str | None = None
    exp: int | float | None = None
    nbf: int | float | None = None


_header_decoder = msgspec.json.Decoder(_Header)
_claims_decoder = msgspec.json.Decoder(_Claims)


def _b64url_decode(part: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", part):
        raise Unauthenticated("the token is not a valid JWT")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise Unauthenticated("the token is not a valid JWT") from None


def _b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def encode_member_token(secret: str, *, sub: str, tid: str, exp: int) -> str:
    """Sign a member token (used by the demo, the tests and integrators' examples)."""
    header = _b64url_encode(b'{"alg":"HS256","typ":"JWT"}')
    claims = _b64url_encode(msgspec.json.encode({"sub": sub, "tid": tid, "exp": exp}))
    signing_input = f"{header}.{claims}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{claims}.{_b64url_encode(signature)}"


def _split_token(token: str) -> tuple[str, str, str]:
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthenticated("the token is not a valid JWT")
    return parts[0], parts[1], parts[2]


def token_tenant(token: str) -> str:
    """The ``tid`` a token claims, read before its signature is checked (to find the secret)."""
    _, claims_b64, _ = _split_token(token)
    try:
        claims = _claims_decoder.decode(_b64url_decode(claims_b64))
    except msgspec.DecodeError:
        raise Unauthenticated("the token's claims are not valid") from None
    if claims.tid is None or not is_id(claims.tid):
        raise Unauthenticated("the token has no valid tid claim")
    return claims.tid


def verify_member_token(token: str, secret: str | Sequence[str], *, now: float) -> MemberClaims:
    """Check a member token's algorithm, signature (made with ``secret``, or any of the
    secrets accepted during a rotation's overlap), expiry and claims.

    Only HS256 is accepted: ``alg: none`` and every other algorithm are refused before the
    signature is looked at.
    """
    header_b64, claims_b64, signature_b64 = _split_token(token)
    try:
        header = _header_decoder.decode(_b64url_decode(header_b64))
    except msgspec.DecodeError:
        raise Unauthenticated("the token's header is not valid") from None
    if header.alg != "HS256":
        raise Unauthenticated("the token must be signed with HS256")
    signing_input = f"{header_b64}.{claims_b64}".encode()
    signature = _b64url_decode(signature_b64)
    keys = [secret] if isinstance(secret, str) else secret
    if not any(
        hmac.compare_digest(hmac.new(k.encode(), signing_input, hashlib.sha256).digest(), signature)
        for k in keys
    ):
        raise Unauthenticated("the token's signature is not valid")
    try:
        claims = _claims_decoder.decode(_b64url_decode(claims_b64))
    except msgspec.DecodeError:
        raise Unauthenticated("the token's claims are not valid") from None
    if claims.sub is None or not is_id(claims.sub):
        raise Unauthenticated("the token has no valid sub claim")
    if claims.tid is None or not is_id(claims.tid):
        raise Unauthenticated("the token has no valid tid claim")
    if claims.exp is None:
        raise Unauthenticated("the token has no exp claim")
    if claims.exp <= now:
        raise Unauthenticated("the token has expired")
    if claims.nbf is not None and claims.nbf > now:
        raise Unauthenticated("the token is not valid yet")
    return MemberClaims(sub=claims.sub, tid=claims.tid, exp=int(claims.exp))


# --- signed hooks ----------------------------------------------------------------------------


def hook_signature(secret: str | Sequence[str], timestamp: int, body: bytes) -> str:
    """The ``X-Rewards-Signature`` value for ``body`` sent at ``timestamp``: one ``v1`` per
    secret (during a rotation's overlap, events are signed with the new and the old)."""
    signed = f"{timestamp}.".encode() + body
    return f"t={timestamp}," + ",".join(
        f"v1={hmac.new(key.encode(), signed, hashlib.sha256).hexdigest()}"
        for key in ([secret] if isinstance(secret, str) else secret)
    )


def verify_hook_signature(
    header: str | None,
    body: bytes,
    secrets_: list[str],
    *,
    now: float,
    tolerance: int = HOOK_TOLERANCE_SECONDS,
) -> None:
    """Check a hook's signature over the raw body against any of the active secrets.

    Raises:
        Unauthenticated: missing or malformed header, stale or future timestamp, or no
            secret that produces the signature.
    """
    if not header:
        raise Unauthenticated("the X-Rewards-Signature header is missing")
    if len(header) > SIGNATURE_HEADER_MAX or not header.isascii():
        raise Unauthenticated("the X-Rewards-Signature header must be t=<unix seconds>,v1=<hex>")
    fields: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            fields.setdefault(key, []).append(value)
    stamps = fields.get("t", [])
    if (
        len(stamps) != 1
        or not stamps[0].isdigit()
        or len(stamps[0]) > 12
        or not fields.get("v1")
        or len(fields["v1"]) > 4
    ):
        raise Unauthenticated("the X-Rewards-Signature header must be t=<unix seconds>,v1=<hex>")
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        raise Unauthenticated(f"the signature's timestamp is more than {tolerance} s from now")
    signed = f"{timestamp}.".encode() + body
    for secret in secrets_:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        for candidate in fields["v1"]:
            if hmac.compare_digest(expected, candidate.lower()):
                return
    raise Unauthenticated("the hook signature is not valid")
