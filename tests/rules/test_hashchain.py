"""The canonical form the hash chains are computed over: every kind of value, and one published vector."""

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from products.choices import CustodyEvent
from products.rules.hashchain import GENESIS, canonical_json, canonical_value, digest, link_hash

PLUS_TWO = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        (None, None),
        (True, True),
        (0, 0),
        (-12, -12),
        ("text", "text"),
        ("Café ✓", "Café ✓"),
        (CustodyEvent.SHIPPED, "shipped"),  # an enum member as its plain value
        (datetime(2026, 1, 31, 9, 15, tzinfo=UTC), "2026-01-31T09:15:00.000000+00:00"),
        (datetime(2026, 1, 31, 11, 15, 0, 250, tzinfo=PLUS_TWO), "2026-01-31T09:15:00.000250+00:00"),
        (date(2026, 1, 31), "2026-01-31"),
        (Decimal("-150"), "-150"),
        (Decimal("-150.0"), "-150"),
        (Decimal("0.50"), "0.5"),
        (Decimal("-0.0"), "0"),
        (Decimal("1E+3"), "1000"),
        (Decimal("92.500000"), "92.5"),
        (Decimal("12345678901234567890.123456"), "12345678901234567890.123456"),
        ({"b": Decimal("1.0"), "a": [1, "x"]}, {"b": "1", "a": [1, "x"]}),
        ((1, 2), [1, 2]),
    ],
)
def test_canonical_values(value, canonical):
    assert canonical_value(value) == canonical
    assert type(canonical_value(value)) is type(canonical)


@pytest.mark.parametrize(
    "value", [1.5, datetime(2026, 1, 31, 9, 15), Decimal("NaN"), Decimal("Infinity"), object(), {1.0}]
)
def test_values_without_a_canonical_form_are_refused(value):
    with pytest.raises(TypeError):
        canonical_value(value)


def test_keys_are_sorted_without_whitespace_and_utf8_is_kept():
    assert canonical_json({"b": 1, "a": {"d": "é", "c": None}}) == '{"a":{"c":null,"d":"é"},"b":1}'.encode()


def test_a_row_hash_is_sha256_of_the_documented_form():
    # Anyone can check a row with sha256sum: this is the published vector of the README.
    row = {
        "seq": 1,
        "note": "Café",
        "at": datetime(2026, 1, 31, 9, 15, tzinfo=UTC),
        "temperature_c": Decimal("-150.0"),
        "excursion": False,
        "facility_id": None,
    }
    document = (
        '{"chain":"custody","prev_hash":"' + "0" * 64 + '","row":{"at":"2026-01-31T09:15:00.000000+00:00",'
        '"excursion":false,"facility_id":null,"note":"Café","seq":1,"temperature_c":"-150"}}'
    )
    expected = hashlib.sha256(document.encode()).hexdigest()
    assert link_hash(chain="custody", prev_hash=GENESIS, row=row) == expected
    assert expected == "06510b1e1ddf9bc8ba87fa4e67ad801144a5f32c85f3d858f991ffac2bf7694c"


def test_the_hash_depends_on_the_chain_the_link_and_each_value():
    row = {"seq": 1, "note": ""}
    base = link_hash(chain="custody", prev_hash=GENESIS, row=row)
    assert link_hash(chain="signature", prev_hash=GENESIS, row=row) != base
    assert link_hash(chain="custody", prev_hash="1" * 64, row=row) != base
    assert link_hash(chain="custody", prev_hash=GENESIS, row={**row, "note": " "}) != base
    assert link_hash(chain="custody", prev_hash=GENESIS, row={**row, "seq": 2}) != base


def test_a_digest_does_not_depend_on_key_order_or_trailing_zeros():
    assert digest({"a": Decimal("1.50"), "b": [1]}) == digest({"b": [1], "a": Decimal("1.5")})
    assert digest({"a": "1.5"}) == digest({"a": Decimal("1.5")})  # stored JSON keeps decimals as strings
