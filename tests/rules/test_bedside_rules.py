"""The bedside comparison's rules, row by row: which scans name a bag, and what a wristband must say."""

from datetime import UTC, date, datetime

import pytest

from products.rules.isbt128 import check_character, format_coi, format_unit_composite
from tracker.rules.bedside import Bag, bag_refusal, same, wristband_mismatches

COI = format_coi(fin="W4321", year=2026, sequence=42)
OTHER_COI = format_coi(fin="W4321", year=2026, sequence=43)
DIN = "W123426000001"
OTHER_DIN = "W123426000002"
EXPIRES = datetime(2026, 5, 4, 8, 0, 30, tzinfo=UTC)


def bag(read: list[str] | None = None) -> Bag:
    def dins() -> list[str]:
        if read is not None:
            read.append("read")
        return [DIN]

    return Bag(unit_id="BAG-7", coi=COI, expires_at=EXPIRES, dins=dins)


# (what was scanned, None if it names the bag, else a piece of the reason)
ROWS = [
    ("BAG-7", None),
    ("bag 7", None),  # case, spaces and hyphens do not count
    ("]C0BAG-7\r\n", None),
    (f"={DIN}00", None),
    (f"]C0{DIN}00", None),
    (f"{DIN}{check_character(DIN)}", None),
    (format_unit_composite(coi=COI, unit_id="BAG-7", expires_at=EXPIRES), None),
    (f"]Q1{format_unit_composite(coi=COI, unit_id='BAG-7', expires_at=EXPIRES)}", None),
    ("BAG-8", "not this order's unit"),
    (f"={OTHER_DIN}00", "DIN is not on this order's bags"),
    (f"{DIN}X" if check_character(DIN) != "X" else f"{DIN}Y", "Wrong check character"),
    (COI, "chain-of-identity code (COI)"),
    (format_unit_composite(coi=OTHER_COI, unit_id="BAG-7", expires_at=EXPIRES), "names another bag"),
    (format_unit_composite(coi=COI, unit_id="BAG-8", expires_at=EXPIRES), "names another bag"),
    (
        format_unit_composite(coi=COI, unit_id="BAG-7", expires_at=datetime(2026, 5, 5, 8, 0, tzinfo=UTC)),
        "the label is not this bag's",
    ),
    ("V2V1|broken", "Not a unit label's 2-D code"),
]


@pytest.mark.parametrize(("scanned", "says"), ROWS)
def test_bag_refusal(scanned, says):
    refusal = bag_refusal(scanned, bag())
    if says is None:
        assert refusal is None
    else:
        assert refusal is not None and says in refusal


def test_the_dins_are_read_only_when_a_din_was_scanned():
    unread: list[str] = []
    read: list[str] = []
    bag_refusal("BAG-8", bag(unread))
    bag_refusal(f"={DIN}00", bag(read))
    assert unread == [] and read == ["read"]


BORN = date(1986, 4, 12)


@pytest.mark.parametrize(
    ("mrn", "born", "fields"),
    [
        ("CH-7731", BORN, []),
        ("]C0ch 7731\r", BORN, []),
        ("CH-7732", BORN, ["scanned_patient"]),
        ("CH-7731", date(1986, 12, 4), ["scanned_birth_date"]),  # day and month swapped
        ("CH-7731", None, ["scanned_birth_date"]),
        (COI, date(1900, 1, 1), ["scanned_patient", "scanned_birth_date"]),
    ],
)
def test_wristband_mismatches(mrn, born, fields):
    found = wristband_mismatches(scanned_patient=mrn, scanned_birth_date=born, mrn="CH-7731", birth_date=BORN)
    assert [m.field for m in found] == fields
    for m in found:
        assert m.expected in {"CH-7731", BORN.isoformat()}


def test_a_bag_scanned_as_the_wristband_is_named_for_what_it_is():
    [mismatch] = wristband_mismatches(scanned_patient=f"={DIN}00", scanned_birth_date=BORN, mrn="M", birth_date=BORN)
    assert mismatch.reason == "This is a DIN, not a wristband: scan the patient's wristband."
    assert mismatch.scanned == f"={DIN}00"


def test_same_ignores_what_scanners_and_people_add():
    assert same("]C0 ch-77 31\n", "CH-7731") and not same("CH-7731X", "CH-7731")
