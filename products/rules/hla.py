"""HLA typing and matching at A, B, C and DRB1, the loci of an "8/8" allele-level match. Pure: no database.

A typing is `{"A": ["A*02:01", "A*01:01"], "B": [...], "C": [...], "DRB1": [...]}`: at most two alleles per locus
(one listed means both copies are the same: homozygous), each in WHO allele notation with at least two fields
(`A*02:01`; more fields, `A*02:01:01:01`, and an expression suffix, `A*24:09N`, are accepted). Alleles match at
the allele (protein) level: their first two fields, as an 8/8 match is counted (NMDP/CIBMTR; Lee et al., Blood
2007).
"""

import re
from collections import Counter
from collections.abc import Mapping

LOCI = ("A", "B", "C", "DRB1")
MAX_MATCHES = 2 * len(LOCI)  # 8
ALLELES_PER_LOCUS = 2
# WHO nomenclature: locus*field:field[:field[:field]][suffix]; fields are 2 or more digits.
ALLELE = re.compile(r"^(?P<locus>A|B|C|DRB1)\*(?P<fields>\d{2,4}(?::\d{2,4}){1,3})(?P<suffix>[NLSCAQ]?)$")
# The longest name ALLELE accepts is 25 characters (DRB1*, four 4-digit fields, a suffix); the bound leaves room
# for spaces around it, and refuses megabytes of them before any pattern is tried.
ALLELE_MAX_LENGTH = 32

Typing = dict[str, tuple[str, ...]]


class InvalidTyping(ValueError):
    """The typing is not in allele notation; the message says where."""


def parse_typing(value: object) -> Typing:
    """The typing as loci -> alleles (upper case, in the order given), or InvalidTyping. Empty means untyped."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidTyping('Give an object of loci, e.g. {"A": ["A*02:01", "A*01:01"], "B": [...]}.')
    typing: Typing = {}
    for locus, alleles in value.items():
        if locus not in LOCI:
            raise InvalidTyping(f"Unknown locus {locus!r}: the loci are {', '.join(LOCI)}.")
        if not isinstance(alleles, list | tuple) or not alleles:
            raise InvalidTyping(f"{locus}: give a list of one or two alleles.")
        if len(alleles) > ALLELES_PER_LOCUS:
            raise InvalidTyping(f"{locus}: at most {ALLELES_PER_LOCUS} alleles (one per chromosome).")
        names = []
        for allele in alleles:
            if isinstance(allele, str) and len(allele) > ALLELE_MAX_LENGTH:
                raise InvalidTyping(f"{locus}: an allele name is at most {ALLELE_MAX_LENGTH} characters.")
            name = allele.strip().upper() if isinstance(allele, str) else allele
            match = ALLELE.match(name) if isinstance(name, str) else None
            if match is None:
                raise InvalidTyping(
                    f"{locus}: {allele!r} is not in allele notation (e.g. {locus}*02:01: the locus, '*', and at "
                    "least two fields)."
                )
            if match["locus"] != locus:
                raise InvalidTyping(f"{locus}: {name} is an allele of {match['locus']}, not of {locus}.")
            names.append(name)
        typing[locus] = tuple(names)
    return typing


def allele_level(name: str) -> str:
    """The allele at the level matching compares: locus, first two fields, and an expression suffix (a null
    allele, `N`, is not the expressed allele of the same two fields)."""
    match = ALLELE.match(name)
    if match is None:
        raise InvalidTyping(f"{name!r} is not in allele notation.")
    first_two = ":".join(match["fields"].split(":")[:2])
    return f"{match['locus']}*{first_two}{match['suffix']}"


def _copies(alleles: tuple[str, ...]) -> Counter[str]:
    levels = [allele_level(a) for a in alleles]
    if len(levels) == 1:
        levels *= 2  # homozygous: both copies carry it
    return Counter(levels)


def match_count(donor: Mapping[str, tuple[str, ...]], recipient: Mapping[str, tuple[str, ...]]) -> int:
    """Alleles shared at A, B, C and DRB1 (0-8): per locus, the recipient's two copies matched by the donor's.
    A locus untyped on either side matches nothing (nothing is known to match)."""
    total = 0
    for locus in LOCI:
        if donor.get(locus) and recipient.get(locus):
            total += sum((_copies(donor[locus]) & _copies(recipient[locus])).values())
    return total


def fully_typed(typing: Mapping[str, tuple[str, ...]]) -> bool:
    return all(typing.get(locus) for locus in LOCI)


def typing_text(typing: Mapping[str, tuple[str, ...]]) -> str:
    """A typing on one line, e.g. `A*02:01/A*01:01 B*08:01 ...`; `untyped` when empty."""
    parts = ["/".join(typing[locus]) for locus in LOCI if typing.get(locus)]
    return " ".join(parts) or "untyped"


def match_refusal(
    *, donor: Mapping[str, tuple[str, ...]], recipient: Mapping[str, tuple[str, ...]], minimum: int
) -> str | None:
    """Why the donor does not match the recipient well enough for a product needing `minimum` matches, or None.
    A minimum of 0 needs no typing at all (as for MSC)."""
    if minimum <= 0:
        return None
    for side, typing in (("donor", donor), ("patient", recipient)):
        if not fully_typed(typing):
            untyped = ", ".join(locus for locus in LOCI if not typing.get(locus))
            return f"The {side} is not typed at {untyped}: the product needs {minimum}/{MAX_MATCHES} allele matches."
    matches = match_count(donor, recipient)
    if matches < minimum:
        return f"{matches}/{MAX_MATCHES} allele matches at A, B, C, DRB1; the product needs at least {minimum}."
    return None
