"""ISBT 128 identifiers: donation identification numbers (DIN), and our chain-of-identity codes (COI).

ICCBBA ST-001 (ISBT 128 Standard Technical Specification): a DIN is `appppyynnnnnn`: a facility
identification number (FIN: one character A-N, P-Z or 1-9, then four digits), a two-digit year and a
six-digit sequence; two flag characters may follow; the keyboard-entry check character is
ISO 7064 Mod 37-2 over the 13 DIN characters (published example: G123498654321 -> H).

A COI is `COI` + FIN + 2-digit year + 6-digit sequence + one ISO 7064 Mod 37-2 check character over the 16
characters before it: 17 characters, e.g. `COIW432126000042G` (spaces and hyphens are ignored when it is typed
or scanned, so it may be printed `COI-W4321-26-000042-G` for the eye). It can never be taken for a DIN: a DIN's
second to fifth characters are digits, a COI's second and third are the letters O and I; and parse_din
refuses anything that starts with `COI` by name. It holds no patient identifier (21 CFR 1271.290).
"""

import re
from dataclasses import dataclass

from stdnum.iso7064 import mod_37_2

# ICCBBA ST-001 §2.4.1: the first character is never the letter O (nor the digit 0).
FIN_PATTERN = r"[A-NP-Z1-9][0-9]{4}"
_FIN = re.compile(rf"^{FIN_PATTERN}$")
_DIN = re.compile(rf"^(?P<din>{FIN_PATTERN}[0-9]{{2}}[0-9]{{6}})(?P<flags>[0-9A-Z]{{2}})?(?P<check>[0-9A-Z*])$")


class InvalidIdentifier(ValueError):
    pass


@dataclass(frozen=True)
class Din:
    number: str  # the 13 DIN characters
    flags: str  # "" or two flag characters
    check: str

    @property
    def facility(self) -> str:
        return self.number[:5]

    @property
    def year(self) -> str:
        return self.number[5:7]

    def __str__(self) -> str:
        return f"{self.number}{self.flags}{self.check}"


def normalize(text: str) -> str:
    """Eye-readable DINs carry spaces (`G1234 98 654321 H`); scanners may send lower case."""
    return re.sub(r"[\s-]", "", text).upper()


def check_character(number: str) -> str:
    return mod_37_2.calc_check_digit(number)


def is_valid_fin(fin: str) -> bool:
    return bool(_FIN.match(fin))


def parse_din(text: str) -> Din:
    """Parse a DIN with its check character; raise InvalidIdentifier saying what is wrong."""
    value = normalize(text)
    if value.startswith(COI_PREFIX):
        raise InvalidIdentifier(
            "This is a chain-of-identity code (COI), not a DIN: scan the DIN on the collection bag's label."
        )
    match = _DIN.match(value)
    if not match:
        raise InvalidIdentifier(
            "A DIN is 13 characters (facility number, 2-digit year, 6-digit sequence), "
            "optionally 2 flag characters, then the check character."
        )
    din = Din(number=match["din"], flags=match["flags"] or "", check=match["check"])
    expected = check_character(din.number)
    if din.check != expected:
        raise InvalidIdentifier(f"Wrong check character {din.check!r} for DIN {din.number}.")
    return din


# The COI's own prefix: no DIN starts with it (a DIN's second character is a digit).
COI_PREFIX = "COI"
_COI = re.compile(
    rf"^{COI_PREFIX}(?P<fin>{FIN_PATTERN})(?P<year>[0-9]{{2}})(?P<sequence>[0-9]{{6}})(?P<check>[0-9A-Z*])$"
)
COI_LENGTH = len(COI_PREFIX) + 5 + 2 + 6 + 1


def format_coi(*, fin: str, year: int, sequence: int) -> str:
    """A chain-of-identity code: `COI`, the facility's FIN, the year, a sequence and a Mod 37-2 check character
    (see the module's docstring). It carries no patient identifier (21 CFR 1271.290)."""
    if not is_valid_fin(fin):
        raise InvalidIdentifier(f"Not an ISBT 128 facility identification number: {fin!r}.")
    if not 0 <= sequence <= 999_999:
        raise InvalidIdentifier("The COI sequence is limited to six digits per facility and year.")
    body = f"{COI_PREFIX}{fin}{year % 100:02d}{sequence:06d}"
    return body + check_character(body)


def is_valid_coi(text: str) -> bool:
    value = normalize(text)
    return bool(_COI.match(value)) and mod_37_2.is_valid(value)
