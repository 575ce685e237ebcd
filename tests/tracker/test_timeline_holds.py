"""Holds, QA's decisions and QC invalidations on the patient's timeline (selector, API and page)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from products.models import QCResult
from products.services.batches import qc_result_invalidate, qc_result_record
from tests import holds, journey
from tracker.timeline import patient_timeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


def held_and_invalidated(world):
    """A chain whose sterility test failed, was invalidated by QA and passed on retest; the bag then had an
    excursion in transit, which QA released."""
    order = journey.make_order(world)
    journey.collect(world, order)
    batch = journey.start_batch(world, order)
    unit = journey.make_unit(world, batch)
    journey.record_qc(world, batch, {**journey.PASSING_QC, "sterility": "positive"})
    qc_result_record(
        actor=world.manufacturing,
        batch_id=batch.id,
        test="sterility",
        value="negative",
        tested_at=timezone.now() - timedelta(days=2),
    )
    failure = QCResult.objects.get(batch=batch, spec__test="sterility", passed=False)
    qc_result_invalidate(
        batch_id=batch.id,
        result_id=failure.id,
        signer=world.qa,
        password=world.password,
        meaning="Laboratory error",
        reason="Positive control grew",
    )
    journey.release(world, batch)
    unit = journey.ship(world, unit, temperature_c=Decimal("-95"))
    excursion = holds.decide(world, unit.holds.get(), rationale="Logger: 3 minutes above limit")
    return order, failure, excursion


def test_the_hold_and_its_decision_are_on_the_patients_timeline(world):
    order, _failure, excursion = held_and_invalidated(world)
    elsewhere = another_patients_batch_hold(world)

    events = [e for e in patient_timeline(patient=order.patient).events if e.kind == "hold"]

    assert [e.record for e in events] == [f"hold:{excursion.id}"] * 2  # not hold:{elsewhere.id}
    assert elsewhere.id != excursion.id
    opened, decided = events
    assert opened.at == excursion.opened_at and opened.level == "alert"
    assert opened.summary.startswith(f"Unit {excursion.unit.unit_id} put on hold automatically (temperature excursion)")
    assert decided.at == excursion.decided_at and decided.level == "notice"
    assert f"released for use by {world.qa.get_full_name()} (e-signed): Logger: 3 minutes" in decided.summary
    assert decided.detail | {"hold": None} == {
        "hold": None,
        "unit": excursion.unit.unit_id,
        "lot_number": excursion.unit.batch.lot_number,
        "hold_kind": "excursion",
        "status": "released",
        "reason": excursion.reason,
        "opened_by": "system",
        "decision": "release",
        "rationale": "Logger: 3 minutes above limit",
        "signed_by": world.qa.get_full_name(),
    }


def another_patients_batch_hold(world):
    """Another patient's batch under a hold: never on the first patient's timeline."""
    order = journey.make_order(world, journey.product_of(world), journey.make_patient(world, mrn="MRN-OTHER"))
    unit = journey.released_unit(world, order, unit_id="BAG-OTHER")
    return holds.hold(world, batch=unit.batch)


def test_an_invalidated_result_stays_and_its_invalidation_is_told(world):
    order, failure, _ = held_and_invalidated(world)

    events = [e for e in patient_timeline(patient=order.patient).events if e.record == f"qc_result:{failure.id}"]

    recorded, invalidated = events
    assert recorded.summary.endswith("— later invalidated") and recorded.level == "info"
    assert recorded.detail["invalidated"] is True and recorded.detail["invalidation_reason"] == "Positive control grew"
    failure.refresh_from_db()
    assert invalidated.at == failure.invalidated_at and invalidated.level == "notice"
    assert f"invalidated by {world.qa.get_full_name()} (e-signed): Positive control grew" in invalidated.summary


def test_the_api_and_the_page_show_holds_and_filter_on_them(world, client, api_client_for):
    order, _failure, _excursion = held_and_invalidated(world)
    api = api_client_for(world.clinician)

    body = api.get(f"/api/v1/patients/{order.patient.id}/timeline/?kind=hold").json()

    assert [e["kind"] for e in body["events"]] == ["hold", "hold"]
    assert body["events"][1]["detail"]["decision"] == "release"
    client.force_login(world.clinician)
    page = client.get(f"/patients/{order.patient.id}/").content.decode()
    assert "put on hold automatically" in page and "released for use by" in page
    assert 'value="hold"' in page  # a filter for holds
