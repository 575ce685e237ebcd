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

Scanned and typed strings (`parse_scan`, `parse_din`). ICCBBA ST-001: a DIN's Code 128 symbol holds the data
identifier `=`, the 13 DIN characters and 2 flag characters, and never the check character, which is printed boxed
beside the eye-readable DIN for keyboard entry. So a scan arrives as `=G12349865432100` (or `G12349865432100` from a
scanner set not to transmit data identifiers), with an AIM symbology identifier in front when the scanner is set to
send one (`]C0` Code 128, `]Q1` QR code, ISO/IEC 15424), and a CR or LF behind from a keyboard wedge; typed, it is
`G123498654321H` or `G1234 98 654321 00 H`, and the check character is verified. The 2-D code of our unit labels
holds `V2V1|<COI>|<expiry, UTC, YYYYMMDDTHHMMZ>|<unit id>` (see `format_unit_composite`).
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

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
    check: str  # the Mod 37-2 check character: as typed, or computed when scanned (a barcode never holds it)
    scanned: bool = False  # read from a barcode (no check character given), not typed

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


# ISO/IEC 15424: a scanner may put `]`, a symbology code character and a modifier before the data.
_SYMBOLOGY_IDENTIFIER = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
# ICCBBA ST-001: the DIN's data identifier is `=` followed by its first character (A-N, P-Z, 1-9); `=` or `&`
# followed by anything else starts another ISBT 128 data structure (product code `=<`, expiry `=>`...).
DIN_DATA_IDENTIFIER = "="
_OTHER_DATA_STRUCTURE = re.compile(r"^[=&][^A-NP-Z1-9]")
_DIN_BODY = re.compile(rf"^(?P<din>{FIN_PATTERN}[0-9]{{8}})(?P<rest>[0-9A-Z*]{{0,3}})$")
# ICCBBA ST-001, DIN flag characters: values 60-96 carry the check character (its Mod 37-2 value + 60).
_CHECK_IN_FLAGS = range(60, 97)
_MOD_37_2 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"


def clean_scan(text: str) -> str:
    """The data of a scan: without the scanner's symbology identifier and without surrounding whitespace or the
    keyboard wedge's CR/LF. Spaces inside are kept (a COI or DIN parser ignores them, a unit id may hold them)."""
    value = text.strip()
    value = _SYMBOLOGY_IDENTIFIER.sub("", value, count=1)
    return value.strip()


def parse_din(text: str) -> Din:
    """Parse a DIN as scanned or typed; raise InvalidIdentifier saying what is wrong.

    Scanned (no check character, flags given): `=` + 13 + 2 flags, `=` + 13, or 13 + 2 flags (a scanner set not to
    send data identifiers). Typed: 13 + check, or 13 + 2 flags + check; the check character is verified. Flags of
    60-96 carry the check character, which must then agree too.
    """
    raw = clean_scan(text)
    if is_unit_composite(raw):
        raise InvalidIdentifier(
            "This is the 2-D code of a unit label (COI, unit id and expiry), not a DIN: scan the DIN's barcode."
        )
    value = normalize(raw)
    if value.removeprefix(DIN_DATA_IDENTIFIER).startswith(COI_PREFIX):
        raise InvalidIdentifier(
            "This is a chain-of-identity code (COI), not a DIN: scan the DIN on the collection bag's label."
        )
    if _OTHER_DATA_STRUCTURE.match(value):
        raise InvalidIdentifier(
            f"This is an ISBT 128 data structure other than the DIN (data identifier {value[:2]}): scan the DIN."
        )
    with_identifier = value.startswith(DIN_DATA_IDENTIFIER)
    match = _DIN_BODY.match(value.removeprefix(DIN_DATA_IDENTIFIER))
    rest = match["rest"] if match else ""
    if with_identifier and match and len(rest) in (0, 2) and (not rest or rest.isdigit()):
        din = Din(number=match["din"], flags=rest, check=check_character(match["din"]), scanned=True)
    elif not with_identifier and match and len(rest) == 2 and rest.isdigit():
        din = Din(number=match["din"], flags=rest, check=check_character(match["din"]), scanned=True)
    elif not with_identifier and match and len(rest) in (1, 3):
        din = Din(number=match["din"], flags=rest[:-1], check=rest[-1])
        if din.check != check_character(din.number):
            raise InvalidIdentifier(f"Wrong check character {din.check!r} for DIN {din.number}.")
    elif not with_identifier and match and not rest:
        raise InvalidIdentifier(
            f"Add the check character printed in the box beside DIN {match['din']}, or scan its barcode."
        )
    else:
        raise InvalidIdentifier(
            "A DIN is 13 characters (facility number, 2-digit year, 6-digit sequence), "
            "optionally 2 flag characters, then the check character; scanned, `=`, the 13 characters and the flags."
        )
    if din.flags.isdigit() and int(din.flags) in _CHECK_IN_FLAGS:
        carried = _MOD_37_2[int(din.flags) - 60]
        if carried != check_character(din.number):
            raise InvalidIdentifier(f"The flags {din.flags} carry check character {carried!r}, not DIN {din.number}'s.")
    return din


def din_barcode_data(din: Din) -> str:
    """What the DIN's Code 128 symbol holds (ICCBBA ST-001): `=`, the 13 characters and 2 flag characters ("00":
    no flag), never the check character."""
    return f"{DIN_DATA_IDENTIFIER}{din.number}{din.flags or '00'}"


def din_number_in(text: str) -> str:
    """The 13 DIN characters of a DIN in any of its forms, for searching (not validated)."""
    return normalize(clean_scan(text)).removeprefix(DIN_DATA_IDENTIFIER)[:13]


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


def coi_for_eye(coi: str) -> str:
    """A COI grouped for reading aloud and typing (`COI-W4321-26-000042-G`); any other code as it is."""
    value = normalize(coi)
    if not is_valid_coi(value):
        return coi
    return f"{value[:3]}-{value[3:8]}-{value[8:10]}-{value[10:16]}-{value[16]}"


def coi_in_scan(text: str) -> str:
    """The COI in a scan or typed text: the COI itself (any spacing, any symbology identifier) or the one a unit
    label's 2-D code holds. Not validated: a legacy DIN-shaped COI is looked up as it is."""
    value = clean_scan(text)
    if is_unit_composite(value):
        return parse_unit_composite(value).coi
    return normalize(value)


# The 2-D code of a unit label: our own format (ISBT 128 has no data structure for a COI), chosen so that a keyboard
# wedge types it as it is: `V2V1|` + COI + `|` + expiry in UTC (YYYYMMDDTHHMMZ) + `|` + unit id. The unit id comes
# last and may hold any character, `|` included.
COMPOSITE_PREFIX = "V2V1|"
_COMPOSITE = re.compile(
    r"^V2V1\|(?P<coi>[^|]+)\|(?P<expiry>[0-9]{8}T[0-9]{4}Z)\|(?P<unit_id>.+)$", re.IGNORECASE | re.DOTALL
)
_EXPIRY_FORMAT = "%Y%m%dT%H%MZ"


@dataclass(frozen=True)
class UnitComposite:
    coi: str
    unit_id: str
    expires_at: datetime  # UTC, to the minute


def format_unit_composite(*, coi: str, unit_id: str, expires_at: datetime) -> str:
    expiry = expires_at.astimezone(UTC).strftime(_EXPIRY_FORMAT)
    return f"{COMPOSITE_PREFIX}{normalize(coi)}|{expiry}|{unit_id}"


def is_unit_composite(text: str) -> bool:
    return clean_scan(text).upper().startswith(COMPOSITE_PREFIX)


def parse_unit_composite(text: str) -> UnitComposite:
    match = _COMPOSITE.match(clean_scan(text))
    if not match:
        raise InvalidIdentifier("Not a unit label's 2-D code: V2V1|COI|YYYYMMDDTHHMMZ|unit id.")
    try:
        expires_at = datetime.strptime(match["expiry"].upper(), _EXPIRY_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidIdentifier(f"The 2-D code's expiry {match['expiry']} is not a date and time.") from exc
    return UnitComposite(coi=normalize(match["coi"]), unit_id=match["unit_id"], expires_at=expires_at)


class ScanKind(StrEnum):
    DIN = "din"
    COI = "coi"
    UNIT_COMPOSITE = "unit_composite"
    TEXT = "text"  # anything else: a unit id, an MRN


# A string that claims to be a DIN: the data identifier, or a FIN, year and sequence then up to 3 characters.
_DIN_SHAPED = re.compile(rf"^(=|{FIN_PATTERN}[0-9]{{8}}[0-9A-Z*]{{0,3}}$)")


@dataclass(frozen=True)
class Scan:
    """What a scanned (or typed) string is."""

    kind: ScanKind
    data: str  # the scan without symbology identifier and line end
    din: Din | None = None
    coi: str | None = None
    composite: UnitComposite | None = None


def parse_scan(text: str) -> Scan:
    """Classify a scan: a unit label's 2-D code, a COI, a DIN (scanned or typed), or plain text (a unit id, an MRN).
    Raise InvalidIdentifier when it claims to be a 2-D code or a DIN and is not a valid one (a wrong check
    character, a malformed code), saying what is wrong."""
    data = clean_scan(text)
    if not data:
        raise InvalidIdentifier("Nothing was scanned.")
    if is_unit_composite(data):
        composite = parse_unit_composite(data)
        return Scan(kind=ScanKind.UNIT_COMPOSITE, data=data, coi=composite.coi, composite=composite)
    value = normalize(data)
    if is_valid_coi(value):
        return Scan(kind=ScanKind.COI, data=data, coi=value)
    if _DIN_SHAPED.match(value):
        return Scan(kind=ScanKind.DIN, data=data, din=parse_din(data))
    return Scan(kind=ScanKind.TEXT, data=data)
