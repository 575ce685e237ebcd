"""The batch page as a batch record: the release specification beside the results (each marked pass or fail,
invalidated ones struck through), the processing steps in order, the units with their custody state and holds, and
the signatures with what they reviewed, above the page's raw fields. A fixed number of queries, however long the
batch's history."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.urls import reverse

from products.admin.signing import invalidation_html, qc_value, review_html
from products.choices import HoldStatus
from products.models import Batch, Hold, ProcessingStep, QCResult, ReleaseTest, Signature, Unit
from products.rules import qc
from products.selectors import with_open_holds


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def specification_text(spec: ReleaseTest) -> str:
    """The acceptance criterion as a reader says it: 70 to 100 %, ≥ 70 %, ≤ 5 EU/mL, negative."""
    unit = f" {spec.unit}" if spec.unit else ""
    if spec.expected:
        return spec.expected
    if spec.min_value is not None and spec.max_value is not None:
        return f"{_number(spec.min_value)} to {_number(spec.max_value)}{unit}"
    if spec.min_value is not None:
        return f"≥ {_number(spec.min_value)}{unit}"
    assert spec.max_value is not None
    return f"≤ {_number(spec.max_value)}{unit}"


@dataclass
class TestRecord:
    """One test of the specification and every result recorded for it, judged as release judges them."""

    spec: ReleaseTest
    criterion: str
    results: list[dict[str, Any]] = field(default_factory=list)
    verdict: str = "no result"  # met / failed / no result


@dataclass(frozen=True)
class SignatureRecord:
    what: str
    signature: Signature
    review: str | None  # what it judged (a release or rejection: the specification and every result), as signed


def _test_verdict(test: str, results: list[QCResult]) -> str:
    verdict = qc.judge([test], [qc.Result(test=test, passed=r.passed, invalidated=r.invalidated) for r in results])
    return "failed" if verdict.failed else "no result" if verdict.missing else "met"


def batch_record(batch: Batch) -> dict[str, Any]:
    """What the batch page shows above its fields (templates/admin/products/batch/change_form.html)."""
    specs = list(ReleaseTest.objects.filter(product_id=batch.product_id).order_by("test"))
    results = list(
        QCResult.objects.filter(batch=batch)
        .select_related("spec", "recorded_by", "invalidated_by", "invalidation_signature__signer")
        .order_by("tested_at", "id")
    )
    tests = {spec.pk: TestRecord(spec=spec, criterion=specification_text(spec)) for spec in specs}
    by_test: dict[int, list[QCResult]] = {}
    for result in results:
        by_test.setdefault(result.spec_id, []).append(result)
        tests[result.spec_id].results.append(
            {
                "result": result,
                "value": qc_value(result),
                "unit": result.unit or result.spec.unit,
                "invalidation": invalidation_html(result),
            }
        )
    for spec_id, test in tests.items():
        test.verdict = _test_verdict(test.spec.test, by_test.get(spec_id, []))

    steps = list(ProcessingStep.objects.filter(batch=batch).select_related("operator").order_by("started_at", "id"))
    units = list(
        with_open_holds(Unit.objects.filter(batch=batch))
        .select_related("current_facility", "destination")
        .order_by("unit_id")
    )
    holds = list(
        Hold.objects.filter(Q(batch=batch) | Q(unit__batch=batch))
        .select_related("unit", "opened_by", "decision_signature__signer")
        .order_by("opened_at", "id")
    )

    signatures: list[SignatureRecord] = []
    if batch.release_signature is not None:
        signatures.append(SignatureRecord("Release", batch.release_signature, review_html(batch.release_signature)))
    if batch.rejection_signature is not None:
        signatures.append(
            SignatureRecord("Rejection", batch.rejection_signature, review_html(batch.rejection_signature))
        )
    for result in results:
        if result.invalidation_signature is not None:
            signatures.append(
                SignatureRecord(
                    f"Invalidation of QC result {result.spec.test} = {qc_value(result)}",
                    result.invalidation_signature,
                    None,
                )
            )
    for hold in holds:
        if hold.decision_signature is not None:
            held = f"unit {hold.unit.unit_id}" if hold.unit is not None else "the batch"
            signatures.append(
                SignatureRecord(f"Decision on hold {hold.pk} ({held}): {hold.decision}", hold.decision_signature, None)
            )
    signatures.sort(key=lambda record: record.signature.signed_at)

    return {
        "tests": list(tests.values()),
        "steps": steps,
        "units": [
            {
                "unit": unit,
                "url": reverse("admin:products_unit_change", args=[unit.pk]),
                "open_holds": list(getattr(unit, "open_hold_ids", []) or []),
            }
            for unit in units
        ],
        "holds": [
            {
                "hold": hold,
                "url": reverse("admin:products_hold_change", args=[hold.pk]),
                "open": hold.status == HoldStatus.OPEN,
            }
            for hold in holds
        ],
        "signatures": signatures,
    }
