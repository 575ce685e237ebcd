"""The bedside comparison as pure functions: does a scan name this bag, does a wristband name this patient?

A bag is named by its unit id (the Code 128 on its label), by its label's 2-D code (COI, expiry and unit id, all
three compared), or by the DIN on it (ICCBBA ST-001: the donation the bag was made from; every bag of one donation
carries it). The patient is named by two identifiers (Joint Commission NPSG.01.01.01): the MRN on the wristband and
the birth date. Scans are read by products.rules.isbt128 (symbology identifiers, `=`, flags, check characters).
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime

from products.rules.isbt128 import InvalidIdentifier, ScanKind, clean_scan, normalize, parse_scan

KIND_NAMES = {
    ScanKind.COI: "a chain-of-identity code (COI)",
    ScanKind.DIN: "a DIN",
    ScanKind.UNIT_COMPOSITE: "a unit label's 2-D code",
}


@dataclass(frozen=True)
class Mismatch:
    """One identifier that does not match: the request's field, what the order expects, what was scanned, why."""

    field: str
    expected: str
    scanned: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "expected": self.expected, "scanned": self.scanned, "reason": self.reason}


@dataclass(frozen=True)
class Bag:
    """What names a bag: its unit id, its order's COI, its expiry, and the DINs it may carry (read only when a DIN
    was scanned)."""

    unit_id: str
    coi: str
    expires_at: datetime
    dins: Callable[[], Collection[str]]


def same(scanned: str, expected: str) -> bool:
    """Identifiers compare without case, spaces or hyphens (`CH-7731` is `ch 7731`), after the scanner's own
    additions (symbology identifier, line end) are taken off."""
    return normalize(clean_scan(scanned)) == normalize(expected)


def _minute(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def bag_refusal(scanned: str, bag: Bag) -> str | None:
    """None when `scanned` names this bag; else why it does not, in words a nurse acts on."""
    if same(scanned, bag.unit_id):
        return None
    try:
        scan = parse_scan(scanned)
    except InvalidIdentifier as exc:
        return str(exc)
    if scan.kind == ScanKind.UNIT_COMPOSITE and scan.composite is not None:
        composite = scan.composite
        if not same(composite.unit_id, bag.unit_id) or composite.coi != normalize(bag.coi):
            return "The label's 2-D code names another bag, not this order's."
        if composite.expires_at != _minute(bag.expires_at):
            return (
                f"The label's expiry ({composite.expires_at:%Y-%m-%d %H:%M} UTC) is not the bag's "
                f"({_minute(bag.expires_at):%Y-%m-%d %H:%M} UTC): the label is not this bag's; stop and ask."
            )
        return None
    if scan.kind == ScanKind.DIN and scan.din is not None:
        return None if scan.din.number in bag.dins() else "The scanned DIN is not on this order's bags."
    if scan.kind == ScanKind.COI:
        return "This is a chain-of-identity code (COI), not the bag's barcode: scan the unit id on the bag."
    return "The scanned bag is not this order's unit."


def wristband_mismatches(
    *, scanned_patient: str, scanned_birth_date: date | None, mrn: str, birth_date: date
) -> list[Mismatch]:
    """The wristband's two identifiers against the order's patient."""
    mismatches = []
    if not same(scanned_patient, mrn):
        try:
            kind = parse_scan(scanned_patient).kind
        except InvalidIdentifier:
            kind = ScanKind.TEXT
        reason = (
            f"This is {KIND_NAMES[kind]}, not a wristband: scan the patient's wristband."
            if kind in KIND_NAMES
            else "The scanned wristband is not this order's patient."
        )
        mismatches.append(Mismatch("scanned_patient", mrn, clean_scan(scanned_patient), reason))
    if scanned_birth_date != birth_date:
        mismatches.append(
            Mismatch(
                "scanned_birth_date",
                birth_date.isoformat(),
                scanned_birth_date.isoformat() if scanned_birth_date else "",
                "The birth date on the wristband is not this order's patient's birth date.",
            )
        )
    return mismatches
