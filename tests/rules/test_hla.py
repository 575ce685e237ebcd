"""HLA typing in allele notation and the allele-level match count at A, B, C and DRB1, table by table."""

import pytest

from products.rules.hla import (
    InvalidTyping,
    allele_level,
    fully_typed,
    match_count,
    match_refusal,
    parse_typing,
    typing_text,
)

FULL = {
    "A": ["A*02:01", "A*01:01"],
    "B": ["B*08:01", "B*44:02"],
    "C": ["C*07:01", "C*05:01"],
    "DRB1": ["DRB1*15:01", "DRB1*03:01"],
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {}),
        ({}, {}),
        ({"A": ["A*02:01"]}, {"A": ("A*02:01",)}),
        ({"A": ["a*02:01", " A*01:01 "]}, {"A": ("A*02:01", "A*01:01")}),  # case and spaces as typed
        ({"B": ["B*08:01:01:02L"]}, {"B": ("B*08:01:01:02L",)}),  # four fields and an expression suffix
        ({"DRB1": ["DRB1*15:01", "DRB1*04:01"]}, {"DRB1": ("DRB1*15:01", "DRB1*04:01")}),
        ({"C": ["C*07:639"]}, {"C": ("C*07:639",)}),  # three-digit fields exist
    ],
)
def test_typings_in_allele_notation_are_read(value, expected):
    assert parse_typing(value) == expected


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("A*02:01", "object of loci"),
        (["A*02:01"], "object of loci"),
        ({"DQB1": ["DQB1*06:02"]}, "Unknown locus"),
        ({"A": "A*02:01"}, "list of one or two"),
        ({"A": []}, "list of one or two"),
        ({"A": ["A*02:01", "A*01:01", "A*03:01"]}, "at most 2"),
        ({"A": ["A2"]}, "not in allele notation"),  # serological
        ({"A": ["A*02"]}, "not in allele notation"),  # one field: not the allele level
        ({"A": ["02:01"]}, "not in allele notation"),  # no locus
        ({"A": ["A*2:01"]}, "not in allele notation"),  # one digit
        ({"A": ["A*02:01X"]}, "not in allele notation"),
        ({"A": [201]}, "not in allele notation"),
        ({"A": ["B*08:01"]}, "an allele of B"),
        ({"A": [" " * 30 + "A*02:01"]}, "at most 32 characters"),  # the schema's maxLength, refused before parsing
    ],
)
def test_anything_else_is_refused_with_a_reason(value, names):
    with pytest.raises(InvalidTyping, match=names):
        parse_typing(value)


@pytest.mark.parametrize(
    ("name", "level"),
    [("A*02:01", "A*02:01"), ("A*02:01:01:02", "A*02:01"), ("A*24:09N", "A*24:09N"), ("DRB1*15:01:01", "DRB1*15:01")],
)
def test_matching_compares_the_first_two_fields(name, level):
    assert allele_level(name) == level


def typing(**loci: list[str]) -> dict[str, tuple[str, ...]]:
    return {locus: tuple(alleles) for locus, alleles in loci.items()}


MATCHES = [
    # (donor, recipient, matches)
    (parse_typing(FULL), parse_typing(FULL), 8),
    ({}, parse_typing(FULL), 0),  # untyped donor: nothing known to match
    (parse_typing(FULL), {}, 0),
    (typing(A=["A*02:01", "A*01:01"]), typing(A=["A*01:01", "A*02:01"]), 2),  # order does not matter
    (typing(A=["A*02:01", "A*01:01"]), typing(A=["A*02:01", "A*03:01"]), 1),
    (typing(A=["A*02:01", "A*01:01"]), typing(A=["A*03:01", "A*11:01"]), 0),
    (typing(A=["A*02:01"]), typing(A=["A*02:01"]), 2),  # both homozygous
    (typing(A=["A*02:01"]), typing(A=["A*02:01", "A*01:01"]), 1),  # homozygous donor: one of two
    (typing(A=["A*02:01", "A*01:01"]), typing(A=["A*02:01"]), 1),  # homozygous patient
    (typing(A=["A*02:01:01:01", "A*01:01:01"]), typing(A=["A*02:01", "A*01:01"]), 2),  # more fields, same allele
    (typing(A=["A*02:01", "A*01:01"]), typing(A=["A*02:02", "A*01:01"]), 1),  # allele-level mismatch
    (typing(A=["A*24:09N", "A*01:01"]), typing(A=["A*24:09", "A*01:01"]), 1),  # a null allele is not expressed
    (typing(A=["A*02:01", "A*01:01"], B=["B*08:01", "B*44:02"]), typing(A=["A*02:01", "A*01:01"]), 2),
]


@pytest.mark.parametrize(("donor", "recipient", "matches"), MATCHES)
def test_the_match_count_table(donor, recipient, matches):
    assert match_count(donor, recipient) == matches


def test_a_4_of_8_match():
    donor = parse_typing(FULL)
    recipient = parse_typing(
        {"A": ["A*02:01", "A*03:01"], "B": ["B*08:01", "B*07:02"], "C": ["C*07:01", "C*05:01"], "DRB1": ["DRB1*04:01"]}
    )
    assert match_count(donor, recipient) == 4  # A 1, B 1, C 2 (both copies), DRB1 0


@pytest.mark.parametrize(
    ("minimum", "donor", "recipient", "refused"),
    [
        (0, {}, {}, None),  # MSC: nothing needed, untyped is fine
        (0, parse_typing(FULL), typing(A=["A*03:01"]), None),
        (8, parse_typing(FULL), parse_typing(FULL), None),
        (7, parse_typing(FULL), parse_typing(FULL), None),
        (8, parse_typing(FULL), {**parse_typing(FULL), "A": ("A*02:01", "A*03:01")}, "7/8 allele matches"),
        (6, {}, parse_typing(FULL), "donor is not typed at A, B, C, DRB1"),
        (6, parse_typing(FULL), typing(A=["A*02:01"]), "patient is not typed at B, C, DRB1"),
    ],
)
def test_the_minimum_is_met_or_refused_with_the_count(minimum, donor, recipient, refused):
    answer = match_refusal(donor=donor, recipient=recipient, minimum=minimum)
    assert (answer is None) if refused is None else (refused in answer)


def test_a_typing_reads_on_one_line():
    assert typing_text(parse_typing(FULL)).startswith("A*02:01/A*01:01 B*08:01/B*44:02")
    assert typing_text({}) == "untyped"
    assert fully_typed(parse_typing(FULL)) and not fully_typed(typing(A=["A*02:01"]))
