"""No input makes the API answer 5xx (CONTRACT 1.1, Trust): NUL characters, far dates and impossible offsets,
out-of-range numbers, NaN, oversized or deeply nested bodies, unknown media types are a 400, 409, 413 or 415 with
a message, and nothing is written. (The fuzzing test finds such input at random; these are the cases it found,
and the ones the contract names, pinned.)"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from products.models import ProcessingStep, Unit
from tests import journey
from tracker.models import Assessment, Patient

pytestmark = pytest.mark.django_db


def patient_body(**extra: object) -> dict:
    return {
        "mrn": "H-1",
        "given_name": "Rosalind",
        "family_name": "Franklin",
        "birth_date": "1980-07-25",
        "sex": "female",
        "facility": "hospital",
    } | extra


# NUL: PostgreSQL's text and jsonb cannot hold it ------------------------------------------------------------------


def test_a_nul_character_in_a_json_string_is_a_400_naming_the_field(world, client_for):
    response = client_for(world.clinician).post("/api/v1/patients/", patient_body(mrn="H\u00001"))

    assert response.status_code == 400
    assert response.json() == {"mrn": ["The NUL character (\\u0000) is not allowed in text: found in mrn."]}
    assert not Patient.objects.exists()


def test_a_nul_character_in_free_form_json_is_a_400_not_a_database_error(world, client_for):
    batch = journey.started_batch(world)
    body = {"kind": "selection", "started_at": timezone.now().isoformat(), "parameters": {"bead\u0000lot": "x"}}

    response = client_for(world.manufacturing).post(f"/api/v1/batches/{batch.id}/steps/", body)

    assert response.status_code == 400
    assert response.json() == {
        "parameters": ["The NUL character (\\u0000) is not allowed in text: found in parameters.bead\\u0000lot."]
    }
    assert not ProcessingStep.objects.exists()


def test_a_nul_character_in_a_body_that_is_no_object_is_a_400_in_words(world, client_for):
    response = client_for(world.clinician).post(
        "/api/v1/patients/", data='["a\\u0000"]', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "The NUL character (\\u0000) is not allowed in text: found in [0]."}


def test_a_nul_character_in_a_form_post_is_a_400(world, client_for):
    unit = journey.released_unit(world)
    client = client_for(world.qa)

    response = client.post("/api/v1/holds/", {"unit": unit.unit_id, "kind": "recall", "reason": "r\x00"}, format=None)

    assert response.status_code == 400
    assert list(response.json()) == ["reason"]


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/api/v1/units/U%00/", "path"),
        ("/api/v1/patients/?search=%00", "query string"),
        ("/api/v1/health/?x=%00", "query string"),
    ],
)
def test_a_nul_character_in_a_url_is_a_json_400(path, where, world, client_for):
    response = client_for(world.integration).get(path)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert where in response.json()["detail"]


def test_a_nul_character_in_an_admin_search_is_a_400_not_a_database_error(world, client):
    client.force_login(world.coordinator)

    response = client.get("/admin/tracker/patient/?q=%00")

    assert response.status_code == 400


# Dates far away and offsets PostgreSQL cannot store ----------------------------------------------------------------


def test_a_date_time_filter_with_an_offset_postgresql_cannot_store_is_read_in_utc(world, client_for):
    # Python takes offsets up to 23:59, PostgreSQL up to 15:59: the filter's moment is sent to the database in UTC.
    patient = journey.make_patient(world)
    client = client_for(world.clinician)
    client.post("/api/v1/assessments/", {"patient": patient.id, "assessed_at": "2026-01-01T12:00:00Z"})

    before = client.get("/api/v1/assessments/", {"assessed_after": "2026-01-01T23:00:00+17:17"})  # 05:43 UTC
    after = client.get("/api/v1/assessments/", {"assessed_after": "2026-01-02T06:00:00+17:17"})  # 12:43 UTC

    assert before.status_code == after.status_code == 200
    assert (before.json()["count"], after.json()["count"]) == (1, 0)


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00+05:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-05:00",  # after year 9999 in UTC
        "2026-01-01T00:00:00+25:00",  # no such offset
    ],
)
def test_a_date_time_filter_out_of_range_is_a_400_naming_the_filter(moment, world, client_for):
    response = client_for(world.clinician).get("/api/v1/assessments/", {"assessed_after": moment})

    assert response.status_code == 400
    assert "assessed_after" in response.json()


def test_a_timeline_until_the_last_day_there_is_is_a_400(world, client_for):
    patient = journey.make_patient(world)

    response = client_for(world.clinician).get(f"/api/v1/patients/{patient.id}/timeline/", {"until": "9999-12-31"})

    assert response.status_code == 400
    assert "until" in response.json()


@pytest.mark.parametrize(
    "assessed_at",
    [
        "0001-01-01T00:00:00+05:00",  # not a moment at all in UTC
        "0001-01-01T00:00:00Z",
        "1899-12-31T23:59:59Z",
        "9999-12-31T23:59:59Z",
        "2200-01-01T00:00:00Z",
    ],
)
def test_a_date_before_1900_or_after_2199_is_a_400_naming_the_field(assessed_at, world, client_for):
    patient = journey.make_patient(world)

    response = client_for(world.clinician).post(
        "/api/v1/assessments/", {"patient": patient.id, "assessed_at": assessed_at, "temperature_c": 37}
    )

    assert response.status_code == 400, response.json()
    assert "assessed_at" in response.json()
    assert not Assessment.objects.exists()


def test_a_birth_date_in_year_1_is_a_400_naming_the_field(world, client_for):
    response = client_for(world.clinician).post("/api/v1/patients/", patient_body(birth_date="0001-01-01"))

    assert response.status_code == 400
    assert response.json() == {"birth_date": ["Must be between 1900-01-01 and 2199-12-31."]}


# Numbers out of range ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"dose_cells": 2**63}, "dose_cells"),  # past bigint
        ({"dose_cells": 10**40}, "dose_cells"),
        ({"volume_ml": 1e20}, "volume_ml"),  # past numeric(8, 1)
        ({"volume_ml": "NaN"}, "volume_ml"),
        ({"volume_ml": "Infinity"}, "volume_ml"),
    ],
)
def test_a_number_beyond_its_column_is_a_400_naming_the_field(extra, field, world, client_for):
    batch = journey.started_batch(world)
    body = {"unit_id": "U-BIG", "batch": batch.id, "dose_cells": 10**8, "volume_ml": 50} | extra

    response = client_for(world.manufacturing).post("/api/v1/units/", body)

    assert response.status_code == 400
    assert field in response.json()
    assert not Unit.objects.filter(unit_id="U-BIG").exists()


@pytest.mark.parametrize("raw", ["NaN", '{"volume_ml": NaN}', '{"volume_ml": Infinity}', '{"a": -Infinity}'])
def test_nan_and_infinity_in_json_are_a_400(raw, world, client_for):
    response = client_for(world.manufacturing).post("/api/v1/units/", raw, content_type="application/json")

    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/patients/99999999999999999999999999999/",
        "/api/v1/batches/9223372036854775808/",
        "/api/v1/patients/?patient=1e400",
        "/api/v1/assessments/?patient=99999999999999999999999999&min_crs_grade=-99999999999999999999",
    ],
)
def test_huge_ids_and_numbers_in_a_url_are_no_server_error(path, world, client_for):
    response = client_for(world.integration).get(path)

    assert response.status_code in {200, 400, 404}
    assert response["Content-Type"] == "application/json"


# Bodies too large, too deep, of an unknown type -------------------------------------------------------------------


def test_a_body_larger_than_the_limit_is_a_413(world, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = client_for(world.clinician).post("/api/v1/patients/", patient_body(given_name="x" * 20_000))

    assert response.status_code == 413
    assert "10000 bytes" in response.json()["detail"]
    assert not Patient.objects.exists()


def test_a_form_with_too_many_fields_is_a_413(world, client_for, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    form = "&".join(f"f{n}=x" for n in range(50))

    response = client_for(world.clinician).post(
        "/api/v1/patients/", form, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 413


def test_a_json_body_nested_too_deeply_is_a_400(world, client_for):
    response = client_for(world.clinician).post(
        "/api/v1/patients/", "[" * 100_000 + "]" * 100_000, content_type="application/json"
    )

    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_a_body_of_an_unknown_media_type_is_a_415(world, client_for):
    response = client_for(world.clinician).post(
        "/api/v1/patients/", json.dumps(patient_body()), content_type="text/plain"
    )

    assert response.status_code == 415


def test_a_file_upload_is_a_400(world, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_for(world.clinician).post(
        "/api/v1/patients/", {**patient_body(), "scan": SimpleUploadedFile("a.txt", b"x")}, format="multipart"
    )

    assert response.status_code == 400
    assert not Patient.objects.exists()


def test_a_text_longer_than_its_limit_is_a_400_naming_the_field(world, client_for):
    batch = journey.started_batch(world)
    body = {"kind": "selection", "started_at": timezone.now().isoformat(), "note": "n" * 10_001}

    response = client_for(world.manufacturing).post(f"/api/v1/batches/{batch.id}/steps/", body)

    assert response.status_code == 400
    assert "note" in response.json()


# Exports -------------------------------------------------------------------------------------------------------


def test_an_export_larger_than_the_limit_is_a_409_saying_how_to_narrow_it(world, client_for, settings):
    order, administration = journey.infused_patient(world, days_ago=3)
    client = client_for(world.clinician)
    settings.EXPORT_MAX_RECORDS = 2

    timeline = client.get(f"/api/v1/patients/{order.patient_id}/timeline/")
    fhir = client.get(f"/api/v1/patients/{order.patient_id}/fhir/", HTTP_ACCEPT="application/json")

    assert timeline.status_code == fhir.status_code == 409
    assert timeline.json()["code"] == fhir.json()["code"] == "export_too_large"
    assert "since" in timeline.json()["detail"]
    narrowed = client.get(
        f"/api/v1/patients/{order.patient_id}/timeline/",
        {"since": (administration.administered_at - timedelta(minutes=1)).isoformat(), "kind": "administration"},
    )
    assert narrowed.status_code == 200
