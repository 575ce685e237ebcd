"""ISBT 128 DIN check characters (the published example, python-stdnum, the standard's own algorithm), and every
form a DIN, a COI or a unit label's 2-D code arrives in from a scanner or a keyboard."""

import random
import re
import string
from datetime import UTC, datetime, timedelta, timezone

import pytest
from stdnum.iso7064 import mod_37_2

from products.rules.isbt128 import (
    COI_LENGTH,
    InvalidIdentifier,
    ScanKind,
    check_character,
    clean_scan,
    coi_for_eye,
    coi_in_scan,
    din_barcode_data,
    din_number_in,
    format_coi,
    format_unit_composite,
    is_valid_coi,
    is_valid_fin,
    parse_din,
    parse_scan,
    parse_unit_composite,
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
    # ICCBBA ST-001: G1234 98 654321 -> H
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


# Scanned and typed strings, as scanners and people send them ---------------------------------------------------

# (text, number, flags, check, scanned): G123498654321 has check character H (ICCBBA's published example).
ACCEPTED_DINS = [
    ("=G12349865432100", "G123498654321", "00", "H", True),  # the Code 128 symbol: `=`, DIN, flags
    ("=G123498654321", "G123498654321", "", "H", True),  # `=` and the DIN, no flags
    ("]C0=G12349865432100", "G123498654321", "00", "H", True),  # with the AIM symbology identifier of Code 128
    ("=G12349865432100\r\n", "G123498654321", "00", "H", True),  # a keyboard wedge's CR/LF
    ("  =g12349865432100\t", "G123498654321", "00", "H", True),  # spaces, a tab, lower case
    ("G12349865432100", "G123498654321", "00", "H", True),  # a scanner set not to transmit data identifiers
    ("]C0G12349865432105", "G123498654321", "05", "H", True),
    ("=G12349865432177", "G123498654321", "77", "H", True),  # flags 60-96 carry the check character: H is 17
    ("G123498654321H", "G123498654321", "", "H", False),  # typed with its check character
    ("G1234 98 654321 H", "G123498654321", "", "H", False),  # typed from the eye-readable form
    ("G1234 98 654321 00 H", "G123498654321", "00", "H", False),
    ("G1234-98-654321-00-H", "G123498654321", "00", "H", False),
]


@pytest.mark.parametrize(("text", "number", "flags", "check", "scanned"), ACCEPTED_DINS)
def test_a_din_is_read_as_scanned_or_typed(text, number, flags, check, scanned):
    din = parse_din(text)
    assert (din.number, din.flags, din.check, din.scanned) == (number, flags, check, scanned)


# (text, what the refusal says)
REFUSED_DINS = [
    ("G123498654321", "Add the check character"),  # typed without the check character
    ("G123498654321X", "Wrong check character 'X'"),
    ("G12349865432100X", "Wrong check character 'X'"),
    ("=G12349865432160", "carry check character '0'"),  # flags 60: check value 0, but the DIN's is H
    ("=G1234986543210", "A DIN is 13 characters"),  # one flag character
    ("=G123498654321H", "A DIN is 13 characters"),  # a barcode never holds the check character
    ("=G12349865432100H", "A DIN is 13 characters"),
    ("=G1234986543210A", "A DIN is 13 characters"),  # scanned flags are digits
    ("=<E0001V00", "other than the DIN (data identifier =<)"),  # an ISBT 128 product code
    ("=>026123", "other than the DIN (data identifier =>)"),  # an expiry date
    ("&>0261231159", "other than the DIN (data identifier &>)"),
    ("COIW432126000042G", "chain-of-identity code (COI)"),
    ("]C0COIW432126000042G", "chain-of-identity code (COI)"),
    ("=COIW432126000042G", "chain-of-identity code (COI)"),
    ("V2V1|COIW432126000042G|20260504T0800Z|BAG-1", "2-D code of a unit label"),
    ("UNIT-1", "A DIN is 13 characters"),
    ("", "A DIN is 13 characters"),
]


@pytest.mark.parametrize(("text", "says"), REFUSED_DINS)
def test_a_din_that_is_not_one_is_refused_saying_why(text, says):
    with pytest.raises(InvalidIdentifier, match=re.escape(says)):
        parse_din(text)


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("]C0UNIT-1\r\n", "UNIT-1"),
        ("]Q1V2V1|COI|x", "V2V1|COI|x"),
        ("]d2abc", "abc"),
        (" BAG 7 \n", "BAG 7"),  # spaces inside stay: a unit id may hold them
        ("]C0", ""),
        ("]", "]"),  # not a symbology identifier
    ],
)
def test_clean_scan_takes_off_what_the_scanner_adds(text, data):
    assert clean_scan(text) == data


def test_the_din_barcode_holds_the_identifier_the_din_and_the_flags_never_the_check_character():
    assert din_barcode_data(parse_din("G123498654321H")) == "=G12349865432100"  # "00": no flag
    assert din_barcode_data(parse_din("G12349865432107H")) == "=G12349865432107"
    assert parse_din(din_barcode_data(parse_din("G123498654321H"))).check == "H"


def test_the_unit_composite_round_trips_and_names_its_coi():
    coi = format_coi(fin="W4321", year=2026, sequence=42)
    at = datetime(2026, 5, 4, 10, 0, 59, tzinfo=timezone(timedelta(hours=2)))
    text = format_unit_composite(coi=coi, unit_id="BAG|7 ü", expires_at=at)

    assert text == f"V2V1|{coi}|20260504T0800Z|BAG|7 ü"
    composite = parse_unit_composite(f"]Q1{text}\n")
    assert (composite.coi, composite.unit_id) == (coi, "BAG|7 ü")
    assert composite.expires_at == datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    assert coi_in_scan(text) == coi and coi_in_scan(f"]C0{coi[:3]}-{coi[3:]}") == coi
    with pytest.raises(InvalidIdentifier):
        parse_unit_composite("V2V1|COI|20261304T0800Z|BAG")  # no 13th month
    with pytest.raises(InvalidIdentifier):
        parse_unit_composite("V2V1|COI|2026-05-04|BAG")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("=G12349865432100", ScanKind.DIN),
        ("G123498654321H", ScanKind.DIN),
        ("]C0COIW432126000042G", ScanKind.COI),
        ("coi-w4321-26-000042-g", ScanKind.COI),
        ("V2V1|COIW432126000042G|20260504T0800Z|BAG-1", ScanKind.UNIT_COMPOSITE),
        ("v2v1|coiw432126000042g|20260504t0800z|bag-1", ScanKind.UNIT_COMPOSITE),  # Caps Lock on the wedge
        ("BAG-S00001", ScanKind.TEXT),
        ("COIW432126000042G-01", ScanKind.TEXT),  # a unit id that starts like a COI is a unit id
        ("MRN-0001", ScanKind.TEXT),
    ],
)
def test_parse_scan_tells_what_was_scanned(text, kind):
    assert parse_scan(text).kind == kind


@pytest.mark.parametrize("text", ["G123498654321X", "=G1234", "V2V1|broken", "", " \r\n"])
def test_parse_scan_refuses_what_claims_to_be_a_din_or_a_2d_code_and_is_not(text):
    with pytest.raises(InvalidIdentifier):
        parse_scan(text)


def test_din_number_in_finds_the_din_for_a_search_in_any_form():
    for text in ("=G12349865432100", "]C0G12349865432100", "G1234 98 654321 H", "g123498654321"):
        assert din_number_in(text) == "G123498654321"


def test_coi_for_eye_groups_a_coi_and_leaves_anything_else():
    coi = format_coi(fin="W4321", year=2026, sequence=42)
    assert coi_for_eye(coi) == "COI-W4321-26-000042-G"
    assert coi_for_eye("W432126000042X") == "W432126000042X"
