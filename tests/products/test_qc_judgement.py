"""QC through the services: every valid result counts, a failure is set aside only by QA's signed invalidation,
and a failing result after release holds the batch at once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.choices import BatchStatus, HoldStatus
from products.errors import (
    AlreadyInvalidated,
    BatchClosed,
    BatchOnHold,
    InvalidSignature,
    PermissionDeniedError,
    QCFailed,
    QCIncomplete,
    UnitOnHold,
)
from products.models import Batch, Hold, QCResult, Signature, SignatureFailure
from products.services.batches import batch_reject, qc_result_invalidate, qc_result_record
from products.services.units import custody_record
from tests import holds, journey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


def retest(world, batch: Batch, test: str, value: object, hours_ago: float = 1) -> QCResult:
    return qc_result_record(
        actor=world.manufacturing,
        batch_id=batch.id,
        test=test,
        value=value,
        tested_at=timezone.now() - timedelta(hours=hours_ago),
    )


def result_of(batch: Batch, test: str, passed: bool) -> QCResult:
    return QCResult.objects.get(batch=batch, spec__test=test, passed=passed)


def invalidate(world, result: QCResult, *, signer=None, password=None, reason="Positive control failed"):
    return qc_result_invalidate(
        batch_id=result.batch_id,
        result_id=result.id,
        signer=signer or world.qa,
        password=password or world.password,
        meaning="Test invalid: laboratory error",
        reason=reason,
    )


def quarantined(world, results: dict | None = None) -> Batch:
    batch = journey.started_batch(world)
    journey.make_unit(world, batch, unit_id=f"U-{batch.lot_number}")
    journey.record_qc(world, batch, results)
    return batch


# --- release judges every valid result -------------------------------------------------------------------


def test_a_passing_retest_does_not_outweigh_a_failure(world):
    batch = quarantined(world, {**journey.PASSING_QC, "sterility": "positive"})
    retest(world, batch, "sterility", "negative")

    with pytest.raises(QCFailed) as refused:
        journey.release(world, batch)

    assert refused.value.extra["tests"] == ["sterility"]
    assert QCResult.objects.filter(batch=batch, spec__test="sterility").count() == 2  # the retest added one
    assert Batch.objects.get(id=batch.id).status == BatchStatus.QUARANTINE


def test_a_failing_retest_after_a_pass_keeps_the_batch_failed(world):
    batch = quarantined(world)
    retest(world, batch, "viability", 40)

    with pytest.raises(QCFailed):
        journey.release(world, batch)


def test_once_qa_invalidates_the_failure_the_valid_retest_releases(world):
    batch = quarantined(world, {**journey.PASSING_QC, "sterility": "positive"})
    retest(world, batch, "sterility", "negative")

    invalidated = invalidate(world, result_of(batch, "sterility", passed=False))
    released = journey.release(world, batch)

    assert released.status == BatchStatus.RELEASED
    assert invalidated.invalidated and invalidated.invalidated_by == world.qa
    assert invalidated.invalidation_reason == "Positive control failed"
    assert invalidated.invalidated_at == invalidated.invalidation_signature.signed_at
    signature = invalidated.invalidation_signature
    assert (signature.signer, signature.meaning, signature.statement) == (
        world.qa,
        "invalidation",
        "Test invalid: laboratory error",
    )
    # the result stays on record, as it was
    assert QCResult.objects.filter(batch=batch).count() == 5 and invalidated.passed is False


def test_a_test_with_only_invalidated_results_has_no_result(world):
    batch = quarantined(world)

    invalidate(world, result_of(batch, "endotoxin", passed=True), reason="Sample mixed up with another lot")

    with pytest.raises(QCIncomplete) as refused:
        journey.release(world, batch)
    assert refused.value.extra["tests"] == ["endotoxin"]


# --- invalidation: QA's, signed, once, with a reason -----------------------------------------------------


def test_invalidating_twice_is_refused_and_keeps_the_first_signature(world):
    batch = quarantined(world, {**journey.PASSING_QC, "sterility": "positive"})
    result = result_of(batch, "sterility", passed=False)
    invalidate(world, result)

    with pytest.raises(AlreadyInvalidated) as refused:
        invalidate(world, result, reason="Again")

    assert refused.value.code == "already_invalidated"
    result.refresh_from_db()
    assert result.invalidation_reason == "Positive control failed"
    assert Signature.objects.filter(meaning="invalidation").count() == 1


def test_a_result_of_a_rejected_batch_is_not_invalidated(world):
    batch = quarantined(world, {**journey.PASSING_QC, "sterility": "positive"})
    batch_reject(batch_id=batch.id, signer=world.qa, password=world.password, meaning="Rejected", reason="Sterility")

    with pytest.raises(BatchClosed):
        invalidate(world, result_of(batch, "sterility", passed=False))

    assert not QCResult.objects.filter(invalidated=True).exists() and not SignatureFailure.objects.exists()


@pytest.mark.parametrize("who", ["manufacturing", "coordinator", "superuser"])
def test_only_the_qa_role_itself_invalidates(world, who):
    signer = (
        UserFactory(username="root", is_superuser=True, is_staff=True) if who == "superuser" else getattr(world, who)
    )
    batch = quarantined(world, {**journey.PASSING_QC, "sterility": "positive"})

    with pytest.raises(PermissionDeniedError):
        invalidate(world, result_of(batch, "sterility", passed=False), signer=signer)

    assert not QCResult.objects.filter(invalidated=True).exists() and not Signature.objects.exists()


def test_a_wrong_password_invalidates_nothing_and_stays_on_record(world):
    batch = quarantined(world, {**journey.PASSING_QC, "sterility": "positive"})
    result = result_of(batch, "sterility", passed=False)

    with pytest.raises(InvalidSignature):
        invalidate(world, result, password="not-mine")

    result.refresh_from_db()
    assert not result.invalidated and result.invalidation_signature is None
    assert SignatureFailure.objects.filter(signer=world.qa, record=f"qc_result:{result.id}").count() == 1


def test_an_invalidation_needs_the_reason_the_test_is_invalid(world):
    batch = quarantined(world, {**journey.PASSING_QC, "sterility": "positive"})

    with pytest.raises(ValidationError) as refused:
        invalidate(world, result_of(batch, "sterility", passed=False), reason="  ")

    assert "reason" in refused.value.message_dict
    assert not QCResult.objects.filter(invalidated=True).exists()


# --- after release ---------------------------------------------------------------------------------------


def released(world) -> Batch:
    batch = quarantined(world)
    return journey.release(world, batch)


def test_a_passing_result_after_release_is_recorded_and_holds_nothing(world):
    batch = released(world)

    result = retest(world, batch, "viability", 88)

    assert result.passed and not Hold.objects.exists()
    assert Batch.objects.get(id=batch.id).status == BatchStatus.RELEASED


def test_a_failing_result_after_release_holds_the_batch_at_once(world):
    batch = released(world)
    unit = batch.units.get()

    result = retest(world, batch, "endotoxin", "7.5")

    hold = Hold.objects.get()
    assert (hold.batch, hold.unit, hold.kind, hold.status) == (batch, None, "oos", HoldStatus.OPEN)
    assert hold.opened_by is None and hold.qc_result == result
    assert "endotoxin = 7.5 (at most 5 EU/mL)" in hold.reason
    with pytest.raises(UnitOnHold):
        custody_record(
            actor=world.integration,
            unit_id=unit.unit_id,
            event="shipped",
            at=timezone.now(),
            facility=world.hospital,
            temperature_c=Decimal("-150"),
        )


def test_invalidating_after_release_the_only_valid_result_of_a_test_holds_the_batch(world):
    batch = released(world)

    result = invalidate(world, result_of(batch, "viability", passed=True), reason="Wrong sample tested")

    hold = Hold.objects.get()
    assert (hold.batch, hold.kind, hold.qc_result) == (batch, "deviation", result)
    assert "no valid result remains for viability" in hold.reason


def test_invalidating_after_release_a_result_with_a_valid_retest_holds_nothing(world):
    batch = released(world)
    retest(world, batch, "viability", 91)

    invalidate(world, QCResult.objects.filter(batch=batch, spec__test="viability").earliest("id"))

    assert not Hold.objects.exists()


def test_a_result_for_a_rejected_batch_is_refused(world):
    batch = quarantined(world)
    batch_reject(batch_id=batch.id, signer=world.qa, password=world.password, meaning="Rejected", reason="Spill")

    with pytest.raises(BatchClosed):
        retest(world, batch, "viability", 90)


# --- the product: a thaw use-by is required --------------------------------------------------------------


@pytest.mark.parametrize("minutes", [None, 0])
def test_a_cryopreserved_product_needs_its_use_by_after_thaw(world, minutes):
    with pytest.raises(ValidationError) as refused:
        journey.make_product(world, code="no-thaw", shelf_life_after_thaw_minutes=minutes)

    assert list(refused.value.message_dict) == ["shelf_life_after_thaw_minutes"]


def test_a_fresh_product_needs_no_thaw_use_by(world):
    product = journey.make_product(world, code="fresh", cryopreserved=False, shelf_life_after_thaw_minutes=None)
    assert product.pk is not None


def test_a_batch_under_an_open_hold_is_not_released_until_qa_decides_it(world):
    batch = quarantined(world)
    deviation = holds.hold(world, batch=batch, kind="deviation", reason="Incubator alarm during expansion")

    with pytest.raises(BatchOnHold) as refused:
        journey.release(world, batch)

    assert refused.value.extra["holds"] == [deviation.id] and f"hold {deviation.id}: deviation" in refused.value.detail
    assert Batch.objects.get(id=batch.id).status == BatchStatus.QUARANTINE and not Signature.objects.filter(
        meaning="release"
    )
    holds.decide(world, deviation, rationale="Alarm was a sensor fault; temperature log normal")
    assert journey.release(world, batch).status == BatchStatus.RELEASED
