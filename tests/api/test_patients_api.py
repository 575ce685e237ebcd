"""patients/: patient records (PHI) at a treating facility, seen only by that facility's staff."""

import pytest

from tests import journey
from tracker.models import Patient

pytestmark = pytest.mark.django_db


def patient(**extra: object) -> dict:
    return {
        "mrn": "H-1001",
        "given_name": "Rosalind",
        "family_name": "Franklin",
        "birth_date": "1980-07-25",
        "sex": "female",
        "weight_kg": 58.2,
        "facility": "hospital",
    } | extra


def test_a_patient_is_registered_at_the_callers_hospital(world, client_for):
    client = client_for(world.clinician)

    response = client.post("/api/v1/patients/", patient())

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"] == Patient.objects.get().id
    assert body | {"id": 0, "created_at": "", "updated_at": ""} == patient(id=0, created_at="", updated_at="", hla={})
    assert client.get(f"/api/v1/patients/{body['id']}/").json() == body


def test_an_mrn_already_registered_at_the_hospital_is_a_400_on_mrn(world, client_for):
    client = client_for(world.clinician)
    assert client.post("/api/v1/patients/", patient()).status_code == 201

    again = client.post("/api/v1/patients/", patient(given_name="Other"))

    assert again.status_code == 400
    assert "mrn" in again.json()
    assert Patient.objects.count() == 1


def test_a_patient_at_a_hospital_the_caller_does_not_work_at_is_a_403(world, client_for):
    response = client_for(world.clinician).post("/api/v1/patients/", patient(facility="elsewhere"))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Patient.objects.exists()


def test_a_patient_at_a_collection_centre_is_a_400_on_facility(world, client_for):
    response = client_for(world.coordinator).post("/api/v1/patients/", patient(facility="apheresis"))

    assert response.status_code == 400
    assert "facility" in response.json()
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("sex", "robot"), ("birth_date", "2999-01-01"), ("birth_date", "25/07/1980"), ("weight_kg", 0), ("mrn", "")],
)
def test_invalid_patient_input_is_a_400_naming_the_field(field, value, world, client_for):
    response = client_for(world.clinician).post("/api/v1/patients/", patient(**{field: value}))

    assert response.status_code == 400
    assert field in response.json()
    assert not Patient.objects.exists()


def test_a_clinician_of_another_hospital_neither_sees_nor_finds_the_patient(world, client_for):
    ours = journey.make_patient(world)
    client = client_for(world.other_clinician)

    assert client.get(f"/api/v1/patients/{ours.id}/").status_code == 404
    assert client.get("/api/v1/patients/").json()["results"] == []


def test_manufacturing_gets_403_on_every_patient_endpoint(world, client_for):
    ours = journey.make_patient(world)
    client = client_for(world.manufacturing)

    assert client.get("/api/v1/patients/").status_code == 403
    assert client.get(f"/api/v1/patients/{ours.id}/").status_code == 403
    assert client.post("/api/v1/patients/", patient(mrn="H-2")).status_code == 403
    assert Patient.objects.count() == 1


def test_patients_filter_by_facility_and_search_on_name_and_mrn(world, client_for):
    journey.make_patient(world, mrn="H-77")
    client = client_for(world.coordinator)  # works at the hospital and the apheresis centre
    client.post("/api/v1/patients/", patient())

    def names(query: str) -> list[str]:
        return [p["family_name"] for p in client.get(f"/api/v1/patients/?{query}").json()["results"]]

    assert names("search=frank") == ["Franklin"]
    assert names("search=h-77") == ["Lovelace"]
    assert names("facility=hospital") == ["Franklin", "Lovelace"]
    assert names("facility=elsewhere") == []


def test_unauthenticated_patient_detail_is_a_401(world, anon_client):
    ours = journey.make_patient(world)

    assert anon_client.get(f"/api/v1/patients/{ours.id}/").status_code == 401


@pytest.mark.parametrize("rows", [1, 10])
def test_patient_list_takes_the_same_number_of_queries_for_1_or_10_patients(
    rows, world, client_for, django_assert_max_num_queries
):
    for n in range(rows):
        journey.make_patient(world, mrn=f"H-{n}")
    client = client_for(world.clinician)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/patients/")

    assert len(response.json()["results"]) == rows
