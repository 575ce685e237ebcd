"""Patient wristbands (PHI: printed only for those who may see the patient).

A wristband carries the name, birth date, sex, MRN and facility as text, and a Code 128 of the MRN: the bedside
check scans it (`scanned_patient`) and reads or types the birth date beside it (`scanned_birth_date`, the second
identifier). On the wristband stock it sits clear of the clasp end; on label stock it is a patient label.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from reportlab.lib.units import inch, mm

from products.labels.layout import BOLD, REGULAR, WRISTBAND, Draw, Pen, Stock, render_pdf
from tracker.models import Patient


@dataclass(frozen=True)
class Wristband:
    name: str
    birth_date: date
    sex: str
    mrn: str
    facility: str


def wristband_of(patient: Patient) -> Wristband:
    """What a patient's wristband says. Expects the patient's facility loaded."""
    return Wristband(
        name=patient.display_name,
        birth_date=patient.birth_date,
        sex=patient.get_sex_display(),
        mrn=patient.mrn,
        facility=patient.facility.name,
    )


# The clasp and the part that overlaps on the wrist: nothing is printed there.
CLASP = 1.25 * inch


def draw_wristband(band: Wristband, stock: Stock) -> Draw:
    def on_band(pen: Pen) -> None:
        x, text_width = CLASP, 3.3 * inch
        top = pen.height - 2 * mm
        pen.text(x, top - 4 * mm, band.name, font=BOLD, size=12, width=text_width)
        pen.text(x, top - 8.5 * mm, f"Born {band.birth_date.isoformat()} · {band.sex}", size=9, width=text_width)
        pen.text(x, top - 12.8 * mm, f"MRN {band.mrn}", font=BOLD, size=9, width=text_width)
        pen.text(x, top - 16.5 * mm, band.facility, font=REGULAR, size=7, width=text_width)
        pen.code128(x + text_width + 3 * mm, 4 * mm, band.mrn, height=pen.height - 8 * mm, width=2.6 * inch)

    def on_label(pen: Pen) -> None:
        margin = 2.5 * mm
        inner = pen.width - 2 * margin
        top = pen.height - margin
        pen.text(margin, top - 4.5 * mm, band.name, font=BOLD, size=12, width=inner)
        pen.text(margin, top - 9.5 * mm, f"Born {band.birth_date.isoformat()} · {band.sex}", size=9, width=inner)
        pen.text(margin, top - 14 * mm, f"MRN {band.mrn}", font=BOLD, size=9, width=inner)
        pen.text(margin, top - 18 * mm, band.facility, size=7, width=inner)
        pen.code128(margin, margin, band.mrn, height=min(12 * mm, top - 21 * mm - margin), width=inner)

    return on_band if stock.code == WRISTBAND.code else on_label


def wristbands_pdf(patients: Iterable[Patient], *, stock: Stock) -> bytes:
    bands = [wristband_of(patient) for patient in patients]
    return render_pdf([draw_wristband(band, stock) for band in bands], stock=stock, title="Patient wristbands")
