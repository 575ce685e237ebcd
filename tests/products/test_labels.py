"""Labels read back as a scanner reads them: every barcode decoded from the rendered PDF, every line of text found."""

from decimal import Decimal

import pytest
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import inch, mm

from products.labels import collection_labels_pdf, unit_labels_pdf
from products.labels.layout import A4_SHEET, LABEL_STOCKS, LETTER_SHEET, THERMAL_4X2, WRISTBAND
from products.models import Collection, Unit
from products.rules.isbt128 import check_character, parse_din, parse_scan, parse_unit_composite
from products.rules.labelling import (
    AUTOLOGOUS_ONLY,
    TIMES,
    cell_count,
    storage_statement,
    unit_label_statements,
)
from products.selectors import units_for_labels
from tests import journey
from tests.barcodes import read_pdf
from tracker.labels import wristbands_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


def labelled(unit: Unit) -> Unit:
    return units_for_labels(Unit.objects.filter(id=unit.id)).get()


def test_a_unit_label_carries_every_identifier_as_text_and_as_barcodes_a_scanner_reads(world):
    order, unit = journey.bedside(world)
    din = Collection.objects.get(chain=order.chain).din

    [page] = read_pdf(unit_labels_pdf([labelled(unit)], stock=THERMAL_4X2))

    # Code 128 of the DIN with its ISBT 128 data identifier and flags, never the check character
    assert sorted(page.texts("Code128")) == sorted([f"={din}00", unit.unit_id])
    scanned_din = parse_scan(f"={din}00").din
    assert scanned_din is not None and scanned_din.number == din and scanned_din.scanned
    # the QR code: COI, unit id and expiry
    [composite] = page.texts("QRCode")
    decoded = parse_unit_composite(composite)
    assert (decoded.coi, decoded.unit_id) == (order.coi, unit.unit_id)
    assert decoded.expires_at == unit.expires_at.replace(second=0, microsecond=0)
    # the text: the statement, product, the DIN with its check character (boxed), COI, dose, expiry, storage
    text = " ".join(page.text.split())
    assert AUTOLOGOUS_ONLY in text
    assert unit.batch.product.name in text
    assert f"DIN {din[:5]} {din[5:7]} {din[7:]} {check_character(din)}" in text
    assert f"COI {order.coi[:3]}-{order.coi[3:8]}" in text
    assert f"Dose 1 {TIMES} 108 cells · 68 mL" in text  # the exponent 8 is raised
    assert f"EXP {unit.expires_at:%Y-%m-%d %H:%M} UTC" in text
    assert "Store at or below -120 °C" in text
    assert f"UNIT {unit.unit_id}" in text
    assert (page.width_pt, page.height_pt) == pytest.approx((4 * inch, 2 * inch))


def test_an_allogeneic_units_label_does_not_say_autologous(world):
    product = journey.make_product(world, code="msc-x", source="allogeneic", modality="msc")
    _, unit = journey.bedside(world, product=product)

    [page] = read_pdf(unit_labels_pdf([labelled(unit)], stock=THERMAL_4X2))

    assert AUTOLOGOUS_ONLY not in page.text
    assert unit.unit_id in page.texts("Code128")


def test_a_sheet_holds_ten_labels_a_page_and_every_one_reads(world):
    product = journey.product_of(world)
    order = journey.make_order(world, product=product)
    journey.collect(world, order)
    batch = journey.start_batch(world, order, lot="LOT-MANY")
    ids = [f"BAG-{i:02d}" for i in range(12)]
    for unit_id in ids:
        journey.make_unit(world, batch, unit_id=unit_id)

    pages = read_pdf(unit_labels_pdf(units_for_labels(Unit.objects.filter(batch=batch)), stock=A4_SHEET))

    assert len(pages) == 2
    assert (pages[0].width_pt, pages[0].height_pt) == pytest.approx(A4)
    assert sorted(pages[0].texts("Code128") + pages[1].texts("Code128")) == sorted(
        [f"={Collection.objects.get(chain=order.chain).din}00"] * 12 + ids
    )
    assert len(pages[0].texts("QRCode")) == 10 and len(pages[1].texts("QRCode")) == 2


@pytest.mark.parametrize("code", sorted(LABEL_STOCKS))
def test_every_stock_prints_a_label_that_reads(world, code):
    _, unit = journey.bedside(world)
    stock = LABEL_STOCKS[code]

    [page] = read_pdf(unit_labels_pdf([labelled(unit)], stock=stock))

    assert (page.width_pt, page.height_pt) == pytest.approx(stock.page)
    assert unit.unit_id in page.texts("Code128") and len(page.texts("QRCode")) == 1


def test_the_stocks_are_the_common_ones():
    assert LABEL_STOCKS["4x2in"].label == pytest.approx((4 * inch, 2 * inch))
    assert LABEL_STOCKS["100x50mm"].label == pytest.approx((100 * mm, 50 * mm))
    assert LETTER_SHEET.page == LETTER and LETTER_SHEET.per_page == 10
    # every label of a sheet lies on the page, none overlaps the next
    for stock in (A4_SHEET, LETTER_SHEET):
        origins = stock.origins()
        for x, y in origins:
            assert 0 <= x and x + stock.label[0] <= stock.page[0] + 0.01
            assert 0 <= y and y + stock.label[1] <= stock.page[1] + 0.01
        assert origins[1][0] - origins[0][0] >= stock.label[0]
        assert origins[0][1] - origins[2][1] >= stock.label[1]


def test_a_unit_id_a_scanner_could_not_give_back_gets_no_barcode_but_its_label_prints(world):
    order = journey.make_order(world)
    journey.collect(world, order)
    unit = journey.make_unit(world, journey.start_batch(world, order, lot="LOT-U"), unit_id="BAG-Ü1")

    [page] = read_pdf(unit_labels_pdf([labelled(unit)], stock=THERMAL_4X2))

    assert "BAG-Ü1" not in page.texts("Code128") and "UNIT BAG-Ü1" in page.text
    assert parse_unit_composite(page.texts("QRCode")[0]).unit_id == "BAG-Ü1"


def test_a_collection_label_carries_the_din_and_the_coi(world):
    order = journey.make_order(world)
    journey.collect(world, order)
    collection = Collection.objects.select_related("chain__product", "facility").get(chain=order.chain)

    [page] = read_pdf(collection_labels_pdf([collection], stock=THERMAL_4X2))

    assert sorted(page.texts("Code128")) == sorted([f"={collection.din}00", order.coi])
    assert parse_din(f"={collection.din}00").check == collection.din_check
    text = " ".join(page.text.split())
    assert AUTOLOGOUS_ONLY in text and "Apheresis · 250 mL" in text and collection.facility.name in text
    assert f"{collection.din[7:]} {collection.din_check}" in text


def test_a_wristband_carries_name_birth_date_and_mrn_and_a_barcode_of_the_mrn(world):
    patient = journey.make_patient(world, mrn="CH-7731")
    patient = type(patient).objects.select_related("facility").get(id=patient.id)

    [band] = read_pdf(wristbands_pdf([patient], stock=WRISTBAND))
    [label] = read_pdf(wristbands_pdf([patient], stock=THERMAL_4X2))

    for page in (band, label):
        assert page.texts("Code128") == ["CH-7731"]
        assert "LOVELACE, Ada" in page.text
        assert f"Born {patient.birth_date.isoformat()} · Female" in page.text
        assert "MRN CH-7731" in page.text and "City Hospital" in page.text
    assert (band.width_pt, band.height_pt) == pytest.approx((11 * inch, 1 * inch))


# The label's words: pure rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "statements"), [("autologous", ["FOR AUTOLOGOUS USE ONLY"]), ("allogeneic", [])])
def test_statements_follow_the_products_source(source, statements):
    assert unit_label_statements(source=source) == statements


@pytest.mark.parametrize(
    ("low", "high", "line"),
    [
        (None, Decimal("-120"), "Store at or below -120 °C"),
        (Decimal("2"), Decimal("8.0"), "Store between 2 °C and 8 °C"),
        (Decimal("-150.5"), None, "Store at or above -150.5 °C"),
        (Decimal("4"), Decimal("4"), "Store at 4 °C"),
        (None, None, "Storage: see the product's instructions"),
    ],
)
def test_the_storage_line_follows_the_storage_range(low, high, line):
    assert storage_statement(min_c=low, max_c=high) == line


@pytest.mark.parametrize(
    ("count", "printed"),
    [(100_000_000, "1 × 10^8"), (150_000_000, "1.5 × 10^8"), (2_500_000, "2.5 × 10^6"), (0, "0 × 10^0")],  # noqa: RUF001
)
def test_a_cell_count_is_printed_as_a_label_writes_it(count, printed):
    assert str(cell_count(count)) == printed
