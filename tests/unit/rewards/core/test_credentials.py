"""Member tokens, hook signatures and API keys, without a database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewards.core.credentials import (
    encode_member_token,
    hash_api_key,
    hook_signature,
    new_api_key,
    parse_api_key,
    token_tenant,
    verify_hook_signature,
    verify_member_token,
)
from rewards.core.errors import Unauthenticated

NOW = 1_800_000_000
SECRET = "s" * 64


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forge(header: dict[str, object], claims: dict[str, object], secret: str = SECRET) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    sig = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(sig)}"


def test_a_signed_member_token_verifies_to_its_claims() -> None:
    token = encode_member_token(SECRET, sub="m-42", tid="bank-a", exp=NOW + 60)
    claims = verify_member_token(token, SECRET, now=NOW)
    assert (claims.sub, claims.tid, claims.exp) == ("m-42", "bank-a", NOW + 60)
    assert token_tenant(token) == "bank-a"


@pytest.mark.parametrize(
    ("header", "claims", "secret", "reason"),
    [
        ({"alg": "none"}, {"sub": "m", "tid": "t", "exp": NOW + 60}, SECRET, "HS256"),
        ({"alg": "HS512"}, {"sub": "m", "tid": "t", "exp": NOW + 60}, SECRET, "HS256"),
        ({"alg": "RS256"}, {"sub": "m", "tid": "t", "exp": NOW + 60}, SECRET, "HS256"),
        ({"alg": "HS256"}, {"sub": "m", "tid": "t", "exp": NOW + 60}, "x" * 64, "signature"),
        ({"alg": "HS256"}, {"sub": "m", "tid": "t", "exp": NOW - 1}, SECRET, "expired"),
        ({"alg": "HS256"}, {"sub": "m", "tid": "t"}, SECRET, "exp"),
        ({"alg": "HS256"}, {"tid": "t", "exp": NOW + 60}, SECRET, "sub"),
        ({"alg": "HS256"}, {"sub": "m", "exp": NOW + 60}, SECRET, "tid"),
        ({"alg": "HS256"}, {"sub": "bad id!", "tid": "t", "exp": NOW + 60}, SECRET, "sub"),
        (
            {"alg": "HS256"},
            {"sub": "m", "tid": "t", "exp": NOW + 60, "nbf": NOW + 30},
            SECRET,
            "yet",
        ),
    ],
)
def test_member_tokens_that_must_be_refused(
    header: dict[str, object], claims: dict[str, object], secret: str, reason: str
) -> None:
    token = forge(header, claims, secret)
    with pytest.raises(Unauthenticated, match=reason):
        verify_member_token(token, SECRET, now=NOW)


def test_an_unsigned_token_with_alg_none_and_empty_signature_is_refused() -> None:
    header = b64(b'{"alg":"none"}')
    claims = b64(b'{"sub":"m","tid":"t","exp":9999999999}')
    token = f"{header}.{claims}."
    with pytest.raises(Unauthenticated):
        verify_member_token(token, SECRET, now=NOW)


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!!.???.###", "e30.e30.e30"])
def test_garbage_tokens_are_refused(token: str) -> None:
    with pytest.raises(Unauthenticated):
        token_tenant(token)
    with pytest.raises(Unauthenticated):
        verify_member_token(token, SECRET, now=NOW)


def test_a_hook_signature_verifies_over_the_raw_body() -> None:
    body = b'{"id":"txn-1"}'
    header = hook_signature(SECRET, NOW, body)
    verify_hook_signature(header, body, [SECRET], now=NOW)
    with pytest.raises(Unauthenticated):
        verify_hook_signature(header, body + b" ", [SECRET], now=NOW)


@pytest.mark.parametrize("skew", [-301, 301, -10_000, 10_000])
def test_hook_signatures_older_or_newer_than_300_seconds_are_refused(skew: int) -> None:
    body = b"{}"
    header = hook_signature(SECRET, NOW + skew, body)
    with pytest.raises(Unauthenticated, match="300"):
        verify_hook_signature(header, body, [SECRET], now=NOW)


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_hook_signatures_within_300_seconds_are_accepted(skew: int) -> None:
    body = b"{}"
    verify_hook_signature(hook_signature(SECRET, NOW + skew, body), body, [SECRET], now=NOW)


def test_either_of_two_active_hook_secrets_is_accepted() -> None:
    body = b"{}"
    old, new = "o" * 64, "n" * 64
    for secret in (old, new):
        verify_hook_signature(hook_signature(secret, NOW, body), body, [new, old], now=NOW)
    with pytest.raises(Unauthenticated):
        verify_hook_signature(hook_signature("z" * 64, NOW, body), body, [new, old], now=NOW)


@pytest.mark.parametrize(
    "header", [None, "", "v1=abc", "t=abc,v1=00", "t=1800000000", "garbage", "t=1,t=2,v1=00"]
)
def test_malformed_signature_headers_are_refused(header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        verify_hook_signature(header, b"{}", [SECRET], now=NOW)


@given(st.text(alphabet="abcdefghij0123456789._:-", min_size=1, max_size=64))
def test_api_keys_name_their_tenant(tenant_id: str) -> None:
    key = new_api_key("radm", tenant_id)
    assert parse_api_key(key).tenant_id == tenant_id
    assert hash_api_key(key) != hash_api_key(key + "x")


@pytest.mark.parametrize("key", ["", "radm", "radm.", "xxxx.t.secret", "radm..secret", "radm.t."])
def test_keys_of_the_wrong_shape_are_refused(key: str) -> None:
    with pytest.raises(Unauthenticated):
        parse_api_key(key)
