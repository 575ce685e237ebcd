"""Manufacturing batches: creation, processing steps, QC results, release and rejection (signed)."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from products.choices import BatchStatus, CoiStatus, FacilityKind, Role, SignatureMeaning, Source
from products.errors import (
    BatchClosed,
    IllegalTransition,
    NotCollected,
    NotReleasable,
    QCFailed,
    QCIncomplete,
    ReviewChanged,
)
from products.models import Batch, ChainOfIdentity, Facility, ProcessingStep, QCResult, ReleaseTest
from products.rules import qc
from products.rules.hashchain import digest
from products.services.chains import chain_advance
from products.services.collections import not_in_future
from products.services.guards import require_member, require_role
from products.services.signatures import require_signing_role, signature_capture, signature_verify

MANUFACTURING_ROLES = (Role.MANUFACTURING, Role.COORDINATOR, Role.INTEGRATION)
OPEN = {BatchStatus.IN_PROCESS, BatchStatus.QUARANTINE}


@transaction.atomic
def batch_create(
    *, actor: AbstractBaseUser, chain: ChainOfIdentity, lot_number: str, facility: Facility, started_at: datetime
) -> Batch:
    require_role(actor, *MANUFACTURING_ROLES, action="start batches")
    require_member(actor, facility)
    if facility.kind != FacilityKind.MANUFACTURING:
        raise ValidationError({"facility": ["A batch is made at a manufacturing facility."]})
    not_in_future(started_at, "started_at")
    if Batch.objects.filter(lot_number=lot_number).exists():
        raise ValidationError({"lot_number": [f"Lot {lot_number} already exists."]})
    chain = ChainOfIdentity.objects.select_for_update(of=("self",)).select_related("product").get(id=chain.id)
    if chain.product.source == Source.AUTOLOGOUS and not chain.collections.exists():
        raise NotCollected(f"Chain {chain.coi} has no collection: an autologous batch starts from the patient's cells.")
    # An autologous product is made for one patient: one open or released batch per chain.
    if chain.product.source == Source.AUTOLOGOUS and chain.batches.exclude(status=BatchStatus.REJECTED).exists():
        raise IllegalTransition(f"Chain {chain.coi} already has a batch; reject it before starting another.")
    chain_advance(chain=chain, to=CoiStatus.MANUFACTURING)
    return Batch.objects.create(
        chain=chain,
        product=chain.product,
        lot_number=lot_number,
        facility=facility,
        started_at=started_at,
        status_changed_at=timezone.now(),
    )


def _lock_open_batch(batch_id: int) -> Batch:
    batch = Batch.objects.select_for_update(of=("self",)).select_related("product", "facility").get(id=batch_id)
    if batch.status not in OPEN:
        raise BatchClosed(f"Batch {batch.lot_number} is {batch.status}.")
    return batch


@transaction.atomic
def batch_step_record(
    *,
    actor: AbstractBaseUser,
    batch_id: int,
    kind: str,
    started_at: datetime,
    ended_at: datetime | None = None,
    parameters: dict[str, Any] | None = None,
    note: str = "",
) -> ProcessingStep:
    require_role(actor, *MANUFACTURING_ROLES, action="record processing steps")
    batch = _lock_open_batch(batch_id)
    require_member(actor, batch.facility)
    not_in_future(started_at, "started_at")
    if ended_at is not None and ended_at < started_at:
        raise ValidationError({"ended_at": ["A step cannot end before it starts."]})
    return ProcessingStep.objects.create(
        batch=batch,
        kind=kind,
        operator=actor,
        started_at=started_at,
        ended_at=ended_at,
        parameters=parameters or {},
        note=note,
    )


def criterion_of(spec: ReleaseTest) -> qc.Criterion:
    return qc.Criterion(test=spec.test, min_value=spec.min_value, max_value=spec.max_value, expected=spec.expected)


@transaction.atomic
def qc_result_record(
    *, actor: AbstractBaseUser, batch_id: int, test: str, value: object, unit: str = "", tested_at: datetime
) -> QCResult:
    require_role(actor, Role.MANUFACTURING, Role.QA, Role.COORDINATOR, Role.INTEGRATION, action="record QC results")
    batch = _lock_open_batch(batch_id)
    require_member(actor, batch.facility)
    spec = ReleaseTest.objects.filter(product=batch.product, test=test).first()
    if spec is None:
        known = ", ".join(batch.product.release_spec.values_list("test", flat=True))
        raise ValidationError({"test": [f"Not in the release specification of {batch.product.code}: {known}."]})
    if unit and spec.unit and unit != spec.unit:
        raise ValidationError({"unit": [f"Test {test} is reported in {spec.unit}."]})
    not_in_future(tested_at, "tested_at")
    criterion = criterion_of(spec)
    try:
        normalised = qc.normalise_value(criterion, value)
    except qc.InvalidValue as exc:
        raise ValidationError({"value": [str(exc)]}) from exc
    result = QCResult.objects.create(
        batch=batch,
        spec=spec,
        value_numeric=normalised if criterion.is_numeric else None,
        value_text="" if criterion.is_numeric else normalised,
        unit=unit or spec.unit,
        tested_at=tested_at,
        passed=qc.passes(criterion, normalised),
        recorded_by=actor,
    )
    if batch.status == BatchStatus.IN_PROCESS:
        # Testing the final product means manufacturing is done: the batch waits in quarantine for release.
        _set_status(batch, BatchStatus.QUARANTINE)
    return result


def batch_verdict(batch: Batch) -> qc.Verdict:
    spec_tests = list(batch.product.release_spec.values_list("test", flat=True))
    latest: dict[str, bool] = {}
    for test, passed in batch.qc_results.order_by("tested_at", "id").values_list("spec__test", "passed"):
        latest[test] = passed
    return qc.judge(spec_tests, latest)


def _set_status(batch: Batch, status: str) -> None:
    batch.status = status
    batch.status_changed_at = timezone.now()
    batch.save(
        update_fields=[
            "status",
            "status_changed_at",
            "release_signature",
            "rejection_signature",
            "rejection_reason",
            "updated_at",
        ]
    )


@transaction.atomic
def batch_complete(*, actor: AbstractBaseUser, batch_id: int) -> Batch:
    """Manufacturing is finished: the batch waits in quarantine for QC and release."""
    require_role(actor, *MANUFACTURING_ROLES, action="complete batches")
    batch = _lock_open_batch(batch_id)
    require_member(actor, batch.facility)
    if batch.status != BatchStatus.IN_PROCESS:
        raise IllegalTransition(f"Batch {batch.lot_number} is already {batch.status}.")
    _set_status(batch, BatchStatus.QUARANTINE)
    return batch


def release_review(batch: Batch) -> dict[str, Any]:
    """What QA judges to release or reject a batch, as the signature keeps it: the release specification and
    every QC result of the batch (a retest adds a result, so the whole history is what was seen)."""
    specification = [
        {
            "test": spec.test,
            "name": spec.name,
            "unit": spec.unit,
            "min": spec.min_value,
            "max": spec.max_value,
            "expected": spec.expected,
        }
        for spec in batch.product.release_spec.order_by("test")
    ]
    results = [
        {
            "id": result.id,
            "test": result.spec.test,
            "value": result.value,
            "unit": result.unit,
            "tested_at": result.tested_at,
            "passed": result.passed,
        }
        for result in batch.qc_results.select_related("spec").order_by("tested_at", "id")
    ]
    return {
        "batch": {"id": batch.id, "lot_number": batch.lot_number, "product": batch.product.code},
        "specification": specification,
        "qc_results": results,
    }


def release_review_digest(batch: Batch) -> str:
    return digest(release_review(batch))


def _bind_review(batch: Batch, reviewed_digest: str | None) -> dict[str, Any]:
    """The review the signature will keep; refused when the signer saw another one (a result came in since)."""
    review = release_review(batch)
    if reviewed_digest is not None and reviewed_digest != digest(review):
        raise ReviewChanged()
    return review


def batch_release(
    *, batch_id: int, signer: AbstractBaseUser, password: str, meaning: str, reviewed_digest: str | None = None
) -> Batch:
    """QA releases a batch whose every specified test passed, with an electronic signature (21 CFR 11.50).

    The signature keeps the specification and the QC results it judged, with their digest; given the
    `reviewed_digest` of the page the signer read, a change since is refused (409 review_changed).
    """
    require_signing_role(signer, action="release batches")
    signature_verify(signer=signer, password=password, record=f"batch:{batch_id}")
    return _batch_release(
        batch_id=batch_id, signer=signer, password=password, meaning=meaning, reviewed_digest=reviewed_digest
    )


@transaction.atomic
def _batch_release(
    *, batch_id: int, signer: AbstractBaseUser, password: str, meaning: str, reviewed_digest: str | None
) -> Batch:
    batch = (
        Batch.objects.select_for_update(of=("self",)).select_related("product", "facility", "chain").get(id=batch_id)
    )
    require_member(signer, batch.facility)
    if batch.status not in OPEN:
        raise NotReleasable(f"Batch {batch.lot_number} is {batch.status}.")
    review = _bind_review(batch, reviewed_digest)
    verdict = batch_verdict(batch)
    if verdict.missing:
        raise QCIncomplete(f"No result yet for: {', '.join(verdict.missing)}.", tests=verdict.missing)
    if verdict.failed:
        raise QCFailed(f"Failed: {', '.join(verdict.failed)}.", tests=verdict.failed)
    batch.release_signature = signature_capture(
        signer=signer,
        password=password,
        meaning=SignatureMeaning.RELEASE,
        statement=meaning,
        record=f"batch:{batch.id}:{batch.lot_number}",
        reviewed=review,
    )
    _set_status(batch, BatchStatus.RELEASED)
    if batch.chain is not None:
        chain = ChainOfIdentity.objects.select_for_update().get(id=batch.chain_id)
        chain_advance(chain=chain, to=CoiStatus.RELEASED)
    return batch


def batch_reject(
    *,
    batch_id: int,
    signer: AbstractBaseUser,
    password: str,
    meaning: str,
    reason: str,
    reviewed_digest: str | None = None,
) -> Batch:
    require_signing_role(signer, action="reject batches")
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the batch is rejected."]})
    signature_verify(signer=signer, password=password, record=f"batch:{batch_id}")
    return _batch_reject(
        batch_id=batch_id,
        signer=signer,
        password=password,
        meaning=meaning,
        reason=reason,
        reviewed_digest=reviewed_digest,
    )


@transaction.atomic
def _batch_reject(
    *, batch_id: int, signer: AbstractBaseUser, password: str, meaning: str, reason: str, reviewed_digest: str | None
) -> Batch:
    batch = Batch.objects.select_for_update(of=("self",)).select_related("product", "facility").get(id=batch_id)
    require_member(signer, batch.facility)
    if batch.status not in OPEN:
        raise NotReleasable(f"Batch {batch.lot_number} is {batch.status}.")
    batch.rejection_signature = signature_capture(
        signer=signer,
        password=password,
        meaning=SignatureMeaning.REJECTION,
        statement=meaning,
        record=f"batch:{batch.id}:{batch.lot_number}",
        reviewed=_bind_review(batch, reviewed_digest),
    )
    batch.rejection_reason = reason.strip()
    _set_status(batch, BatchStatus.REJECTED)
    return batch
