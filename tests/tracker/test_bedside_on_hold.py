"""A unit under an open hold (its own or its batch's) is not given: 409 `unit_on_hold`, before any password is tried,
through the service and through HTTP; once QA releases the hold, the same bag may be given."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.errors import UnitOnHold
from products.models import Signature, SignatureFailure
from tests import holds, journey
from tracker.models import Administration, ScheduledCheck
from tracker.services.administrations import administration_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


def administer(world, order, unit, **overrides):
    fields = {
        "actor": world.clinician,
        "coi": order.coi,
        "unit_id": unit.unit_id,
        "administered_at": timezone.now() - timedelta(minutes=1),
        "route": "iv_infusion",
        "scanned_unit": unit.unit_id,
        "scanned_patient": order.patient.mrn,
        **journey.bedside_check(world, order, world.clinician),
    }
    fields.update(overrides)
    return administration_record(**fields)


def api_body(world, order, unit, password: str) -> dict:
    return {
        "coi": order.coi,
        "unit": unit.unit_id,
        "administered_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "route": "iv_infusion",
        "scanned_unit": unit.unit_id,
        "scanned_patient": order.patient.mrn,
        "scanned_birth_date": order.patient.birth_date.isoformat(),
        "verifier_username": world.coordinator.username,
        "verifier_password": password,
    }


def test_a_bag_whose_batch_is_on_hold_is_not_given_and_no_password_is_tried(world):
    order, unit = journey.bedside(world)
    hold = holds.hold(world, batch=unit.batch, kind="recall", reason="Supplier recall of the transduction vector")

    with pytest.raises(UnitOnHold) as refused:
        administer(world, order, unit, verifier_password="wrong")

    assert refused.value.extra["holds"] == [hold.id]
    assert not Administration.objects.exists() and not ScheduledCheck.objects.exists()
    # The hold is found before the verifier's password: a wrong one leaves no failure to count towards a lock.
    assert not SignatureFailure.objects.exists() and not Signature.objects.filter(meaning="verification").exists()


def test_once_qa_releases_the_hold_the_same_bag_is_given(world):
    order, unit = journey.bedside(world)
    holds.decide(world, holds.hold(world, batch=unit.batch))

    administration = administer(world, order, unit)

    assert administration.unit_id == unit.id
    assert ScheduledCheck.objects.filter(administration=administration).exists()


def test_the_api_answers_409_unit_on_hold_whatever_the_password(world, api_client_for):
    order, unit = journey.bedside(world)
    holds.hold(world, batch=unit.batch)
    client = api_client_for(world.clinician)

    answers = [
        client.post("/api/v1/administrations/", api_body(world, order, unit, password))
        for password in ("wrong", world.password)
    ]

    assert [(r.status_code, r.json()["code"]) for r in answers] == [(409, "unit_on_hold"), (409, "unit_on_hold")]
    assert answers[0].json() == answers[1].json()
    assert not Administration.objects.exists() and not SignatureFailure.objects.exists()
