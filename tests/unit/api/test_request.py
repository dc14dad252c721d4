"""Strict body decoding: malformed JSON, wrong types, unknown fields."""

from __future__ import annotations

import pytest

from api.dto.admin import MerchantCreate
from api.dto.common import HookTransaction
from api.request import decode_strict
from rewards.core.errors import Malformed, ValidationFailed
from tests.dates import PURCHASE_AT, iso


def test_malformed_json_is_a_malformed_request() -> None:
    with pytest.raises(Malformed):
        decode_strict(b'{"name": ', MerchantCreate)
    with pytest.raises(Malformed):
        decode_strict(b"", MerchantCreate)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"name": 5, "category": "fuel"}', "name"),
        (b'{"name": "x", "category": "fuel", "colour": "red"}', "colour"),
        (b'{"category": "fuel"}', "name"),
        (b'{"name": "", "category": "fuel"}', "name"),
        (b'{"name": "x", "category": "fuel", "id": "bad id"}', "id"),
    ],
)
def test_bad_values_name_the_field(body: bytes, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        decode_strict(body, MerchantCreate)
    assert caught.value.errors[0][0] == field


# Any time with an offset: decoding does not look at the calendar.
WHEN = iso(PURCHASE_AT).encode()


def test_numbers_in_strings_are_not_coerced() -> None:
    body = (
        b'{"id":"t","kind":"purchase","member_id":"m","amount_minor":"35000","currency":"CNY",'
        b'"occurred_at":"' + WHEN + b'"}'
    )
    with pytest.raises(ValidationFailed) as caught:
        decode_strict(body, HookTransaction)
    assert caught.value.errors[0][0] == "amount_minor"


def test_timestamps_without_offset_are_refused() -> None:
    body = (
        b'{"id":"t","kind":"purchase","member_id":"m","amount_minor":1,"currency":"CNY",'
        b'"occurred_at":"' + WHEN[:19] + b'"}'
    )
    with pytest.raises(ValidationFailed):
        decode_strict(body, HookTransaction)


def test_nested_fields_are_named_by_path() -> None:
    body = (
        b'{"id":"t","kind":"purchase","member_id":"m","amount_minor":1,"currency":"CNY",'
        b'"occurred_at":"' + WHEN + b'","location":{"lat":91,"lng":0}}'
    )
    with pytest.raises(ValidationFailed) as caught:
        decode_strict(body, HookTransaction)
    assert caught.value.errors[0][0] == "location.lat"
