"""ISBT 128 DIN check characters: the published example, python-stdnum, and the standard's own algorithm."""

import random
import re
import string

import pytest
from stdnum.iso7064 import mod_37_2

from products.rules.isbt128 import (
    COI_LENGTH,
    InvalidIdentifier,
    check_character,
    format_coi,
    is_valid_coi,
    is_valid_fin,
    parse_din,
)

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
# ICCBBA ST-001: what a DIN looks like (FIN, year, sequence, optional flags, check), independent of the parser.
_DIN_SHAPE = re.compile(r"^[A-NP-Z1-9][0-9]{4}[0-9]{8}([0-9A-Z]{2})?[0-9A-Z*]$")


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


def test_coi_is_the_prefix_fin_year_sequence_and_a_check_character_over_all_of_them():
    coi = format_coi(fin="W4321", year=2026, sequence=42)
    assert coi[:16] == "COIW432126000042"
    assert coi[16] == reference_mod_37_2("COIW432126000042") == "G"
    assert len(coi) == COI_LENGTH == 17
    assert is_valid_coi(coi) and is_valid_coi("coi-w4321-26-000042-g")  # typed from the eye-readable form
    assert not is_valid_coi(coi[:16] + ("A" if coi[16] != "A" else "B"))


def test_a_din_shaped_code_is_not_a_coi():
    # The format before: FIN, year, sequence and check, exactly a DIN of the facility's numbering space.
    old = "W432126000042" + check_character("W432126000042")
    assert parse_din(old).number == "W432126000042"
    assert not is_valid_coi(old)


# Every character a FIN may start with, in many facilities, years and sequences (the edges included).
FIN_STARTS = string.ascii_uppercase.replace("O", "") + "123456789"
SEQUENCES = [0, 1, 9, 10, 42, 99_999, 100_000, 500_000, 999_998, 999_999]


def _cois(count: int) -> list[str]:
    rng = random.Random(128)  # fixed seed: the same many COIs every run
    cois = [
        format_coi(fin=f"{start}{rng.randrange(10_000):04d}", year=year, sequence=sequence)
        for start in FIN_STARTS
        for year in (2000, 2026, 2099)
        for sequence in SEQUENCES
    ]
    cois += [
        format_coi(
            fin=f"{rng.choice(FIN_STARTS)}{rng.randrange(10_000):04d}",
            year=rng.randrange(2000, 2100),
            sequence=rng.randrange(1_000_000),
        )
        for _ in range(count)
    ]
    return cois


def test_no_coi_ever_parses_as_a_din_with_or_without_flags_spaces_or_identifiers():
    for coi in _cois(5_000):
        assert is_valid_coi(coi)
        for text in (coi, coi.lower(), f"{coi[:3]} {coi[3:8]} {coi[8:10]} {coi[10:16]} {coi[16]}", f"={coi}"):
            with pytest.raises(InvalidIdentifier):
                parse_din(text)
        # Nor does any DIN-length piece of it carry a valid DIN check character where a DIN's would be.
        assert not _DIN_SHAPE.match(coi) and not _DIN_SHAPE.match(coi[:14]) and not _DIN_SHAPE.match(coi[:16])


def test_the_din_parser_names_a_coi_for_what_it_is():
    with pytest.raises(InvalidIdentifier, match="chain-of-identity code"):
        parse_din(format_coi(fin="W4321", year=2026, sequence=7))


def test_no_din_is_ever_a_valid_coi():
    rng = random.Random(37)
    for _ in range(5_000):
        number = (
            f"{rng.choice(FIN_STARTS)}{rng.randrange(10_000):04d}{rng.randrange(100):02d}{rng.randrange(10**6):06d}"
        )
        din = number + check_character(number)
        assert parse_din(din)
        assert not is_valid_coi(din) and not is_valid_coi(din[:13] + "00" + din[13])


def test_coi_refuses_a_bad_fin_and_an_overflowing_sequence():
    assert is_valid_fin("W4321") and not is_valid_fin("O4321") and not is_valid_fin("W43")
    with pytest.raises(InvalidIdentifier):
        format_coi(fin="bad", year=2026, sequence=1)
    with pytest.raises(InvalidIdentifier):
        format_coi(fin="W4321", year=2026, sequence=1_000_000)
