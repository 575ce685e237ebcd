"""Printable labels of the product side: product units (bags) and collection bags. No patient data is printed
here (the COI stands for the patient, 21 CFR 1271.290); the wristband is the patient side's (tracker.labels).

A unit label carries, as text: the statements (products.rules.labelling, e.g. FOR AUTOLOGOUS USE ONLY), the
product, the DIN with its check character boxed, the COI, the dose and volume, the expiry, the storage line, the
lot and the unit id. As barcodes: Code 128 of the DIN with its ISBT 128 data identifier (`=`, 13 characters, 2 flag
characters; never the check character), Code 128 of the unit id, and a QR code of the composite
`V2V1|COI|expiry|unit id` (products.rules.isbt128.format_unit_composite). A collection label carries the DIN the
same way and a Code 128 of the COI.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from reportlab.lib.units import mm

from products.labels.layout import BOLD, MONO, Draw, Pen, Stock, render_pdf
from products.models import Collection, Unit
from products.rules.isbt128 import Din, coi_for_eye, din_barcode_data, format_unit_composite
from products.rules.labelling import TIMES, cell_count, storage_statement, unit_label_statements
from products.selectors import unit_label_warnings

MARGIN = 2.5 * mm
BAND = 4.2 * mm
QR_SIZE = 20 * mm
LINE = 2.75 * mm


def when(at: datetime) -> str:
    """A time as labels print it: local to the site, with its zone (2026-05-04 08:00 UTC)."""
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M %Z")


def din_of(collection: Collection) -> Din:
    return Din(number=collection.din, flags=collection.din_flags, check=collection.din_check)


def label_din(collections: Iterable[Collection]) -> Din | None:
    """The DIN a bag made from these collections carries: the first collection's (ISBT 128 would give a pooled
    product a DIN of its own, which this tracker does not record yet)."""
    first = min(collections, key=lambda c: (c.collected_at, c.id), default=None)
    return din_of(first) if first is not None else None


@dataclass(frozen=True)
class UnitLabel:
    unit_id: str
    coi: str
    din: Din | None
    product: str
    statements: list[str]
    dose_cells: int
    volume_ml: Decimal
    expires_at: datetime
    storage: str
    lot_number: str
    manufacturer: str

    @property
    def composite(self) -> str:
        return format_unit_composite(coi=self.coi, unit_id=self.unit_id, expires_at=self.expires_at)


def unit_label(unit: Unit) -> UnitLabel:
    """What a unit's label says. Expects the unit's batch, product, facility and chain collections loaded (see
    products.selectors.units_for_labels)."""
    product = unit.batch.product
    chain = unit.chain
    donation = unit.batch.collection  # allogeneic: the donor's collection the batch was made from
    if donation is not None:
        din = label_din([donation])
    else:
        din = label_din(chain.collections.all()) if chain is not None else None
    return UnitLabel(
        unit_id=unit.unit_id,
        coi=chain.coi if chain is not None else "",
        din=din,
        product=product.name,
        # FOR AUTOLOGOUS USE ONLY, or an allogeneic donor's warnings (none for an eligible donor).
        statements=list(unit_label_warnings(unit)),
        dose_cells=unit.dose_cells,
        volume_ml=unit.volume_ml,
        expires_at=unit.expires_at,
        storage=storage_statement(min_c=product.storage_min_temp_c, max_c=product.storage_max_temp_c),
        lot_number=unit.batch.lot_number,
        manufacturer=unit.batch.facility.name,
    )


def _statements(pen: Pen, top: float, statements: list[str]) -> float:
    for statement in statements:
        pen.band(MARGIN, top - BAND, pen.width - 2 * MARGIN, BAND, statement)
        top -= BAND + 0.8 * mm
    return top


def _din_line(pen: Pen, y: float, din: Din | None, width: float) -> None:
    """The eye-readable DIN as ISBT 128 prints it: FIN, year, sequence, the flags small, the check character boxed."""
    x = MARGIN + pen.text(MARGIN, y, "DIN ", font=BOLD, size=6)
    if din is None:
        pen.text(x, y, "none recorded", size=7, width=width - x)
        return
    number = f"{din.number[:5]} {din.number[5:7]} {din.number[7:]}"
    x += pen.text(x, y, number, font=MONO, size=10.5) + 0.6 * mm
    if din.flags:
        x += pen.text(x, y + 1.6 * mm, din.flags, font=MONO, size=5.5) + 0.6 * mm
    pen.boxed(x, y, din.check, size=10.5)


def _dose(pen: Pen, x: float, y: float, cells: int, volume_ml: Decimal) -> None:
    count = cell_count(cells)
    x += pen.text(x, y, "Dose ", font=BOLD, size=6.5)
    x += pen.text(x, y, f"{count.mantissa} {TIMES} 10", size=6.5)
    x += pen.text(x, y + 1.1 * mm, str(count.exponent), size=4.5)
    pen.text(x, y, f" cells · {volume_ml.normalize():f} mL", size=6.5)


def draw_unit_label(label: UnitLabel) -> Draw:
    def draw(pen: Pen) -> None:
        inner = pen.width - 2 * MARGIN
        left = inner - QR_SIZE - 2 * mm
        y = _statements(pen, pen.height - MARGIN, label.statements)
        pen.text(MARGIN, y - 2.9 * mm, label.product, font=BOLD, size=8, width=inner)
        y -= 3.8 * mm
        if label.coi:  # a unit not yet bound to an order (allogeneic, before allocation) has no COI to encode
            pen.qr(pen.width - MARGIN - QR_SIZE, y - QR_SIZE, label.composite, size=QR_SIZE)
        _din_line(pen, y - 3.6 * mm, label.din, left)
        y -= 4.8 * mm
        if label.din is not None:
            pen.code128(MARGIN, y - 7 * mm, din_barcode_data(label.din), height=7 * mm, width=left)
        y -= 7.6 * mm
        for part in (
            lambda y: pen.text(MARGIN, y, f"COI {coi_for_eye(label.coi) or 'not allocated'}", size=6.5, width=left),
            lambda y: _dose(pen, MARGIN, y, label.dose_cells, label.volume_ml),
            lambda y: pen.text(MARGIN, y, f"EXP {when(label.expires_at)}", font=BOLD, size=7, width=left),
            lambda y: pen.text(MARGIN, y, label.storage, size=6.5, width=left),
            lambda y: pen.text(MARGIN, y, f"Lot {label.lot_number} · {label.manufacturer}", size=6, width=left),
        ):
            y -= LINE
            part(y)
        pen.code128(MARGIN, MARGIN + 3 * mm, label.unit_id, height=6 * mm, width=inner)
        x = MARGIN + pen.text(MARGIN, MARGIN + 0.5 * mm, "UNIT ", font=BOLD, size=6)
        pen.text(x, MARGIN + 0.5 * mm, label.unit_id, font=BOLD, size=7.5, width=inner - x)

    return draw


@dataclass(frozen=True)
class CollectionLabel:
    din: Din
    coi: str
    product: str
    statements: list[str]
    method: str
    volume_ml: Decimal
    collected_at: datetime
    facility: str
    code_kind: str = "COI"  # what `coi` holds: an order's COI, or (a donor's collection) the donor's code


def collection_label(collection: Collection) -> CollectionLabel:
    """What a collection bag's label says. Expects the chain's product and the facility loaded."""
    chain, donor = collection.chain, collection.donor
    if chain is not None:
        product, code, code_kind = chain.product, chain.coi, "COI"
    elif donor is not None and collection.product is not None:
        # A donor's collection (allogeneic) belongs to no order yet: its bag carries the donor's code instead.
        product, code, code_kind = collection.product, donor.donor_code, "DONOR"
    else:  # the collection's constraint makes this unreachable: a chain, or a donor and a product
        raise ValueError(f"Collection {collection.pk} names neither a chain nor a donor and a product.")
    return CollectionLabel(
        din=din_of(collection),
        coi=code,
        code_kind=code_kind,
        product=product.name,
        statements=unit_label_statements(source=product.source),
        method=collection.get_method_display(),
        volume_ml=collection.volume_ml,
        collected_at=collection.collected_at,
        facility=collection.facility.name,
    )


def draw_collection_label(label: CollectionLabel) -> Draw:
    def draw(pen: Pen) -> None:
        inner = pen.width - 2 * MARGIN
        y = _statements(pen, pen.height - MARGIN, label.statements)
        pen.text(MARGIN, y - 2.9 * mm, f"Collection for {label.product}", font=BOLD, size=8, width=inner)
        y -= 3.8 * mm
        _din_line(pen, y - 3.6 * mm, label.din, inner)
        y -= 4.8 * mm
        pen.code128(MARGIN, y - 8 * mm, din_barcode_data(label.din), height=8 * mm, width=inner)
        y -= 8.6 * mm
        for text in (
            f"{label.method} · {label.volume_ml.normalize():f} mL",
            f"Collected {when(label.collected_at)}",
            label.facility,
        ):
            y -= LINE
            pen.text(MARGIN, y, text, size=6.5, width=inner)
        pen.code128(MARGIN, MARGIN + 3 * mm, label.coi, height=6 * mm, width=inner)
        x = MARGIN + pen.text(MARGIN, MARGIN + 0.5 * mm, f"{label.code_kind} ", font=BOLD, size=6)
        pen.text(x, MARGIN + 0.5 * mm, coi_for_eye(label.coi), font=BOLD, size=7.5, width=inner - x)

    return draw


def unit_labels_pdf(units: Iterable[Unit], *, stock: Stock) -> bytes:
    labels = [unit_label(unit) for unit in units]
    title = "Unit labels" if len(labels) != 1 else f"Unit label {labels[0].unit_id}"
    return render_pdf([draw_unit_label(label) for label in labels], stock=stock, title=title)


def collection_labels_pdf(collections: Iterable[Collection], *, stock: Stock) -> bytes:
    labels = [collection_label(collection) for collection in collections]
    title = "Collection labels" if len(labels) != 1 else f"Collection label {labels[0].din.number}"
    return render_pdf([draw_collection_label(label) for label in labels], stock=stock, title=title)
