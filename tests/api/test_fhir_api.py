"""patients/{id}/fhir/: the patient's record as a FHIR R4 Bundle, validated with fhir.resources (R4B models)."""

import json
from collections import Counter
from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle

from tests import journey
from tracker.fhir import ISBT128, LOINC, USED_PRODUCT, patient_fhir_bundle

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(world):
    return journey.storied_patient(world, days_ago=5)


def url(patient_id: int) -> str:
    return f"/api/v1/patients/{patient_id}/fhir/"


def fetch(client, patient_id: int) -> dict:
    response = client.get(url(patient_id), HTTP_ACCEPT="application/fhir+json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return json.loads(response.content)


def resources(bundle: dict, kind: str) -> list[dict]:
    return [entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == kind]


def test_the_bundle_validates_as_fhir_r4_and_holds_every_resource_type(world, client_for, story):
    order, _administration, _records = story

    bundle = fetch(client_for(world.clinician), order.patient.id)

    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    counts = Counter(entry["resource"]["resourceType"] for entry in bundle["entry"])
    assert counts == {
        "Patient": 1,
        "BiologicallyDerivedProduct": 1,
        "Procedure": 1,
        "Observation": 6,
        "AdverseEvent": 1,
        "MedicationAdministration": 2,
    }


def test_every_reference_points_into_the_bundle(world, client_for, story):
    order, _administration, _records = story
    bundle = fetch(client_for(world.clinician), order.patient.id)
    names = {entry["fullUrl"] for entry in bundle["entry"]}
    assert len(names) == len(bundle["entry"])

    def references(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "reference":
                    yield value
                else:
                    yield from references(value)
        elif isinstance(node, list):
            for item in node:
                yield from references(item)

    found = list(references(bundle))
    assert found and set(found) <= names


def test_the_patient_carries_the_mrn_and_demographics(world, client_for, story):
    order, _administration, _records = story

    (patient,) = resources(fetch(client_for(world.clinician), order.patient.id), "Patient")

    assert patient["identifier"][0]["value"] == order.patient.mrn
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    assert patient["name"] == [{"use": "official", "family": "Lovelace", "given": ["Ada"]}]
    assert patient["gender"] == "female"
    assert patient["birthDate"] == order.patient.birth_date.isoformat()


def test_the_product_is_identified_by_unit_coi_and_isbt_128_din(world, client_for, story):
    order, administration, _records = story
    collection = order.chain.collections.get()

    (product,) = resources(fetch(client_for(world.clinician), order.patient.id), "BiologicallyDerivedProduct")

    values = {(identifier["system"].rsplit("/", 1)[-1], identifier["value"]) for identifier in product["identifier"]}
    assert ("unit-id", administration.unit.unit_id) in values
    assert ("coi", order.coi) in values
    din = next(i for i in product["identifier"] if i["system"] == ISBT128)
    assert din["value"] == collection.din and len(din["value"]) == 13
    assert product["productCategory"] == "cells"
    assert product["status"] == "unavailable", "the unit was infused"
    assert product["collection"]["source"]["reference"].startswith("urn:uuid:")
    assert [step["description"] for step in product["processing"]] == [
        "Selection",
        "Activation",
        "Transduction",
        "Expansion",
        "Cryopreservation",
    ]


def test_the_infusion_is_a_procedure_that_points_at_the_product(world, client_for, story):
    order, administration, _records = story
    bundle = fetch(client_for(world.clinician), order.patient.id)
    (product,) = resources(bundle, "BiologicallyDerivedProduct")
    product_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is product or e["resource"] == product)

    (procedure,) = resources(bundle, "Procedure")

    assert procedure["status"] == "completed"
    assert procedure["performedDateTime"] == administration.administered_at.isoformat()
    (used,) = procedure["usedReference"]
    assert used["extension"] == [{"url": USED_PRODUCT, "valueReference": {"reference": product_url}}]
    assert administration.unit.unit_id in used["display"]


def test_each_assessment_is_an_observation_with_grades_and_measurements(world, client_for, story):
    order, _administration, records = story
    graded = records["assessments"][2]

    observations = resources(fetch(client_for(world.clinician), order.patient.id), "Observation")

    observation = next(o for o in observations if o["id"] == f"assessment-{graded.id}")
    assert observation["status"] == "final"
    by_code = {c["code"]["coding"][0]["code"]: c for c in observation["component"]}
    assert by_code["crs-grade"]["valueInteger"] == 2
    assert by_code["icans-grade"]["valueInteger"] == 0
    temperature = by_code["8310-5"]
    assert temperature["code"]["coding"][0]["system"] == LOINC
    assert temperature["valueQuantity"] == {
        "value": 39.3,
        "unit": "°C",
        "system": "http://unitsofmeasure.org",
        "code": "Cel",
    }
    assert by_code["8867-4"]["valueQuantity"]["value"] == 118
    assert by_code["1988-5"]["valueQuantity"]["value"] == 182.0
    assert by_code["hypotension"]["valueCodeableConcept"]["coding"][0]["code"] == "fluids"


def test_adverse_events_and_interventions(world, client_for, story):
    order, _administration, _records = story
    bundle = fetch(client_for(world.clinician), order.patient.id)

    (adverse,) = resources(bundle, "AdverseEvent")
    assert adverse["actuality"] == "actual"
    assert adverse["seriousness"]["coding"][0]["code"] == "serious"
    assert adverse["severity"]["coding"][0]["code"] == "moderate"
    assert adverse["event"]["coding"][0] == {"system": "http://terminology.hl7.org/CodeSystem/mdr", "code": "10052015"}
    assert adverse["suspectEntity"][0]["instance"]["reference"].startswith("urn:uuid:")

    medications = resources(bundle, "MedicationAdministration")
    assert [m["medicationCodeableConcept"]["text"] for m in medications] == ["tocilizumab", "dexamethasone"]
    assert medications[0]["dosage"]["dose"] == {"value": 8.0, "unit": "mg/kg"}
    assert medications[0]["status"] == "completed"


def test_a_patient_before_infusion_exports_without_procedure(world, client_for):
    order = journey.make_order(world)
    journey.collect(world, order)

    bundle = fetch(client_for(world.clinician), order.patient.id)

    Bundle.model_validate(bundle)
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} == {"Patient"}


def test_a_voided_infusion_is_entered_in_error(world, client_for):
    from tracker.services.monitoring import administration_void

    order, administration, _ = journey.storied_patient(world, days_ago=1, course=False)
    administration_void(administration_id=administration.id, actor=world.clinician, reason="Wrong patient chart")

    (procedure,) = resources(fetch(client_for(world.clinician), order.patient.id), "Procedure")

    assert procedure["status"] == "entered-in-error"


def test_scoping_404_for_another_facility_403_for_manufacturing_401_anonymous(world, client_for, anon_client, story):
    order, _administration, _records = story

    assert client_for(world.other_clinician).get(url(order.patient.id)).status_code == 404
    assert client_for(world.manufacturing).get(url(order.patient.id)).status_code == 403
    assert anon_client.get(url(order.patient.id)).status_code == 401


def test_the_export_takes_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    order, administration, _ = journey.storied_patient(world, days_ago=40, course=False)
    journey.many_timeline_events(world, order.patient, administration.administered_at + timedelta(minutes=5), 2000)

    with django_assert_max_num_queries(10):
        bundle = patient_fhir_bundle(patient=order.patient)

    Bundle.model_validate(bundle)
    assert len(bundle["entry"]) > 1000
