"""units/{unit_id}/label.pdf, collections/{id}/label.pdf, patients/{id}/wristband.pdf: PDFs that read back, scoped
like every other endpoint."""

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import inch

from products.models import Collection
from tests import journey
from tests.barcodes import read_pdf

pytestmark = pytest.mark.django_db


def pdf_of(response) -> list:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    return read_pdf(response.content)


def test_a_unit_label_is_a_pdf_whose_barcodes_read_back(world, client_for, django_assert_max_num_queries):
    order, unit = journey.bedside(world)
    din = Collection.objects.get(chain=order.chain).din
    client = client_for(world.clinician)

    with django_assert_max_num_queries(8):
        response = client.get(f"/api/v1/units/{unit.unit_id}/label.pdf")

    [page] = pdf_of(response)
    assert sorted(page.texts("Code128")) == sorted([f"={din}00", unit.unit_id])
    assert page.texts("QRCode")[0].startswith(f"V2V1|{order.coi}|")
    assert response["Content-Disposition"] == f'inline; filename="unit-{unit.unit_id}.pdf"'


def test_the_manufacturing_site_prints_its_units_labels_which_hold_no_patient_data(world, client_for):
    order, unit = journey.bedside(world)

    [page] = pdf_of(client_for(world.manufacturing).get(f"/api/v1/units/{unit.unit_id}/label.pdf"))

    assert order.patient.mrn not in page.text and order.patient.family_name.upper() not in page.text.upper()


def test_the_stock_is_chosen_by_the_query_and_an_unknown_one_is_a_400(world, client_for):
    _, unit = journey.bedside(world)
    client = client_for(world.clinician)

    [page] = pdf_of(client.get(f"/api/v1/units/{unit.unit_id}/label.pdf", {"stock": "a4"}))
    refused = client.get(f"/api/v1/units/{unit.unit_id}/label.pdf", {"stock": "a3"})

    assert (page.width_pt, page.height_pt) == pytest.approx(A4)
    assert refused.status_code == 400 and "stock" in refused.json()
    assert refused["Content-Type"] == "application/json"


def test_a_label_not_yours_is_a_404_in_json_and_without_credentials_a_401(world, client_for, anon_client):
    _, unit = journey.bedside(world)
    collection = Collection.objects.first()

    for path in (f"/api/v1/units/{unit.unit_id}/label.pdf", f"/api/v1/collections/{collection.id}/label.pdf"):
        missing = client_for(world.other_clinician).get(path, HTTP_ACCEPT="application/pdf")
        assert missing.status_code == 404 and "detail" in missing.json()
        assert anon_client.get(path).status_code == 401
    assert client_for(world.clinician).get("/api/v1/units/NO-SUCH-BAG/label.pdf").status_code == 404


def test_a_collection_label_is_a_pdf_of_the_din_and_the_coi(world, client_for, django_assert_max_num_queries):
    order = journey.make_order(world)
    journey.collect(world, order)
    collection = Collection.objects.get(chain=order.chain)

    with django_assert_max_num_queries(8):
        response = client_for(world.coordinator).get(f"/api/v1/collections/{collection.id}/label.pdf")
    [page] = pdf_of(response)

    assert sorted(page.texts("Code128")) == sorted([f"={collection.din}00", order.coi])


def test_a_wristband_for_those_who_may_see_the_patient_and_no_one_else(
    world, client_for, django_assert_max_num_queries
):
    patient = journey.make_patient(world, mrn="CH-7731")
    path = f"/api/v1/patients/{patient.id}/wristband.pdf"

    with django_assert_max_num_queries(8):
        response = client_for(world.clinician).get(path)
    [band] = pdf_of(response)
    [label] = pdf_of(client_for(world.coordinator).get(path, {"stock": "4x2in"}))

    assert band.texts("Code128") == ["CH-7731"] and "MRN CH-7731" in band.text
    assert (band.width_pt, band.height_pt) == pytest.approx((11 * inch, 1 * inch))
    assert label.texts("Code128") == ["CH-7731"]
    assert client_for(world.other_clinician).get(path).status_code == 404
    assert client_for(world.manufacturing).get(path).status_code == 403
    response = client_for(world.clinician).get(path)
    assert response["Content-Disposition"] == f'inline; filename="wristband-{patient.id}.pdf"'


def test_the_schema_documents_the_pdfs(world, client_for):
    schema = client_for(world.clinician).get("/api/schema/", {"format": "json"}).json()

    for path in (
        "/api/v1/units/{unit_id}/label.pdf",
        "/api/v1/collections/{id}/label.pdf",
        "/api/v1/patients/{id}/wristband.pdf",
    ):
        get = schema["paths"][path]["get"]
        assert "application/pdf" in get["responses"]["200"]["content"], path
        assert {"400", "403", "404", "429"} <= set(get["responses"])
        [stock] = [p for p in get["parameters"] if p["name"] == "stock"]
        assert "a4" in stock["schema"]["enum"]
