"""ISBT 128 DIN check characters: the published example, python-stdnum, and the standard's own algorithm."""

import random
import string

import pytest
from stdnum.iso7064 import mod_37_2

from products.rules.isbt128 import (
    InvalidIdentifier,
    check_character,
    format_coi,
    is_valid_coi,
    is_valid_fin,
    parse_din,
)

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"


def reference_mod_37_2(data: str) -> str:
    """ISO 7064 Mod 37-2 written out as ICCBBA ST-001 describes it (independent of stdnum)."""
    total = 0
    for char in data:
        total = ((total + ALPHABET.index(char)) * 2) % 37
    return ALPHABET[(38 - total) % 37]


def test_published_example_g123498654321_has_check_character_h():
    # DESIGN.md / ICCBBA: G1234 98 654321 -> H
    assert check_character("G123498654321") == "H"
    assert reference_mod_37_2("G123498654321") == "H"
    din = parse_din("G123498654321H")
    assert (din.number, din.flags, din.check, din.facility, din.year) == ("G123498654321", "", "H", "G1234", "98")


def test_eye_readable_form_with_spaces_and_flags_parses():
    din = parse_din("g1234 98 654321 00 h")
    assert (din.number, din.flags, din.check) == ("G123498654321", "00", "H")
    assert str(din) == "G12349865432100H"


@pytest.mark.parametrize("seed", range(5))
def test_check_character_agrees_with_stdnum_and_the_reference_algorithm(seed):
    rng = random.Random(seed)
    for _ in range(400):
        fin = rng.choice("ABCDEFGHIJKLMNPQRSTUVWXYZ123456789") + "".join(rng.choices(string.digits, k=4))
        number = fin + "".join(rng.choices(string.digits, k=8))
        expected = reference_mod_37_2(number)
        assert check_character(number) == expected == mod_37_2.calc_check_digit(number)
        assert parse_din(number + expected).check == expected
        assert mod_37_2.is_valid(number + expected)


@pytest.mark.parametrize("wrong", [c for c in ALPHABET if c != "H"][:10])
def test_a_wrong_check_character_is_refused(wrong):
    with pytest.raises(InvalidIdentifier, match="check character"):
        parse_din("G123498654321" + wrong)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "G12349865432",  # 12 characters: no check character
        "O123498654321H",  # the letter O never starts a FIN
        "0123498654321H",  # nor the digit 0
        "G12349865432100XH",  # three flag characters
        "G1234986543-1H",
        "G1234AB654321H",  # the year is two digits
    ],
)
def test_malformed_dins_are_refused(text):
    with pytest.raises(InvalidIdentifier):
        parse_din(text)


def test_every_single_character_substitution_is_detected():
    valid = "G123498654321H"
    for position in range(13):
        for char in "0123456789ABCDEFGHIJKLMNPQRSTUVWXYZ":
            if char == valid[position]:
                continue
            candidate = valid[:position] + char + valid[position + 1 :]
            try:
                parse_din(candidate)
            except InvalidIdentifier:
                continue
            pytest.fail(f"{candidate} was accepted")


def test_coi_has_fin_year_sequence_and_a_valid_check_character():
    coi = format_coi(fin="W4321", year=2026, sequence=42)
    assert coi[:13] == "W432126000042"
    assert coi[13] == reference_mod_37_2("W432126000042")
    assert is_valid_coi(coi)
    assert not is_valid_coi(coi[:13] + ("A" if coi[13] != "A" else "B"))


def test_coi_refuses_a_bad_fin_and_an_overflowing_sequence():
    assert is_valid_fin("W4321") and not is_valid_fin("O4321") and not is_valid_fin("W43")
    with pytest.raises(InvalidIdentifier):
        format_coi(fin="bad", year=2026, sequence=1)
    with pytest.raises(InvalidIdentifier):
        format_coi(fin="W4321", year=2026, sequence=1_000_000)
