"""The allogeneic journey through the REST API: donor, eligibility, collection, a batch of units in inventory,
allocation to two patients, custody and the bedside check; and each refusal as its 409 code (or 400), writing
nothing."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from products.choices import Role
from products.models import Allocation, Donor, DonorDetermination, Signature, Unit
from tests import journey
from tests.allogeneic import (
    DONOR_HLA,
    PATIENT_HLA,
    allocate,
    donor_batch,
    donor_collection,
    eligible_donor,
    inventory,
    msc_order,
    msc_product,
    record_tests,
    register_donor,
    screen,
)
from tests.barcodes import read_pdf
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def bedside(order, unit_id: str, **extra: object) -> dict:
    return {
        "coi": order["coi"],
        "unit": unit_id,
        "administered_at": ago(minutes=1),
        "route": "iv_infusion",
        "scanned_unit": unit_id,
        "scanned_patient": order["mrn"],
        "scanned_birth_date": order["birth_date"],
        "verifier_username": "coord",
        "verifier_password": journey.TEST_PASSWORD,
    } | extra


def test_allogeneic_journey_donor_to_two_infused_patients_through_the_api(world, client_for):
    integration, coordinator, clinician = (
        client_for(world.integration),
        client_for(world.coordinator),
        client_for(world.clinician),
    )
    manufacturing, qa = client_for(world.manufacturing), client_for(world.qa)

    # the catalogue: an allogeneic MSC product whose donors need the base tests, HTLV and CMV; no HLA match needed
    product = integration.post(
        "/api/v1/products/",
        {
            "code": "msc-api",
            "name": "MSC via the API",
            "modality": "msc",
            "source": "allogeneic",
            "gene_modified": False,
            "cryopreserved": True,
            "shelf_life_days": 365,
            "shelf_life_after_thaw_minutes": 180,
            "storage_max_temp_c": -135,
            "dose_unit": "cells",
            "monitoring_protocol": "msc_standard",
            "required_donor_tests": ["hiv_1_2", "hbv", "hcv", "syphilis", "htlv_1_2", "cmv"],
            "hla_match_min": 0,
            "manufacturing_facility": "factory",
            "release_spec": [{"test": "viability", "unit": "%", "min": 80}],
        },
    )
    assert product.status_code == 201, product.json()
    assert product.json()["hla_match_min"] == 0

    # the donor: the person on the patient side, a code without identity on the product side
    donor = coordinator.post(
        "/api/v1/donors/",
        {
            "facility": "apheresis",
            "given_name": "Dana",
            "family_name": "Donovan",
            "birth_date": "1990-03-04",
            "sex": "female",
            "hla": DONOR_HLA,
        },
    )
    assert donor.status_code == 201, donor.json()
    donor_id, code = donor.json()["id"], donor.json()["donor_code"]
    assert donor.json()["eligibility"] == "pending" and donor.json()["family_name"] == "Donovan"
    assert re.fullmatch(r"DN-[0-9A-Z]{4}-[0-9A-Z]{4}", code) and "1990" not in code
    for kind in ("history", "physical"):
        screening = coordinator.post(
            f"/api/v1/donors/{donor_id}/screenings/",
            {"kind": kind, "outcome": "acceptable", "performed_at": ago(days=4)},
        )
        assert screening.status_code == 201, screening.json()
    for test in ("hiv_1_2", "hbv", "hcv", "syphilis", "htlv_1_2", "cmv"):
        result = integration.post(
            f"/api/v1/donors/{donor_id}/tests/", {"test": test, "result": "negative", "sampled_at": ago(days=3)}
        )
        assert result.status_code == 201, result.json()

    # collection from the donor for the product, then a batch of units at the factory
    collection = coordinator.post(
        "/api/v1/collections/",
        {
            "donor": donor_id,
            "product": "msc-api",
            "din": journey.make_din(),
            "facility": "apheresis",
            "collected_at": ago(days=2),
            "method": "bone_marrow",
            "volume_ml": 60,
        },
    )
    assert collection.status_code == 201, collection.json()
    assert (collection.json()["coi"], collection.json()["donor_code"]) == (None, code)
    batch = manufacturing.post(
        "/api/v1/batches/",
        {
            "collection": collection.json()["id"],
            "lot_number": "MSC-API-1",
            "facility": "factory",
            "started_at": ago(days=1),
        },
    )
    assert batch.status_code == 201, batch.json()
    batch_id = batch.json()["id"]
    assert (batch.json()["coi"], batch.json()["donor_code"], batch.json()["product"]) == (None, code, "msc-api")
    for i, days in enumerate((200, 100, 300), start=1):
        unit = manufacturing.post(
            "/api/v1/units/",
            {
                "unit_id": f"MSC-API-{i}",
                "batch": batch_id,
                "dose_cells": 100_000_000,
                "volume_ml": 20,
                "expires_at": (timezone.now() + timedelta(days=days)).isoformat(),
                "storage_location": f"Dewar 2 / rack C / {i}",
            },
        )
        assert unit.status_code == 201, unit.json()
        assert unit.json()["coi"] is None and unit.json()["donor_code"] == code
    qc = manufacturing.post(
        f"/api/v1/batches/{batch_id}/qc-results/", {"test": "viability", "value": 92, "tested_at": ago(hours=5)}
    )
    assert qc.status_code == 201, qc.json()
    released = qa.post(f"/api/v1/batches/{batch_id}/release/", {"password": world.password, "meaning": "Released"})
    assert released.status_code == 200, released.json()

    # QA, where the cells went, determines the donor eligible (e-signed); the manufacturer sees only the code
    determined = qa.post(
        f"/api/v1/donors/{donor_id}/determination/",
        {"determination": "eligible", "password": world.password, "meaning": "Screening and tests reviewed"},
    )
    assert determined.status_code == 201, determined.json()
    assert determined.json()["signature"]["signer"] == "qa"
    seen_by_qa = qa.get(f"/api/v1/donors/{donor_id}/").json()
    assert seen_by_qa["eligibility"] == "eligible" and seen_by_qa["family_name"] is None
    assert manufacturing.get("/api/v1/donors/").status_code == 403
    stock = manufacturing.get("/api/v1/units/MSC-API-3/").json()
    assert (stock["donor_eligibility"], stock["label_warnings"], stock["storage_location"]) == (
        "eligible",
        [],
        "Dewar 2 / rack C / 3",
    )

    # two patients, each an order; one gets the soonest-expiring unit, the other a named one
    orders = []
    for mrn, hla in (("MRN-GVHD-1", PATIENT_HLA), ("MRN-GVHD-2", None)):
        patient = clinician.post(
            "/api/v1/patients/",
            {
                "mrn": mrn,
                "given_name": "Pat",
                "family_name": mrn[-1],
                "birth_date": "1970-01-02",
                "sex": "male",
                "weight_kg": 70,
                "facility": "hospital",
            }
            | ({"hla": hla} if hla else {}),
        )
        assert patient.status_code == 201, patient.json()
        order = clinician.post("/api/v1/orders/", {"patient": patient.json()["id"], "product": "msc-api"})
        assert order.status_code == 201, order.json()
        orders.append(order.json() | {"mrn": mrn, "birth_date": "1970-01-02", "patient": patient.json()["id"]})
    first = clinician.post(f"/api/v1/orders/{orders[0]['coi']}/allocate/", {})
    assert first.status_code == 201, first.json()
    assert (first.json()["unit"], first.json()["donor_code"], first.json()["hla_matches"]) == ("MSC-API-2", code, 5)
    second = clinician.post(f"/api/v1/orders/{orders[1]['coi']}/allocate/", {"unit": "MSC-API-1"})
    assert second.status_code == 201, second.json()
    assert second.json()["hla_matches"] is None  # the second patient is untyped: the product needs no match
    assert clinician.get(f"/api/v1/orders/{orders[0]['coi']}/").json()["allocated_units"] == ["MSC-API-2"]
    assert clinician.get(f"/api/v1/orders/{orders[1]['coi']}/").json()["status"] == "released"

    # custody to the hospital, then the bedside: each patient receives only their own unit
    for unit_id in ("MSC-API-2", "MSC-API-1"):
        for client, event, when, temperature in [
            (manufacturing, "shipped", ago(hours=30), -150),
            (clinician, "received", ago(hours=6), -150),
            (clinician, "stored", ago(hours=5), -160),
            (clinician, "thawed", ago(minutes=10), None),
        ]:
            record = client.post(
                f"/api/v1/units/{unit_id}/custody/",
                {"event": event, "at": when, "facility": "hospital", "temperature_c": temperature},
            )
            assert record.status_code == 201, (unit_id, event, record.json())
    wrong = clinician.post("/api/v1/administrations/", bedside(orders[0], "MSC-API-1"))
    assert wrong.status_code == 409 and wrong.json()["code"] == "identity_mismatch"
    for order, unit_id in zip(orders, ("MSC-API-2", "MSC-API-1"), strict=True):
        given = clinician.post("/api/v1/administrations/", bedside(order, unit_id))
        assert given.status_code == 201, given.json()
    assert Unit.objects.get(unit_id="MSC-API-3").chain is None  # still in inventory

    # the timeline tells the allocation
    timeline = clinician.get(f"/api/v1/patients/{orders[0]['patient']}/timeline/?kind=allocation").json()
    (event,) = timeline["events"]
    assert event["detail"]["unit"] == "MSC-API-2" and event["detail"]["donor_code"] == code
    assert code in event["summary"] and "HLA 5/8" in event["summary"]

    # the FHIR export: the unit by its donor's code and the donor's DIN, never the donor's name
    fhir = clinician.get(f"/api/v1/patients/{orders[0]['patient']}/fhir/", HTTP_ACCEPT="application/fhir+json")
    assert fhir.status_code == 200
    bundle = json.loads(fhir.content)
    Bundle.model_validate(bundle)
    (bag,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "BiologicallyDerivedProduct"]
    values = {(i["system"].rsplit("/", 1)[-1], i["value"]) for i in bag["identifier"]}
    assert ("donor-code", code) in values and ("unit-id", "MSC-API-2") in values
    assert collection.json()["din_number"] in {i["value"] for i in bag["identifier"]}
    assert "Donovan" not in fhir.content.decode() and "source" not in bag["collection"]


# --- donors and eligibility ------------------------------------------------------------------------------------


def test_hla_not_in_allele_notation_is_a_400_for_donors_and_patients_and_writes_nothing(world, client_for):
    coordinator, clinician = client_for(world.coordinator), client_for(world.clinician)
    donor = coordinator.post(
        "/api/v1/donors/",
        {
            "facility": "apheresis",
            "given_name": "A",
            "family_name": "B",
            "birth_date": "1990-01-01",
            "sex": "male",
            "hla": {"A": ["A2"]},
        },
    )
    assert donor.status_code == 400 and "hla" in donor.json(), donor.json()
    assert not Donor.objects.exists()
    patient = journey.make_patient(world)
    changed = clinician.patch(f"/api/v1/patients/{patient.pk}/", {"hla": {"B": ["A*02:01"]}})
    assert changed.status_code == 400 and "hla" in changed.json(), changed.json()
    patient.refresh_from_db()
    assert patient.hla == {}
    typed = clinician.patch(f"/api/v1/patients/{patient.pk}/", {"hla": PATIENT_HLA})
    assert typed.status_code == 200 and typed.json()["hla"]["DRB1"] == ["DRB1*15:01", "DRB1*04:01"]


def _tested_donor(world, *, tests=None, result="negative"):
    product = msc_product(world)
    donor = register_donor(world).donor
    screen(world, donor)
    record_tests(world, donor, tests=tests, result=result)
    donor_collection(world, donor, product)
    return donor


def _determine(client, world, donor):
    return client.post(
        f"/api/v1/donors/{donor.pk}/determination/",
        {"determination": "eligible", "password": world.password, "meaning": "Reviewed"},
    )


def test_eligible_with_a_required_test_missing_is_409_eligibility_incomplete(world, client_for):
    donor = _tested_donor(world, tests=["hiv_1_2", "hbv", "hcv"])
    answer = _determine(client_for(world.coordinator), world, donor)  # a coordinator is not QA: 403 first
    assert answer.status_code == 403
    qa = UserFactory(username="qa-site", roles=[Role.QA], facilities=[world.collection_site])
    answer = _determine(client_for(qa), world, donor)
    assert answer.status_code == 409 and answer.json()["code"] == "eligibility_incomplete", answer.json()
    assert "syphilis" in answer.json()["tests"]
    assert not DonorDetermination.objects.exists() and not Signature.objects.exists()
    donor.refresh_from_db()
    assert donor.eligibility == "pending"


def test_eligible_with_a_reactive_test_is_409_reactive_test(world, client_for):
    donor = _tested_donor(world)
    record_tests(world, donor, tests=["hcv"], result="reactive")
    qa = UserFactory(username="qa-site", roles=[Role.QA], facilities=[world.collection_site])
    answer = _determine(client_for(qa), world, donor)
    assert answer.status_code == 409 and answer.json()["code"] == "reactive_test", answer.json()
    assert not DonorDetermination.objects.exists() and not Signature.objects.exists()


def test_the_donor_list_costs_a_few_queries_however_many_donors(world, client_for, django_assert_max_num_queries):
    for name in ("One", "Two", "Three", "Four"):
        register_donor(world, family_name=name)
    client = client_for(world.coordinator)
    with django_assert_max_num_queries(12):
        answer = client.get("/api/v1/donors/")
    assert answer.status_code == 200 and answer.json()["count"] == 4


# --- allocation refusals ------------------------------------------------------------------------------------------


def _allocate(client, order, **body):
    return client.post(f"/api/v1/orders/{order.coi}/allocate/", body)


def _nothing_written(order) -> None:
    order.chain.refresh_from_db()
    assert not Allocation.objects.filter(chain=order.chain).exists()
    assert order.chain.status == "ordered" and not Unit.objects.filter(chain=order.chain).exists()


def test_no_eligible_unit_is_409(world, client_for):
    order = msc_order(world, msc_product(world))
    answer = _allocate(client_for(world.clinician), order)
    assert answer.status_code == 409 and answer.json()["code"] == "no_eligible_unit", answer.json()
    _nothing_written(order)


def test_a_unit_allocated_elsewhere_is_409_unit_not_available(world, client_for):
    product, _, units = inventory(world, units=1)
    allocate(world, msc_order(world, product), units[0])
    order = msc_order(world, product)
    answer = _allocate(client_for(world.clinician), order, unit=units[0].unit_id)
    assert answer.status_code == 409 and answer.json()["code"] == "unit_not_available", answer.json()
    _nothing_written(order)


def test_an_unreleased_or_expired_unit_is_409_unit_not_available(world, client_for):
    product = msc_product(world)
    donor = eligible_donor(world)
    _, unreleased = donor_batch(world, donor_collection(world, donor, product), units=1, release=False)
    order = msc_order(world, product)
    answer = _allocate(client_for(world.clinician), order, unit=unreleased[0].unit_id)
    assert answer.status_code == 409 and answer.json()["code"] == "unit_not_available"
    assert "not released" in answer.json()["detail"]
    _nothing_written(order)


def test_a_pending_donors_unit_is_409_donor_ineligible(world, client_for):
    product = msc_product(world)
    donor = register_donor(world).donor
    _, units = donor_batch(world, donor_collection(world, donor, product), units=1)
    order = msc_order(world, product)
    answer = _allocate(client_for(world.clinician), order, unit=units[0].unit_id)
    assert answer.status_code == 409 and answer.json()["code"] == "donor_ineligible", answer.json()
    _nothing_written(order)
    # and without a named unit, it is not chosen either
    answer = _allocate(client_for(world.clinician), order)
    assert answer.status_code == 409 and answer.json()["code"] == "no_eligible_unit"


def test_an_ineligible_donors_unit_is_allocated_only_under_a_signed_exception_with_its_warnings(world, client_for):
    product = msc_product(world)
    donor = register_donor(world).donor
    screen(world, donor)
    record_tests(world, donor)
    _, units = donor_batch(world, donor_collection(world, donor, product), units=1)
    record_tests(world, donor, tests=["hbv"], result="reactive")
    order = msc_order(world, product)
    client = client_for(world.clinician)
    answer = _allocate(client, order, unit=units[0].unit_id)
    assert answer.status_code == 409 and answer.json()["code"] == "donor_ineligible"
    unsigned = _allocate(client, order, unit=units[0].unit_id, exception="urgent_medical_need")
    assert unsigned.status_code == 400 and {"exception_rationale", "password"} <= set(unsigned.json())
    _nothing_written(order)
    signed = _allocate(
        client,
        order,
        unit=units[0].unit_id,
        exception="urgent_medical_need",
        exception_rationale="Steroid-refractory grade IV GVHD; no eligible unit in stock.",
        password=world.password,
    )
    assert signed.status_code == 201, signed.json()
    assert signed.json()["exception_signature"]["signer"] == "doc"
    warnings = signed.json()["label_warnings"]
    assert warnings[:2] == ["BIOHAZARD", "WARNING: Advise patient of communicable disease risks"]
    assert client.get(f"/api/v1/units/{units[0].unit_id}/").json()["label_warnings"] == warnings


def test_too_few_hla_matches_is_409_hla_mismatch(world, client_for):
    product = msc_product(world, code="hsc-api", hla_match_min=7)
    _, _, units = inventory(world, product=product, units=1)
    order = msc_order(world, product, hla=PATIENT_HLA)  # 5 of 8 with the donor
    answer = _allocate(client_for(world.clinician), order, unit=units[0].unit_id)
    assert answer.status_code == 409 and answer.json()["code"] == "hla_mismatch", answer.json()
    assert "5/8" in answer.json()["detail"]
    _nothing_written(order)


def test_releasing_an_allocation_returns_the_unit_and_the_bedside_then_refuses_it(world, client_for):
    product, _, units = inventory(world, units=1)
    order = msc_order(world, product)
    client = client_for(world.clinician)
    allocation = _allocate(client, order).json()
    no_reason = client.post(f"/api/v1/orders/{order.coi}/allocations/{allocation['id']}/release/", {})
    assert no_reason.status_code == 400
    released = client.post(
        f"/api/v1/orders/{order.coi}/allocations/{allocation['id']}/release/", {"reason": "Patient deferred"}
    )
    assert released.status_code == 200, released.json()
    assert (released.json()["is_open"], released.json()["released_by"]) == (False, "doc")
    again = client.get(f"/api/v1/orders/{order.coi}/").json()
    assert (again["allocated_units"], again["status"]) == ([], "ordered")
    history = client.get(f"/api/v1/orders/{order.coi}/allocations/").json()["results"]
    assert [a["release_reason"] for a in history] == ["Patient deferred"]
    units[0].refresh_from_db()
    assert units[0].chain is None
    events = client.get(f"/api/v1/patients/{order.patient.id}/timeline/?kind=allocation").json()["events"]
    assert [e["detail"]["release_reason"] for e in events] == ["Patient deferred"] * 2
    assert "returned to stock" in events[1]["summary"] and "Patient deferred" in events[1]["summary"]
    journey.deliver(world, units[0])
    patient = order.patient
    body = {
        "coi": order.coi,
        "unit": units[0].unit_id,
        "administered_at": ago(minutes=1),
        "route": "iv_infusion",
        "scanned_unit": units[0].unit_id,
        "scanned_patient": patient.mrn,
        "scanned_birth_date": patient.birth_date.isoformat(),
        "verifier_username": "coord",
        "verifier_password": journey.TEST_PASSWORD,
    }
    answer = client.post("/api/v1/administrations/", body)
    assert answer.status_code == 409 and answer.json()["code"] == "identity_mismatch"


def test_an_autologous_unit_carries_for_autologous_use_only(world, client_for):
    unit = journey.released_unit(world)
    answer = client_for(world.clinician).get(f"/api/v1/units/{unit.unit_id}/").json()
    assert answer["label_warnings"] == ["FOR AUTOLOGOUS USE ONLY"] and answer["donor_eligibility"] is None


def test_the_order_list_reads_allocated_units_in_a_few_queries(world, client_for, django_assert_max_num_queries):
    product, _, units = inventory(world, units=4)
    for unit in units:
        allocate(world, msc_order(world, product), unit)
    client = client_for(world.clinician)
    with django_assert_max_num_queries(10):
        answer = client.get("/api/v1/orders/")
    assert sorted(u for o in answer.json()["results"] for u in o["allocated_units"]) == sorted(u.unit_id for u in units)


def test_the_schema_documents_donors_allocation_and_their_refusals(world, client_for):
    schema = client_for(world.clinician).get("/api/schema/", {"format": "json"}).json()
    paths, components = schema["paths"], schema["components"]["schemas"]
    for path in (
        "/api/v1/donors/",
        "/api/v1/donors/{id}/tests/",
        "/api/v1/donors/{id}/determination/",
        "/api/v1/orders/{coi}/allocate/",
        "/api/v1/orders/{coi}/allocations/{allocation_id}/release/",
    ):
        assert path in paths, path
    allocate_op = paths["/api/v1/orders/{coi}/allocate/"]["post"]
    assert "409" in allocate_op["responses"] and "201" in allocate_op["responses"]
    for code in ("no_eligible_unit", "unit_not_available", "donor_ineligible", "hla_mismatch"):
        assert code in allocate_op["description"], code
    determination = paths["/api/v1/donors/{id}/determination/"]["post"]["responses"]["409"]["description"]
    assert "eligibility_incomplete" in determination and "reactive_test" in determination
    assert "allocated_units" in components["Order"]["properties"]
    assert {"hla_match_min", "required_donor_tests"} <= set(components["Product"]["properties"])
    assert {"donor_code", "label_warnings", "storage_location"} <= set(components["Unit"]["properties"])
    assert "donor_code" in components["Donor"]["properties"]


def test_the_labels_of_an_allogeneic_unit_and_of_a_donors_collection(world, client_for):
    product = msc_product(world)
    donor = register_donor(world).donor
    collection = donor_collection(world, donor, product)
    _, units = donor_batch(world, collection, units=1)

    unit_label = client_for(world.manufacturing).get(f"/api/v1/units/{units[0].unit_id}/label.pdf")
    assert unit_label.status_code == 200
    [page] = read_pdf(unit_label.content)
    # no determination yet: the label says so (21 CFR 1271.60(d)(2)); the DIN is the donor's collection's
    assert "NOT EVALUATED FOR INFECTIOUS SUBSTANCES" in page.text and "AUTOLOGOUS" not in page.text
    assert any(code.startswith(f"={collection.din}") for code in page.texts("Code128"))

    bag_label = client_for(world.coordinator).get(f"/api/v1/collections/{collection.id}/label.pdf")
    assert bag_label.status_code == 200
    [bag] = read_pdf(bag_label.content)
    assert donor.donor_code in bag.text and "Donovan" not in bag.text.title()
