"""Lookups leak nothing about other facilities (CONTRACT 1.1, Trust): wherever a request names a record, by COI,
unit id, patient id, batch id or any other key, in its URL or its body, a record of another facility and a
record that does not exist get exactly the same answer: the same status and the same body (but for the key
itself, where the message repeats it). Through HTTP and through the services the admin also calls."""

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.services.holds import hold_open
from products.services.units import custody_record
from tests import journey
from tests.factories import TEST_PASSWORD
from tracker.services.administrations import administration_record

pytestmark = pytest.mark.django_db

UNKNOWN_COI = "COIW999926999999X"
UNKNOWN_UNIT = "BAG-NOWHERE"


@dataclass
class Records:
    """The callers are `world`'s users; `other` holds another hospital's patient, order, batch and unit, made at
    another factory, which none of them may see. `unknown_id` is an id no record has."""

    world: journey.World
    other: journey.Elsewhere
    unknown_id: int


@pytest.fixture
def records(world) -> Records:
    other = journey.elsewhere(world, journey.product_of(world))
    return Records(world=world, other=other, unknown_id=other.batch.id + other.patient.id + 10_000)


def answer(response, key: object) -> tuple[int, str]:
    """Status and body, with the key the request named replaced (a message may repeat it)."""
    return response.status_code, json.dumps(response.json(), sort_keys=True).replace(str(key), "<key>")


# In the URL ---------------------------------------------------------------------------------------------------

URL_CASES = [
    ("GET", "/api/v1/patients/{patient}/", "clinician"),
    ("GET", "/api/v1/patients/{patient}/timeline/", "clinician"),
    ("GET", "/api/v1/patients/{patient}/fhir/", "clinician"),
    ("GET", "/api/v1/patients/{patient}/weights/", "clinician"),
    ("POST", "/api/v1/patients/{patient}/weights/", "clinician"),
    ("GET", "/api/v1/orders/{coi}/", "clinician"),
    ("GET", "/api/v1/collections/{collection}/", "coordinator"),
    ("GET", "/api/v1/batches/{batch}/", "manufacturing"),
    ("GET", "/api/v1/batches/{batch}/steps/", "manufacturing"),
    ("POST", "/api/v1/batches/{batch}/steps/", "manufacturing"),
    ("GET", "/api/v1/batches/{batch}/qc-results/", "manufacturing"),
    ("POST", "/api/v1/batches/{batch}/qc-results/", "manufacturing"),
    ("GET", "/api/v1/batches/{batch}/review/", "qa"),
    ("POST", "/api/v1/batches/{batch}/complete/", "manufacturing"),
    ("POST", "/api/v1/batches/{batch}/release/", "qa"),
    ("POST", "/api/v1/batches/{batch}/reject/", "qa"),
    ("GET", "/api/v1/units/{unit}/", "integration"),
    ("GET", "/api/v1/units/{unit}/custody/", "integration"),
    ("POST", "/api/v1/units/{unit}/custody/", "integration"),
]


def keys(records: Records, *, known: bool) -> dict[str, object]:
    other = records.other
    if known:
        return {
            "patient": other.patient.id,
            "coi": other.order.coi,
            "collection": other.order.chain.collections.get().id,
            "batch": other.batch.id,
            "unit": other.unit.unit_id,
        }
    unknown = records.unknown_id
    return {"patient": unknown, "coi": UNKNOWN_COI, "collection": unknown, "batch": unknown, "unit": UNKNOWN_UNIT}


@pytest.mark.parametrize(("method", "template", "user"), URL_CASES)
def test_another_facilitys_record_in_a_url_answers_as_one_that_does_not_exist(
    method, template, user, records, client_for
):
    client = client_for(getattr(records.world, user))
    slot = template.split("{")[1].split("}")[0]
    answers = []
    for known in (True, False):
        key = keys(records, known=known)[slot]
        path = template.replace(f"{{{slot}}}", str(key))
        response = client.get(path) if method == "GET" else client.post(path, {})
        answers.append(answer(response, key))

    invisible, unknown = answers
    assert invisible == unknown
    assert invisible[0] == 404


# In the body ---------------------------------------------------------------------------------------------------


def administration(*, coi: str, unit: str) -> dict:
    return {
        "coi": coi,
        "unit": unit,
        "administered_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "route": "iv_infusion",
        "scanned_unit": unit,
        "scanned_patient": "M-1",
        "scanned_birth_date": "1970-01-01",
        "verifier_username": "coord",
        "verifier_password": TEST_PASSWORD,
    }


def at() -> str:
    return (timezone.now() - timedelta(hours=1)).isoformat()


BODY_CASES = {
    # path, user, the field naming the record, the rest of the body, the kind of key
    "administration coi": ("/api/v1/administrations/", "clinician", "coi", "coi"),
    "administration unit": ("/api/v1/administrations/", "clinician", "unit", "unit"),
    "order patient": ("/api/v1/orders/", "clinician", "patient", "patient"),
    "assessment patient": ("/api/v1/assessments/", "clinician", "patient", "patient"),
    "intervention patient": ("/api/v1/interventions/", "clinician", "patient", "patient"),
    "adverse event patient": ("/api/v1/adverse-events/", "clinician", "patient", "patient"),
    "follow-up patient": ("/api/v1/follow-up-visits/", "clinician", "patient", "patient"),
    "conditioning coi": ("/api/v1/conditioning/", "clinician", "coi", "coi"),
    "collection coi": ("/api/v1/collections/", "coordinator", "coi", "coi"),
    "batch coi": ("/api/v1/batches/", "manufacturing", "coi", "coi"),
    "unit batch": ("/api/v1/units/", "manufacturing", "batch", "batch"),
    "hold unit": ("/api/v1/holds/", "qa", "unit", "unit"),
    "hold batch": ("/api/v1/holds/", "qa", "batch", "batch"),
}

REST_OF_BODY = {
    "/api/v1/orders/": {"product": "cart-x"},
    "/api/v1/assessments/": {"assessed_at": "{at}", "temperature_c": 37},
    "/api/v1/interventions/": {"given_at": "{at}", "kind": "tocilizumab", "drug": "tocilizumab"},
    "/api/v1/adverse-events/": {
        "term": "crs",
        "grade": 2,
        "onset_at": "{at}",
        "aware_at": "{at}",
        "serious": False,
        "expected": True,
    },
    "/api/v1/follow-up-visits/": {"visit_date": "2026-01-01"},
    "/api/v1/conditioning/": {
        "regimen": "Flu/Cy",
        "drug": "fludarabine",
        "dose": 30,
        "given_on": "2026-01-01",
        "day_relative": -5,
    },
    "/api/v1/collections/": {"din": "{din}", "facility": "apheresis", "collected_at": "{at}", "method": "apheresis"},
    "/api/v1/batches/": {"lot_number": "LOT-LEAK", "facility": "factory", "started_at": "{at}"},
    "/api/v1/units/": {"unit_id": "BAG-LEAK", "dose_cells": 10**8, "volume_ml": 50},
    "/api/v1/holds/": {"kind": "recall", "reason": "Checking"},
}


@pytest.mark.parametrize("case", sorted(BODY_CASES))
def test_another_facilitys_record_named_in_a_body_answers_as_one_that_does_not_exist(case, records, client_for):
    path, user, field, kind = BODY_CASES[case]
    client = client_for(getattr(records.world, user))
    rest = {
        name: (value.replace("{at}", at()).replace("{din}", journey.make_din()) if isinstance(value, str) else value)
        for name, value in REST_OF_BODY.get(path, {}).items()
    }
    answers = []
    for known in (True, False):
        key = keys(records, known=known)[kind]
        if path == "/api/v1/administrations/":
            body = administration(coi=UNKNOWN_COI, unit=UNKNOWN_UNIT) | {field: key}
        elif path == "/api/v1/holds/":
            body = rest | {"batch": None, "unit": None, field: key}
        else:
            body = rest | {field: key}
        answers.append(answer(client.post(path, body), key))

    invisible, unknown = answers
    assert invisible == unknown
    assert invisible[0] == 400
    assert field in json.loads(invisible[1])


def test_a_list_filtered_by_another_facilitys_key_is_as_empty_as_by_an_unknown_one(records, client_for):
    client = client_for(records.world.integration)
    other = records.other
    for path, known, unknown in [
        ("/api/v1/units/?coi={}", other.order.coi, UNKNOWN_COI),
        ("/api/v1/units/?batch={}", other.batch.id, records.unknown_id),
        ("/api/v1/orders/?patient={}", other.patient.id, records.unknown_id),
        ("/api/v1/batches/?lot_number={}", other.batch.lot_number, "LOT-NONE"),
        ("/api/v1/holds/?unit={}", other.unit.unit_id, UNKNOWN_UNIT),
    ]:
        assert answer(client.get(path.format(known)), known) == answer(client.get(path.format(unknown)), unknown)
        assert client.get(path.format(known)).json()["results"] == []


# Through the services (the admin calls them with what a user typed) -----------------------------------------------


def refusal(call) -> dict:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.message_dict


def test_administration_record_refuses_another_facilitys_order_as_an_unknown_one(records):
    world, other = records.world, records.other
    order, unit = journey.bedside(world)

    def record(coi: str, unit_id: str):
        return lambda: administration_record(
            actor=world.clinician,
            coi=coi,
            unit_id=unit_id,
            administered_at=timezone.now() - timedelta(minutes=1),
            route="iv_infusion",
            scanned_unit=unit_id,
            scanned_patient=order.patient.mrn,
            scanned_birth_date=order.patient.birth_date,
            verifier_username="coord",
            verifier_password=TEST_PASSWORD,
        )

    invisible = refusal(record(other.order.coi, unit.unit_id))
    unknown = refusal(record(UNKNOWN_COI, unit.unit_id))
    assert json.dumps(invisible).replace(other.order.coi, "<key>") == json.dumps(unknown).replace(UNKNOWN_COI, "<key>")
    invisible = refusal(record(order.coi, other.unit.unit_id))
    unknown = refusal(record(order.coi, UNKNOWN_UNIT))
    assert json.dumps(invisible).replace(other.unit.unit_id, "<key>") == json.dumps(unknown).replace(
        UNKNOWN_UNIT, "<key>"
    )
    assert set(invisible) == {"unit"}


def test_hold_open_refuses_another_facilitys_unit_or_batch_as_an_unknown_one(records):
    world, other = records.world, records.other
    for key, known, unknown in [
        ("unit_id", other.unit.unit_id, UNKNOWN_UNIT),
        ("batch_id", other.batch.id, records.unknown_id),
    ]:
        answers = [
            json.dumps(
                refusal(lambda k=key, v=value: hold_open(actor=world.qa, kind="recall", reason="r", **{k: v}))
            ).replace(str(value), "<key>")
            for value in (known, unknown)
        ]
        assert answers[0] == answers[1]


def test_custody_record_refuses_another_facilitys_unit_as_an_unknown_one(records):
    world, other = records.world, records.other
    answers = [
        json.dumps(
            refusal(
                lambda u=unit_id: custody_record(
                    actor=world.integration,
                    unit_id=u,
                    event="received",
                    at=timezone.now() - timedelta(minutes=5),
                    facility=world.hospital,
                    temperature_c=Decimal("-150"),
                )
            )
        ).replace(unit_id, "<key>")
        for unit_id in (other.unit.unit_id, UNKNOWN_UNIT)
    ]
    assert answers[0] == answers[1]
    assert "unit" in json.loads(answers[0])
