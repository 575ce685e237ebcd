"""Manufacturing batches: creation, processing steps, QC results, release and rejection (signed)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from products.choices import BatchStatus, FacilityKind, HoldKind, HoldStatus, Role, SignatureMeaning, Source
from products.errors import (
    AlreadyInvalidated,
    BatchClosed,
    BatchOnHold,
    IllegalTransition,
    NotCollected,
    NotReleasable,
    QCFailed,
    QCIncomplete,
    ReviewChanged,
)
from products.models import Batch, ChainOfIdentity, Collection, Facility, ProcessingStep, QCResult, ReleaseTest
from products.rules import batches as batch_rules
from products.rules import qc
from products.rules.batches import BatchEvent
from products.rules.chains import ChainEvent
from products.rules.hashchain import digest
from products.services.chains import chain_apply
from products.services.collections import not_in_future
from products.services.guards import require_member, require_role
from products.services.holds import hold_open_by_system
from products.services.signatures import require_signing_role, signature_capture, signature_verify

MANUFACTURING_ROLES = (Role.MANUFACTURING, Role.COORDINATOR, Role.INTEGRATION)
# The batch's disposition is products.rules.batches' table; these are re-exported for the pages that ask.
OPEN = batch_rules.RECORDS_OPEN
QC_RECORDABLE = batch_rules.QC_RECORDABLE
_REFUSED = {
    batch_rules.ILLEGAL: IllegalTransition,
    batch_rules.CLOSED: BatchClosed,
    batch_rules.NOT_RELEASABLE: NotReleasable,
}


@transaction.atomic
def batch_create(
    *,
    actor: User,
    chain: ChainOfIdentity | None = None,
    collection: Collection | None = None,
    lot_number: str,
    facility: Facility,
    started_at: datetime,
    now: datetime | None = None,
) -> Batch:
    """A batch for one chain (autologous), or from a donor's collection (allogeneic: many units, no chain until
    each unit is allocated to an order)."""
    now = now or timezone.now()
    require_role(actor, *MANUFACTURING_ROLES, action="start batches")
    require_member(actor, facility)
    if facility.kind != FacilityKind.MANUFACTURING:
        raise ValidationError({"facility": ["A batch is made at a manufacturing facility."]})
    if (chain is None) == (collection is None):
        raise ValidationError(
            {"coi": ["Give the COI of the order (or, for an allogeneic product, the donor's collection): one."]}
        )
    not_in_future(started_at, "started_at", now=now)
    if Batch.objects.filter(lot_number=lot_number).exists():
        raise ValidationError({"lot_number": [f"Lot {lot_number} already exists."]})
    if collection is not None:
        return _donor_batch_create(collection, lot_number=lot_number, facility=facility, started_at=started_at, now=now)
    assert chain is not None
    chain = ChainOfIdentity.objects.select_for_update(of=("self",)).select_related("product").get(id=chain.id)
    if chain.product.source == Source.AUTOLOGOUS and not chain.collections.exists():
        raise NotCollected(f"Chain {chain.coi} has no collection: an autologous batch starts from the patient's cells.")
    # An autologous product is made for one patient: one open or released batch per chain.
    if chain.product.source == Source.AUTOLOGOUS and chain.batches.exclude(status=BatchStatus.REJECTED).exists():
        raise IllegalTransition(f"Chain {chain.coi} already has a batch; reject it before starting another.")
    chain_apply(chain=chain, event=ChainEvent.MANUFACTURING_STARTED)
    return Batch.objects.create(
        chain=chain,
        product=chain.product,
        lot_number=lot_number,
        facility=facility,
        started_at=started_at,
        status_changed_at=now,
    )


def _donor_batch_create(
    collection: Collection, *, lot_number: str, facility: Facility, started_at: datetime, now: datetime
) -> Batch:
    # The collection's row lock orders batches started from the same cells at the same moment.
    collection = Collection.objects.select_for_update(of=("self",)).select_related("product").get(id=collection.id)
    if collection.donor_id is None or collection.product is None:
        raise ValidationError({"collection": ["Not a donor's collection: give the order's COI instead."]})
    if started_at < collection.collected_at:
        raise ValidationError({"started_at": ["A batch cannot start before its cells were collected."]})
    return Batch.objects.create(
        collection=collection,
        product=collection.product,
        lot_number=lot_number,
        facility=facility,
        started_at=started_at,
        status_changed_at=now,
    )


def _lock_open_batch(batch_id: int) -> Batch:
    batch = Batch.objects.select_for_update(of=("self",)).select_related("product", "facility").get(id=batch_id)
    if not batch_rules.records_open(batch.status):
        raise BatchClosed(f"Batch {batch.lot_number} is {batch.status}.")
    return batch


@transaction.atomic
def batch_step_record(
    *,
    actor: User,
    batch_id: int,
    kind: str,
    started_at: datetime,
    ended_at: datetime | None = None,
    parameters: dict[str, Any] | None = None,
    note: str = "",
    now: datetime | None = None,
) -> ProcessingStep:
    require_role(actor, *MANUFACTURING_ROLES, action="record processing steps")
    batch = _lock_open_batch(batch_id)
    require_member(actor, batch.facility)
    not_in_future(started_at, "started_at", now=now)
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


def _lock_batch_for_qc(batch_id: int) -> Batch:
    batch = Batch.objects.select_for_update(of=("self",)).select_related("product", "facility").get(id=batch_id)
    if not batch_rules.qc_recordable(batch.status):
        raise BatchClosed(f"Batch {batch.lot_number} is {batch.status}: its QC record is closed.")
    return batch


def _value_text(result: QCResult) -> str:
    return f"{result.value_numeric.normalize():f}" if result.value_numeric is not None else result.value_text


def _criterion_text(spec: ReleaseTest) -> str:
    if spec.expected:
        return f"expected {spec.expected}"
    unit = f" {spec.unit}" if spec.unit else ""
    low = f"{spec.min_value.normalize():f}" if spec.min_value is not None else None
    high = f"{spec.max_value.normalize():f}" if spec.max_value is not None else None
    if low is not None and high is not None:
        return f"{low} to {high}{unit}"
    return f"at least {low}{unit}" if low is not None else f"at most {high}{unit}"


@transaction.atomic
def qc_result_record(
    *,
    actor: User,
    batch_id: int,
    test: str,
    value: object,
    unit: str = "",
    tested_at: datetime,
    now: datetime | None = None,
) -> QCResult:
    """Add a QC result (a retest adds one too: it never replaces an earlier result)."""
    now = now or timezone.now()
    require_role(actor, Role.MANUFACTURING, Role.QA, Role.COORDINATOR, Role.INTEGRATION, action="record QC results")
    batch = _lock_batch_for_qc(batch_id)
    require_member(actor, batch.facility)
    spec = ReleaseTest.objects.filter(product=batch.product, test=test).first()
    if spec is None:
        known = ", ".join(batch.product.release_spec.values_list("test", flat=True))
        raise ValidationError({"test": [f"Not in the release specification of {batch.product.code}: {known}."]})
    if unit and spec.unit and unit != spec.unit:
        raise ValidationError({"unit": [f"Test {test} is reported in {spec.unit}."]})
    not_in_future(tested_at, "tested_at", now=now)
    criterion = criterion_of(spec)
    try:
        normalised = qc.normalise_value(criterion, value)
    except qc.InvalidValue as exc:
        raise ValidationError({"value": [str(exc)]}) from exc
    result = QCResult.objects.create(
        batch=batch,
        spec=spec,
        value_numeric=normalised if isinstance(normalised, Decimal) else None,  # a numeric test's value
        value_text="" if isinstance(normalised, Decimal) else normalised,
        unit=unit or spec.unit,
        tested_at=tested_at,
        passed=qc.passes(criterion, normalised),
        recorded_by=actor,
    )
    if batch.status == BatchStatus.IN_PROCESS:
        # Testing the final product means manufacturing is done: the batch waits in quarantine for release.
        _set_status(batch, BatchEvent.COMPLETED, now=now)
    elif batch.status == BatchStatus.RELEASED and not result.passed:
        # 21 CFR 610.1: a released lot with a failing result is no longer known to meet its specification.
        hold_open_by_system(
            batch=batch,
            kind=HoldKind.OOS,
            reason=f"Out-of-specification result after release: {test} = {_value_text(result)} "
            f"({_criterion_text(spec)}), tested {tested_at:%Y-%m-%d %H:%M} UTC.",
            qc_result=result,
            at=now,
        )
    return result


def batch_verdict(batch: Batch) -> qc.Verdict:
    """The release verdict over every QC result of the batch that has not been invalidated."""
    spec_tests = list(batch.product.release_spec.values_list("test", flat=True))
    results = [
        qc.Result(test=test, passed=passed, invalidated=invalidated)
        for test, passed, invalidated in batch.qc_results.values_list("spec__test", "passed", "invalidated")
    ]
    return qc.judge(spec_tests, results)


def qc_result_invalidate(
    *,
    batch_id: int,
    result_id: int,
    signer: User,
    password: str,
    meaning: str,
    reason: str,
    now: datetime | None = None,
) -> QCResult:
    """QA sets a result aside, signed, with the investigation's finding (FDA guidance on OOS results: only a
    test shown invalid for causes unrelated to the product). The result stays on record, marked invalidated."""
    require_signing_role(signer, action="invalidate QC results")
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the test is invalid (the investigation's finding)."]})
    # Rights and state before the password: a refused caller learns nothing about it and locks nobody.
    _check_invalidation(_qc_result_of(batch_id, result_id), signer)
    signature_verify(signer=signer, password=password, record=f"qc_result:{result_id}", now=now)
    return _qc_result_invalidate(
        batch_id=batch_id,
        result_id=result_id,
        signer=signer,
        password=password,
        meaning=meaning,
        reason=reason,
        now=now,
    )


def _qc_result_of(batch_id: int, result_id: int) -> QCResult:
    return QCResult.objects.select_related("batch__facility", "spec").get(id=result_id, batch_id=batch_id)


def _check_invalidation(result: QCResult, signer: User) -> None:
    batch = result.batch
    require_member(signer, batch.facility)
    if batch.status == BatchStatus.REJECTED:
        raise BatchClosed(f"Batch {batch.lot_number} is rejected: its disposition and QC record are final.")
    if result.invalidated:
        raise AlreadyInvalidated(
            f"QC result {result.pk} ({result.spec.test}) was invalidated already, "
            f"at {result.invalidated_at:%Y-%m-%d %H:%M} UTC."
        )


@transaction.atomic
def _qc_result_invalidate(
    *,
    batch_id: int,
    result_id: int,
    signer: User,
    password: str,
    meaning: str,
    reason: str,
    now: datetime | None,
) -> QCResult:
    # The batch lock orders an invalidation with a release, a new result or another invalidation of the batch.
    batch = Batch.objects.select_for_update(of=("self",)).select_related("product", "facility").get(id=batch_id)
    result = (
        QCResult.objects.select_for_update(of=("self",))
        .select_related("batch__facility", "spec")
        .get(id=result_id, batch_id=batch_id)
    )
    _check_invalidation(result, signer)
    signature = signature_capture(
        signer=signer,
        password=password,
        meaning=SignatureMeaning.INVALIDATION,
        statement=meaning,
        record=f"qc_result:{result.pk}:{batch.lot_number}:{result.spec.test}",
        now=now,
    )
    result.invalidated = True
    result.invalidated_at = signature.signed_at
    result.invalidated_by = signer
    result.invalidation_reason = reason.strip()
    result.invalidation_signature = signature
    result.save(
        update_fields=[
            "invalidated",
            "invalidated_at",
            "invalidated_by",
            "invalidation_reason",
            "invalidation_signature",
        ]
    )
    if batch.status == BatchStatus.RELEASED:
        verdict = batch_verdict(batch)
        if verdict.missing:
            # Released on a result now set aside: until a valid retest, nothing of the batch is used.
            hold_open_by_system(
                batch=batch,
                kind=HoldKind.DEVIATION,
                reason=f"QC result {result.pk} ({result.spec.test}) invalidated after release: no valid result "
                f"remains for {', '.join(verdict.missing)}. Retest before use.",
                qc_result=result,
                at=signature.signed_at,
            )
    return result


def _next_status(batch: Batch, event: BatchEvent) -> BatchStatus:
    """Where the event moves the batch (products.rules.batches), or its refusal (409)."""
    to = batch_rules.transition(status=batch.status, event=event)
    if isinstance(to, batch_rules.Refusal):
        raise _REFUSED[to.code](f"Batch {batch.lot_number} {to.reason}.")
    return to


def _set_status(batch: Batch, event: BatchEvent, *, now: datetime | None) -> None:
    """Move a batch the caller has locked as the event says."""
    batch.status = _next_status(batch, event)
    batch.status_changed_at = now or timezone.now()
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
def batch_complete(*, actor: User, batch_id: int, now: datetime | None = None) -> Batch:
    """Manufacturing is finished: the batch waits in quarantine for QC and release."""
    require_role(actor, *MANUFACTURING_ROLES, action="complete batches")
    batch = _lock_open_batch(batch_id)
    require_member(actor, batch.facility)
    _set_status(batch, BatchEvent.COMPLETED, now=now)
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
            # A result set aside is still seen: the signer judged it as invalidated, and why.
            "invalidated": result.invalidated,
            "invalidation_reason": result.invalidation_reason,
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
    *,
    batch_id: int,
    signer: User,
    password: str,
    meaning: str,
    reviewed_digest: str | None = None,
    now: datetime | None = None,
) -> Batch:
    """QA releases a batch whose every specified test passed, with an electronic signature (21 CFR 11.50).

    The signature keeps the specification and the QC results it judged, with their digest; given the
    `reviewed_digest` of the page the signer read, a change since is refused (409 review_changed).
    """
    require_signing_role(signer, action="release batches")
    signature_verify(signer=signer, password=password, record=f"batch:{batch_id}", now=now)
    return _batch_release(
        batch_id=batch_id,
        signer=signer,
        password=password,
        meaning=meaning,
        reviewed_digest=reviewed_digest,
        now=now,
    )


@transaction.atomic
def _batch_release(
    *,
    batch_id: int,
    signer: User,
    password: str,
    meaning: str,
    reviewed_digest: str | None,
    now: datetime | None,
) -> Batch:
    batch = (
        Batch.objects.select_for_update(of=("self",)).select_related("product", "facility", "chain").get(id=batch_id)
    )
    require_member(signer, batch.facility)
    _next_status(batch, BatchEvent.RELEASED)  # refused before anything is signed
    review = _bind_review(batch, reviewed_digest)
    verdict = batch_verdict(batch)
    if verdict.missing:
        raise QCIncomplete(f"No result yet for: {', '.join(verdict.missing)}.", tests=verdict.missing)
    if verdict.failed:
        raise QCFailed(f"Failed: {', '.join(verdict.failed)}.", tests=verdict.failed)
    held = list(batch.holds.filter(status=HoldStatus.OPEN).order_by("id").values_list("id", "kind"))
    if held:
        # An open deviation or recall on the lot is an unresolved question about it: answered before release.
        described = "; ".join(f"hold {hold_id}: {HoldKind(kind).label.lower()}" for hold_id, kind in held)
        raise BatchOnHold(
            f"Batch {batch.lot_number} is on hold ({described}): QA decides the hold before the batch is released.",
            holds=[hold_id for hold_id, _ in held],
        )
    batch.release_signature = signature_capture(
        signer=signer,
        password=password,
        meaning=SignatureMeaning.RELEASE,
        statement=meaning,
        record=f"batch:{batch.id}:{batch.lot_number}",
        reviewed=review,
        now=now,
    )
    _set_status(batch, BatchEvent.RELEASED, now=now)
    if batch.chain_id is not None:
        chain = ChainOfIdentity.objects.select_for_update().get(id=batch.chain_id)
        chain_apply(chain=chain, event=ChainEvent.RELEASED)
    return batch


def batch_reject(
    *,
    batch_id: int,
    signer: User,
    password: str,
    meaning: str,
    reason: str,
    reviewed_digest: str | None = None,
    now: datetime | None = None,
) -> Batch:
    require_signing_role(signer, action="reject batches")
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the batch is rejected."]})
    signature_verify(signer=signer, password=password, record=f"batch:{batch_id}", now=now)
    return _batch_reject(
        batch_id=batch_id,
        signer=signer,
        password=password,
        meaning=meaning,
        reason=reason,
        reviewed_digest=reviewed_digest,
        now=now,
    )


@transaction.atomic
def _batch_reject(
    *,
    batch_id: int,
    signer: User,
    password: str,
    meaning: str,
    reason: str,
    reviewed_digest: str | None,
    now: datetime | None,
) -> Batch:
    batch = Batch.objects.select_for_update(of=("self",)).select_related("product", "facility").get(id=batch_id)
    require_member(signer, batch.facility)
    _next_status(batch, BatchEvent.REJECTED)  # refused before anything is signed
    batch.rejection_signature = signature_capture(
        signer=signer,
        password=password,
        meaning=SignatureMeaning.REJECTION,
        statement=meaning,
        record=f"batch:{batch.id}:{batch.lot_number}",
        reviewed=_bind_review(batch, reviewed_digest),
        now=now,
    )
    batch.rejection_reason = reason.strip()
    _set_status(batch, BatchEvent.REJECTED, now=now)
    return batch
